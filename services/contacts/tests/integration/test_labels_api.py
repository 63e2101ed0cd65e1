"""Labels through the contacts API on the real MongoDB server (read models fed by hand; e2e runs the worker)."""
from crm_platform.message_bus import EventsToBus

from .conftest import headers


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


def test_create_rename_list_and_delete_labels(client, container):
    created = client.post("/v1/labels", json={"name": "Fournisseur"}, headers=headers())
    assert created.status_code == 201 and created.get_json() == {"key": "fournisseur", "name": "Fournisseur"}
    assert client.post("/v1/labels", json={"name": "Fournisseur"}, headers=headers()).status_code == 409
    renamed = client.patch("/v1/labels/fournisseur", json={"name": "Fournisseurs"}, headers=headers())
    assert renamed.get_json() == {"key": "fournisseur", "name": "Fournisseurs"}
    client.post("/v1/labels", json={"name": "Client"}, headers=headers())
    project_all(container)
    assert client.get("/v1/labels", headers=headers()).get_json()["items"] == [
        {"key": "client", "name": "Client"}, {"key": "fournisseur", "name": "Fournisseurs"}]
    assert client.get("/v1/labels", headers=headers("acct-2")).get_json()["items"] == []
    assert client.delete("/v1/labels/fournisseur", headers=headers()).status_code == 204
    assert client.delete("/v1/labels/fournisseur", headers=headers()).status_code == 404
    project_all(container)
    assert [l["key"] for l in client.get("/v1/labels", headers=headers()).get_json()["items"]] == ["client"]


def test_find_or_create_is_case_insensitive_on_the_name(client, container):
    first = client.post("/v1/labels/find-or-create", json={"name": "Prospect chaud"}, headers=headers()).get_json()
    project_all(container)
    again = client.post("/v1/labels/find-or-create", json={"name": "PROSPECT CHAUD"}, headers=headers()).get_json()
    assert first == again == {"key": "prospect-chaud", "name": "Prospect chaud"}


def test_assign_and_unassign_on_a_contact(client, container):
    contact = client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers()).get_json()
    url = f"/v1/contacts/{contact['id']}/labels"
    assert client.put(f"{url}/vip", headers=headers()).status_code == 404  # no such label
    client.post("/v1/labels", json={"name": "VIP"}, headers=headers())
    assigned = client.put(f"{url}/vip", headers=headers())
    assert assigned.status_code == 200 and assigned.get_json()["labels"] == ["vip"]
    project_all(container)
    assert client.get(f"/v1/contacts/{contact['id']}", headers=headers()).get_json()["labels"] == ["vip"]
    assert client.put(f"{url}/vip", headers=headers("acct-2")).status_code == 404  # not their contact
    assert client.delete(f"{url}/vip", headers=headers()).get_json()["labels"] == []


def test_label_problems_name_the_field(client):
    response = client.post("/v1/labels", json={"name": "", "key": "Bad Key", "colour": "red"}, headers=headers())
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"name", "key", "colour"}


def test_labels_are_listed_in_the_account_order(client, container):
    for name in ("Client", "Fournisseur", "Prospect", "Partenaire"):
        client.post("/v1/labels", json={"name": name}, headers=headers())
    ordered = client.put("/v1/labels/order", json={"keys": ["prospect", "client"]}, headers=headers())
    assert ordered.status_code == 200 and ordered.get_json() == {"keys": ["prospect", "client"]}
    bad = client.put("/v1/labels/order", json={"keys": ["prospect", "inconnu"]}, headers=headers())
    assert bad.status_code == 422 and "inconnu" in bad.get_json()["errors"]["keys"][0]
    assert client.put("/v1/labels/order", json={"keys": ["prospect"]}, headers=headers("acct-2")).status_code == 422
    project_all(container)
    listed = [label["key"] for label in client.get("/v1/labels", headers=headers()).get_json()["items"]]
    assert listed == ["prospect", "client", "fournisseur", "partenaire"]


def test_a_late_clean_up_of_a_deleted_label_spares_the_contacts_given_it_after_it_came_back(client, container):
    old, new = (client.post("/v1/contacts", json={"first_name": name}, headers=headers()).get_json()["id"]
                for name in ("Ancien", "Nouveau"))
    client.post("/v1/labels", json={"name": "VIP"}, headers=headers())
    client.put(f"/v1/contacts/{old}/labels/vip", headers=headers())
    assert client.delete("/v1/labels/vip", headers=headers()).status_code == 204
    deleted = list(container.event_store.read_all())[-1]
    assert deleted.event_type == "LabelDeleted"
    assert client.post("/v1/labels", json={"name": "VIP"}, headers=headers()).status_code == 201  # back, same key
    assert client.put(f"/v1/contacts/{new}/labels/vip", headers=headers()).status_code == 200
    project_all(container)  # the read model lists both as holding "vip"
    clean_up = EventsToBus(container.codec, container.bus)  # what the worker's clean-up consumer does
    clean_up(deleted)
    clean_up(deleted)  # delivered again
    project_all(container)
    assert client.get(f"/v1/contacts/{old}", headers=headers()).get_json()["labels"] == []
    assert client.get(f"/v1/contacts/{new}", headers=headers()).get_json()["labels"] == ["vip"]
    listed = client.get("/v1/contacts?labels_any=vip", headers=headers()).get_json()["items"]
    assert [contact["id"] for contact in listed] == [new]
