"""Custom fields through the contacts API on the real MongoDB server."""
from .conftest import headers


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


def test_define_list_rename_and_remove(client, container):
    created = client.post("/v1/custom-fields", json={"name": "Date de naissance", "type": "date"}, headers=headers())
    assert created.status_code == 201
    assert created.get_json() == {"key": "date-de-naissance", "name": "Date de naissance", "type": "date"}
    client.post("/v1/custom-fields", json={"name": "Budget", "type": "number"}, headers=headers())
    assert client.post("/v1/custom-fields", json={"name": "Budget", "type": "text"}, headers=headers()).status_code == 409
    bad = client.post("/v1/custom-fields", json={"name": "", "type": "colour"}, headers=headers())
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"name", "type"}
    renamed = client.patch("/v1/custom-fields/budget", json={"name": "Budget annuel"}, headers=headers())
    assert renamed.get_json() == {"key": "budget", "name": "Budget annuel", "type": "number"}
    project_all(container)
    assert client.get("/v1/custom-fields", headers=headers()).get_json()["items"] == [
        {"key": "date-de-naissance", "name": "Date de naissance", "type": "date"},
        {"key": "budget", "name": "Budget annuel", "type": "number"}]
    assert client.get("/v1/custom-fields", headers=headers("acct-2")).get_json()["items"] == []
    # another account cannot rename or delete the field while it exists (tenancy, not a missing field)
    assert client.patch("/v1/custom-fields/budget", json={"name": "X"}, headers=headers("acct-2")).status_code == 404
    assert client.delete("/v1/custom-fields/budget", headers=headers("acct-2")).status_code == 404
    assert client.delete("/v1/custom-fields/budget", headers=headers()).status_code == 204
    project_all(container)
    assert [f["key"] for f in client.get("/v1/custom-fields", headers=headers()).get_json()["items"]] == ["date-de-naissance"]


def test_contact_values_are_checked_against_the_field_type(client, container):
    client.post("/v1/custom-fields", json={"name": "Budget", "type": "number"}, headers=headers())
    ok = client.post("/v1/contacts", json={"first_name": "L", "custom_fields": {"budget": 1200}}, headers=headers())
    assert ok.status_code == 201 and ok.get_json()["custom_fields"] == {"budget": 1200}
    wrong = client.post("/v1/contacts", json={"first_name": "L", "custom_fields": {"budget": "1200 €"}}, headers=headers())
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"] == {"custom_fields": {"budget": ["must be a number"]}}
    project_all(container)
    read = client.get(f"/v1/contacts/{ok.get_json()['id']}", headers=headers()).get_json()
    assert read["custom_fields"] == {"budget": 1200}
