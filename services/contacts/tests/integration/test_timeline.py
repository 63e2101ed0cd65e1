"""Contacts' side of a contact's timeline (issue 14, item 1) on the real Kafka and FerretDB: written through the API,
projected by the real worker, read at GET /v1/contact-timeline/{id}; scoped to the account, forgotten on erasure."""
import io

from crm_platform.testing.waiting import eventually

from .conftest import headers

TIMELINE = "/v1/contact-timeline/{contact_id}"


def timeline(client, contact_id, account="acct-1", **query):
    answer = client.get(TIMELINE.format(contact_id=contact_id), query_string=query, headers=headers(account))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


def test_the_worker_tells_what_was_done_to_a_contact_newest_first_to_its_account_only(client, container, worker):
    contact = client.post("/v1/contacts", json={"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]},
                          headers=headers()).get_json()
    assert client.patch(f"/v1/contacts/{contact['id']}", json={"revision": 1, "company": "Papier SA"},
                        headers=headers()).status_code == 200
    note = client.post(f"/v1/contacts/{contact['id']}/notes", json={"text": "Rappeler Louise lundi"},
                       headers=headers()).get_json()
    kinds = ["note.added", "contact.updated", "contact.created"]
    page = eventually(lambda: (p := timeline(client, contact["id"])) and len(p["items"]) == 3 and p,
                      "the worker's three timeline entries")
    assert [item["kind"] for item in page["items"]] == kinds and page["next_cursor"] is None
    assert page["items"][0]["subject"] == {"type": "note", "id": note["id"]}
    assert page["items"][1]["summary"] == {"fields": ["company"]}
    assert not [word for word in ("Louise", "louise@", "Papier", "Rappeler") if word in str(page["items"])]
    first = timeline(client, contact["id"], limit=2)
    rest = timeline(client, contact["id"], limit=2, cursor=first["next_cursor"])
    assert [item["id"] for item in first["items"] + rest["items"]] == [item["id"] for item in page["items"]]
    assert timeline(client, contact["id"], account="acct-2") == {"items": [], "next_cursor": None}

    assert client.post(f"/v1/contacts/{contact['id']}/erase", headers=headers()).status_code == 200
    assert timeline(client, contact["id"])["items"] == []  # at once, by the erasure itself
    # and still none once the worker has applied ContactErased (and whatever it had not applied yet)
    eventually(lambda: container.projection.collection.find_one({"_id": contact["id"], "erased": True}),
               "the worker's projection of the erasure")
    assert timeline(client, contact["id"])["items"] == []


def test_a_rebuild_after_an_erasure_tells_nothing_of_the_erased_contact(client, container):
    erased = client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers()).get_json()
    kept = client.post("/v1/contacts", json={"first_name": "Paul"}, headers=headers()).get_json()
    note = client.post(f"/v1/contacts/{erased['id']}/notes", json={"text": "Rappeler"}, headers=headers()).get_json()
    # a deletion seals nothing: its event still opens after the erasure, and must make no entry then either
    assert client.delete(f"/v1/contacts/{erased['id']}/notes/{note['id']}", headers=headers()).status_code == 204
    project_all(container)
    assert len(timeline(client, erased["id"])["items"]) == 3
    assert client.post(f"/v1/contacts/{erased['id']}/erase", headers=headers()).status_code == 200
    container.timeline.collection.delete_many({})
    project_all(container)  # every event again, the erased contact's too
    project_all(container)  # and again: the same entries, no more
    assert timeline(client, erased["id"])["items"] == []
    assert [item["kind"] for item in timeline(client, kept["id"])["items"]] == ["contact.created"]


def test_a_polled_batch_records_its_entries_at_once_and_leaves_erasures_to_the_events_in_order(client, container):
    erased = client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers()).get_json()
    kept = client.post("/v1/contacts", json={"first_name": "Paul"}, headers=headers()).get_json()
    client.post(f"/v1/contacts/{kept['id']}/notes", json={"text": "Rappeler"}, headers=headers())
    before = list(container.event_store.read_all())
    with container.projection_batch(before):  # as the worker's consumer: the batch block, no event one by one yet
        assert [item["kind"] for item in timeline(client, kept["id"])["items"]] == ["note.added", "contact.created"]
    assert client.post(f"/v1/contacts/{erased['id']}/erase", headers=headers()).status_code == 200
    container.timeline.collection.delete_many({})
    envelopes = list(container.event_store.read_all())
    with container.projection_batch(envelopes):
        pass
    for envelope in envelopes:  # then one by one what the batch left: the erasure forgets the contact
        container.apply_to_projections(envelope)
    assert timeline(client, erased["id"])["items"] == []
    assert len(timeline(client, kept["id"])["items"]) == 2


LATE_KINDS = {"NoteDeleted", "AttachmentDeleted", "ContactDeleted"}  # they seal nothing: they open after the erasure


def erased_after_its_deletions(client, container):
    """A contact whose note, file and self were deleted, then erased: its id, its ContactErased and the events of
    its deletions, to apply in the order of partitions that lag (the erasure first)."""
    contact_id = client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers()).get_json()["id"]
    note = client.post(f"/v1/contacts/{contact_id}/notes", json={"text": "Rappeler"}, headers=headers()).get_json()
    assert client.delete(f"/v1/contacts/{contact_id}/notes/{note['id']}", headers=headers()).status_code == 204
    file = client.post(f"/v1/contacts/{contact_id}/attachments", headers=headers(), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"rappeler lundi"), "notes.txt", "text/plain")})
    assert file.status_code == 201, file.get_json()
    assert client.delete(file.headers["Location"], headers=headers()).status_code == 204
    assert client.delete(f"/v1/contacts/{contact_id}", headers=headers()).status_code == 204
    assert client.post(f"/v1/contacts/{contact_id}/erase", headers=headers()).status_code == 200
    events = [e for e in container.event_store.read_all() if contact_id in (e.aggregate_id, e.payload.get("contact_id"))]
    [erasure] = [e for e in events if e.event_type == "ContactErased"]
    late = [e for e in events if e.event_type in LATE_KINDS]
    assert {e.event_type for e in late} == LATE_KINDS
    return contact_id, erasure, late


def test_a_deletion_applied_after_the_contacts_erasure_makes_no_entry(client, container):
    contact_id, erasure, late = erased_after_its_deletions(client, container)
    container.apply_to_projections(erasure)
    for envelope in late:  # their partitions lagged behind the contact's
        container.apply_to_projections(envelope)
    assert timeline(client, contact_id)["items"] == []


def test_a_polled_batch_of_deletions_after_the_contacts_erasure_makes_no_entry(client, container):
    contact_id, erasure, late = erased_after_its_deletions(client, container)
    kept = client.post("/v1/contacts", json={"first_name": "Paul"}, headers=headers()).get_json()["id"]
    theirs = [e for e in container.event_store.read_all() if e.aggregate_id == kept]
    container.apply_to_projections(erasure)
    with container.projection_batch(late + theirs):  # the batch block: written at once, nothing one by one yet
        assert timeline(client, contact_id)["items"] == []
        assert [item["kind"] for item in timeline(client, kept)["items"]] == ["contact.created"]
    for envelope in late + theirs:
        container.apply_to_projections(envelope)
    assert timeline(client, contact_id)["items"] == []
