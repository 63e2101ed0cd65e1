"""Merging contacts through the contacts API on the real MongoDB server."""
from .conftest import headers
from .test_custom_fields_api import project_all


def test_merge_through_the_api(client, container):
    def create(account="acct-1", **details):
        response = client.post("/v1/contacts", json=details, headers=headers(account))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    target = create(first_name="Louise", emails=[{"address": "louise@papier.fr"}])
    source = create(last_name="Desnotés", phones=[{"number": "03 20 06 51 26"}])
    note = client.post(f"/v1/contacts/{source['id']}/notes", json={"text": "Rappeler lundi"}, headers=headers())
    assert note.status_code == 201
    project_all(container)
    other = create(account="acct-2", first_name="Autre")
    # another account can neither merge into this account's contact nor merge this account's contacts
    assert client.post(f"/v1/contacts/{target['id']}/merge", json={"source_ids": [source["id"]]},
                       headers=headers("acct-2")).status_code == 404
    assert client.post(f"/v1/contacts/{other['id']}/merge", json={"source_ids": [source["id"]]},
                       headers=headers("acct-2")).status_code == 404
    assert client.post(f"/v1/contacts/{target['id']}/merge", json={"source_ids": []},
                       headers=headers()).status_code == 422
    merged = client.post(f"/v1/contacts/{target['id']}/merge", json={"source_ids": [source["id"]], "revision": 1},
                         headers=headers())
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    assert body["last_name"] == "Desnotés" and body["phones"][0]["e164"] == "+33320065126"
    project_all(container)
    gone = client.get(f"/v1/contacts/{source['id']}", headers=headers())
    assert gone.status_code == 404 and gone.get_json()["merged_into"] == target["id"]
    notes = client.get(f"/v1/contacts/{target['id']}/notes", headers=headers()).get_json()["items"]
    assert [n["text"] for n in notes] == ["Rappeler lundi"]
    found = client.get("/v1/contacts?q=desnotes", headers=headers()).get_json()["items"]
    assert [c["id"] for c in found] == [target["id"]]
