"""Contacts' side of a contact's timeline (issue 14, item 1) on the real Kafka and FerretDB: written through the API,
projected by the real worker, read at GET /v1/contact-timeline/{id}; scoped to the account, forgotten on erasure."""
import io

from crm_platform.testing.waiting import eventually

from contacts.domain.events import data_subject

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


def with_a_note(client, first_name):
    """A contact and a note about it: its id."""
    contact_id = client.post("/v1/contacts", json={"first_name": first_name}, headers=headers()).get_json()["id"]
    note = client.post(f"/v1/contacts/{contact_id}/notes", json={"text": "Rappeler"}, headers=headers())
    assert note.status_code == 201, note.get_json()
    return contact_id


def merged(client, target_id, source_id):
    answer = client.post(f"/v1/contacts/{target_id}/merge", json={"source_ids": [source_id]}, headers=headers())
    assert answer.status_code == 200, answer.get_json()


def ids(page):
    return {item["id"] for item in page["items"]}


def kinds(page):
    return [item["kind"] for item in page["items"]]


def test_the_worker_gives_a_merged_contact_s_history_to_the_survivor(client, container, worker):
    survivor, source = with_a_note(client, "Louise"), with_a_note(client, "Paul")
    pages = eventually(lambda: (pair := (timeline(client, survivor), timeline(client, source)))
                       and all(len(page["items"]) == 2 for page in pair) and pair, "both contacts' entries")
    merged(client, survivor, source)
    # the source's deletion is recorded a moment before its entries move: wait for all of it
    eventually(lambda: (p := timeline(client, survivor, limit=100))
                      and {"contact.merged", "contact.deleted"} <= set(kinds(p))
                      and ids(pages[0]) | ids(pages[1]) <= ids(p) and p,  # both histories, and the merge's entries
                      "the merge and both histories in the survivor's timeline")
    assert timeline(client, source) == {"items": [], "next_cursor": None}


def test_an_event_of_a_merged_contact_that_comes_after_the_merge_is_the_survivor_s(client, container):
    survivor, source = with_a_note(client, "Louise"), with_a_note(client, "Paul")
    merged(client, survivor, source)
    events = list(container.event_store.read_all())
    [late] = [e for e in events if e.event_type == "NoteAdded" and e.payload.get("contact_id") == source]
    for envelope in events:  # the note's partition lags behind its contact's: its NoteAdded comes after the merge
        if envelope.event_id != late.event_id:
            container.apply_to_projections(envelope)
    container.apply_to_projections(late)
    assert timeline(client, source)["items"] == []
    told = kinds(timeline(client, survivor, limit=100))
    assert told.count("contact.created") == 2 and told.count("note.added") == 2 and "contact.merged" in told
    assert late.event_id in ids(timeline(client, survivor, limit=100))
    project_all(container)  # delivered again: nothing goes back to the merged contact, nothing more moves
    assert timeline(client, source)["items"] == []
    assert kinds(timeline(client, survivor, limit=100)) == told


def test_a_polled_batch_records_a_merged_contact_s_late_entries_under_the_survivor(client, container):
    survivor, source = with_a_note(client, "Louise"), with_a_note(client, "Paul")
    merged(client, survivor, source)
    events = list(container.event_store.read_all())
    late = [e for e in events if e.event_type == "NoteAdded" and e.payload.get("contact_id") == source]
    for envelope in events:
        if envelope.event_id != late[0].event_id:
            container.apply_to_projections(envelope)
    with container.projection_batch(late):  # the batch block: written at once, under the survivor
        assert timeline(client, source)["items"] == []
        assert late[0].event_id in ids(timeline(client, survivor, limit=100))


def test_a_merge_into_a_contact_erased_meanwhile_forgets_the_merged_contact_s_entries(client, container):
    survivor, source = with_a_note(client, "Louise"), with_a_note(client, "Paul")
    project_all(container)
    theirs = ids(timeline(client, source))
    assert len(theirs) == 2
    merged(client, survivor, source)
    container.cipher.shred(data_subject(survivor))  # the survivor's erasure, which forgets its own entries after
    project_all(container)  # the merge's events: the source's entries are forgotten, not moved
    assert timeline(client, source)["items"] == []
    assert not theirs & ids(timeline(client, survivor, limit=100))
