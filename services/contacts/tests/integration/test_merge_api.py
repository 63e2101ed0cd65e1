"""Merging contacts through the contacts API on the real MongoDB server."""
import threading

from crm_platform.errors import Conflict, NotFound

from contacts.domain import commands

from .conftest import headers
from .test_attachments_api import PDF, upload
from .test_custom_fields_api import project_all


def create(client, account="acct-1", **details):
    response = client.post("/v1/contacts", json=details, headers=headers(account))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_merge_through_the_api(client, container):
    target = create(client, first_name="Louise", emails=[{"address": "louise@papier.fr"}])
    source = create(client, last_name="Desnotés", phones=[{"number": "03 20 06 51 26"}])
    note = client.post(f"/v1/contacts/{source['id']}/notes", json={"text": "Rappeler lundi"}, headers=headers())
    assert note.status_code == 201
    project_all(container)
    other = create(client, account="acct-2", first_name="Autre")
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


def test_a_note_and_a_file_added_just_before_a_merge_follow_it(client, container):
    target = create(client, first_name="Louise")
    source = create(client, last_name="Desnotés")
    note = client.post(f"/v1/contacts/{source['id']}/notes", json={"text": "Rappeler lundi"}, headers=headers())
    attachment = upload(client, source["id"])
    assert note.status_code == 201 and attachment.status_code == 201
    # merged at once: no worker has projected the note or the file yet
    merged = client.post(f"/v1/contacts/{target['id']}/merge", json={"source_ids": [source["id"]]}, headers=headers())
    assert merged.status_code == 200, merged.get_json()
    project_all(container)
    notes = client.get(f"/v1/contacts/{target['id']}/notes", headers=headers()).get_json()["items"]
    assert [n["id"] for n in notes] == [note.get_json()["id"]]
    listed = client.get(f"/v1/contacts/{target['id']}/attachments", headers=headers()).get_json()["items"]
    assert [a["id"] for a in listed] == [attachment.get_json()["id"]]
    content = client.get(f"/v1/contacts/{target['id']}/attachments/{attachment.get_json()['id']}/content",
                         headers=headers())
    assert content.status_code == 200 and content.data == PDF
    # sent again, the merge stores nothing more
    stored = container.event_store.commits.count_documents({})
    again = client.post(f"/v1/contacts/{target['id']}/merge", json={"source_ids": [source["id"]]}, headers=headers())
    assert again.status_code == 200 and container.event_store.commits.count_documents({}) == stored


def test_two_opposite_merges_at_once_keep_one_contact_with_both(client, container):
    bus = container.bus
    for _ in range(3):
        a = create(client, first_name="A", emails=[{"address": f"a{_}@x.fr"}])
        b = create(client, first_name="B", emails=[{"address": f"b{_}@x.fr"}])
        start, outcomes = threading.Barrier(2), []

        def merge(target, source):
            start.wait()
            try:
                bus.handle(commands.MergeContacts("acct-1", target["id"], [source["id"]]))
                outcomes.append("merged")
            except (Conflict, NotFound) as exc:
                outcomes.append(exc)
            except Exception as exc:  # recorded, so that a crash fails the test instead of dying with its thread
                outcomes.append(("crashed", exc))

        threads = [threading.Thread(target=merge, args=pair) for pair in ((a, b), (b, a))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with container.unit_of_work() as uow:
            survivors = [c for c in (uow.contacts.find("acct-1", a["id"]), uow.contacts.find("acct-1", b["id"]))
                         if not c.deleted]
        assert len(outcomes) == 2 and outcomes.count("merged") == 1, outcomes
        assert len(survivors) == 1, outcomes
        assert sorted(e["address"] for e in survivors[0].details["emails"]) == [f"a{_}@x.fr", f"b{_}@x.fr"]
