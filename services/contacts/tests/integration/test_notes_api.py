"""Notes through the contacts API on the real MongoDB server."""
from contacts.domain.events import data_subject

from .conftest import headers


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


def test_add_edit_delete_and_list_newest_first(client, container):
    contact = client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers()).get_json()
    url = f"/v1/contacts/{contact['id']}/notes"
    first = client.post(url, json={"text": "Premier appel, intéressée."}, headers=headers())
    assert first.status_code == 201 and first.get_json()["kind"] == "note"
    second = client.post(url, json={"kind": "meeting_summary", "text": "Rendez-vous à Lille"}, headers=headers()).get_json()
    note_id = first.get_json()["id"]
    edited = client.patch(f"{url}/{note_id}", json={"revision": 1, "kind": "call_summary"}, headers=headers())
    assert edited.get_json()["kind"] == "call_summary" and edited.get_json()["text"] == "Premier appel, intéressée."
    stale = client.patch(f"{url}/{note_id}", json={"revision": 1, "text": "x"}, headers=headers())
    assert stale.status_code == 409
    project_all(container)
    page = client.get(url, headers=headers()).get_json()
    assert [n["id"] for n in page["items"]] == [second["id"], note_id]
    assert page["items"][1]["revision"] == 2
    one = client.get(url, query_string={"limit": 1}, headers=headers()).get_json()
    rest = client.get(url, query_string={"limit": 1, "cursor": one["next_cursor"]}, headers=headers()).get_json()
    assert [n["id"] for n in one["items"] + rest["items"]] == [second["id"], note_id]
    assert client.delete(f"{url}/{note_id}", headers=headers()).status_code == 204
    project_all(container)
    assert [n["id"] for n in client.get(url, headers=headers()).get_json()["items"]] == [second["id"]]


def test_notes_belong_to_their_account_and_contact(client, container):
    contact = client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers()).get_json()
    url = f"/v1/contacts/{contact['id']}/notes"
    note = client.post(url, json={"text": "secret"}, headers=headers()).get_json()
    project_all(container)
    assert client.get(url, headers=headers("acct-2")).status_code == 404
    assert client.post(url, json={"text": "x"}, headers=headers("acct-2")).status_code == 404
    assert client.delete(f"{url}/{note['id']}", headers=headers("acct-2")).status_code == 404
    other = client.post("/v1/contacts", json={"first_name": "Paul"}, headers=headers()).get_json()
    assert client.delete(f"/v1/contacts/{other['id']}/notes/{note['id']}", headers=headers()).status_code == 404


def test_a_note_moves_the_contacts_last_activity_and_is_erased_with_the_contact(client, container):
    contact = client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers()).get_json()
    project_all(container)
    before = client.get(f"/v1/contacts/{contact['id']}", headers=headers()).get_json()["last_activity_at"]
    client.post(f"/v1/contacts/{contact['id']}/notes", json={"text": "Rappeler lundi"}, headers=headers())
    project_all(container)
    after = client.get(f"/v1/contacts/{contact['id']}", headers=headers()).get_json()["last_activity_at"]
    assert after > before
    assert "Rappeler" not in str(list(container.event_store.commits.find()))
    container.cipher.shred(data_subject(contact["id"]))
    container.notes_projection.collection.delete_many({})
    project_all(container)
    tombstones = list(container.notes_projection.collection.find())
    assert tombstones and all("text" not in doc and doc["deleted"] for doc in tombstones)  # rebuilt, and blank
