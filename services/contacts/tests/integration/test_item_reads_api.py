"""A created label, note, custom field, option or saved view is readable at the URL its answer names, at once,
and only by its account; changes name it too (Content-Location), which the gateway's replays read back."""
import pytest

from .conftest import headers


@pytest.fixture
def contact_id(client):
    return client.post("/v1/contacts", json={"first_name": "Rémi"}, headers=headers()).get_json()["id"]


def created_items(client, contact_id):
    """(what, create path, body, change) for each kind of item; `change` is a PATCH body or None."""
    return [
        ("label", "/v1/labels", {"name": "Fidèle"}, {"name": "Fidèles"}),
        ("note", f"/v1/contacts/{contact_id}/notes", {"kind": "note", "text": "Rappeler lundi"}, None),
        ("custom field", "/v1/custom-fields", {"name": "Pointure", "type": "number"}, {"name": "Pointure (EU)"}),
        ("option", "/v1/options/functions", {"name": "Relieur"}, {"name": "Relieuse"}),
        ("saved view", "/v1/saved-views", {"name": "Fidèles", "query": {"q": "remi"}}, None),
    ]


def test_each_created_item_is_read_back_at_its_location_by_its_account_only(client, contact_id):
    for what, path, body, _ in created_items(client, contact_id):
        created = client.post(path, json=body, headers=headers())
        assert created.status_code == 201, (what, created.get_json())
        location = created.headers["Location"]
        assert location.startswith(path + "/"), (what, location)
        read = client.get(location, headers=headers())
        assert read.status_code == 200 and read.get_json() == created.get_json(), (what, read.get_json())
        other = client.get(location, headers=headers("acct-2"))
        assert other.status_code == 404 and other.content_type == "application/problem+json", what


def test_a_change_names_the_item_it_changed(client, contact_id):
    for what, path, body, change in created_items(client, contact_id):
        location = client.post(path, json=body, headers=headers()).headers["Location"]
        if change is None:
            continue
        changed = client.patch(location, json=change, headers=headers())
        assert changed.status_code == 200 and changed.headers["Content-Location"] == location, what
        assert client.get(location, headers=headers()).get_json() == changed.get_json(), what


def test_a_deleted_or_unknown_item_is_404(client, contact_id):
    label = client.post("/v1/labels", json={"name": "Éphémère"}, headers=headers()).headers["Location"]
    assert client.delete(label, headers=headers()).status_code == 204
    for url in (label, "/v1/labels/inconnu", f"/v1/contacts/{contact_id}/notes/note:nope", "/v1/custom-fields/nope",
                "/v1/options/functions/nope", "/v1/saved-views/view:nope"):
        answer = client.get(url, headers=headers())
        assert answer.status_code == 404 and answer.content_type == "application/problem+json", url
    assert client.get("/v1/options/planets/nope", headers=headers()).status_code == 404


def test_a_note_is_read_only_under_its_own_live_contact(client, contact_id):
    other = client.post("/v1/contacts", json={"first_name": "Agathe"}, headers=headers()).get_json()["id"]
    note = client.post(f"/v1/contacts/{contact_id}/notes", json={"kind": "note", "text": "Devis"}, headers=headers())
    url = note.headers["Location"]
    assert client.get(f"/v1/contacts/{other}/notes/{note.get_json()['id']}", headers=headers()).status_code == 404
    assert client.get(url, headers=headers()).status_code == 200
    assert client.delete(f"/v1/contacts/{contact_id}", headers=headers()).status_code == 204
    assert client.get(url, headers=headers()).status_code == 404  # as the deleted contact's list of notes


def test_a_note_says_when_it_last_changed_as_its_list_does(client, contact_id, container):
    created = client.post(f"/v1/contacts/{contact_id}/notes", json={"kind": "note", "text": "Devis"}, headers=headers())
    first = created.get_json()
    assert first["updated_at"] is not None
    edited = client.patch(created.headers["Location"], json={"revision": first["revision"], "text": "Devis signé"},
                          headers=headers()).get_json()
    assert edited["updated_at"] > first["updated_at"]
    assert client.get(created.headers["Location"], headers=headers()).get_json() == edited
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)
    listed = client.get(f"/v1/contacts/{contact_id}/notes", headers=headers()).get_json()["items"]
    assert [n["updated_at"] for n in listed] == [edited["updated_at"]]
