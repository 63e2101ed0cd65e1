"""The contacts projection and crypto-shredding on the real MongoDB server."""
import io
import random
import string

from crm_platform.projection_batches import apply_in_bulk

from contacts.domain.events import data_subject
from contacts.domain import commands
from contacts.entrypoints.cli import rebuild_projection
from contacts.service_layer import handlers

from .conftest import headers


def create(container, account="acct-1", **details):
    details = details or {"first_name": "Louise", "last_name": "Desnotes", "company": "Maison du Papier",
                          "emails": [{"address": "louise@maison-papier.fr"}]}
    return handlers.create_contact(commands.CreateContact(account, details), container.unit_of_work())


def project_all(container):
    for envelope in container.event_store.read_all():
        container.projection.apply(envelope)


def test_applying_every_event_twice_gives_the_same_view(container):
    contact = create(container)
    handlers.update_contact(commands.UpdateContact("acct-1", contact.id, 1, {"company": "Papeterie"}), container.unit_of_work())
    project_all(container)
    once = container.projection.collection.find_one({"_id": contact.id})
    project_all(container)
    events = list(container.event_store.read_all())
    for envelope in reversed(events):  # and in the wrong order
        container.projection.apply(envelope)
    assert container.projection.collection.find_one({"_id": contact.id}) == once
    assert once["company"] == "Papeterie" and once["version"] == 2


def test_stored_events_hold_no_personal_data_in_clear(container):
    create(container)
    raw = str(list(container.event_store.commits.find()))
    assert "Louise" not in raw and "Desnotes" not in raw and "maison-papier" not in raw


def test_after_the_key_is_deleted_the_event_payload_cannot_be_read(container):
    contact = create(container)
    project_all(container)
    assert container.cipher.shred(data_subject(contact.id)) is True
    [envelope] = container.event_store.load(contact.id)
    try:
        container.cipher.open(envelope.payload["personal"])
        raise AssertionError("the payload was still readable after its key was deleted")
    except LookupError as erased:
        assert data_subject(contact.id) in str(erased)
    # a fresh process with the same master key cannot read it either: the key is gone from the store,
    # which keeps only the marker that the subject was erased
    vault = container.mongo.database(container.settings["KEYVAULT_DB"])["subject_keys"]
    assert [set(doc) for doc in vault.find({"_id": data_subject(contact.id)})] == [{"_id", "erased_at"}]
    # replaying the history now leaves a tombstone without personal fields
    rebuild_projection(container)
    doc = container.projection.collection.find_one({"_id": contact.id})
    assert doc["erased"] is True and "first_name" not in doc and "emails" not in doc


def test_rebuild_restores_a_lost_projection_and_never_goes_backwards(container):
    first = create(container)
    second = create(container, first_name="Paul")
    handlers.delete_contact(commands.DeleteContact("acct-1", second.id, 1), container.unit_of_work())
    project_all(container)
    expected = sorted(container.projection.collection.find(), key=lambda d: d["_id"])
    container.projection.collection.delete_many({})
    assert rebuild_projection(container) == 3
    assert sorted(container.projection.collection.find(), key=lambda d: d["_id"]) == expected
    # a live consumer already moved a document further: the rebuild keeps the newer state
    handlers.update_contact(commands.UpdateContact("acct-1", first.id, 1, {"company": "Newer"}), container.unit_of_work())
    container.projection.apply(container.event_store.load(first.id)[-1])
    rebuild_projection(container)
    assert container.projection.collection.find_one({"_id": first.id})["company"] == "Newer"


def test_a_batch_of_new_contacts_goes_into_the_read_model_in_one_insert_and_again_harmlessly(container):
    from contacts.service_layer.bulk_create import create_many

    rows = [{"first_name": f"Lot{i}", "emails": [{"address": f"lot{i}@papier.fr"}]} for i in range(20)]
    create_many(container.unit_of_work(), "acct-1", rows)
    envelopes = list(container.event_store.read_all())
    assert apply_in_bulk(container.projection, envelopes) == {e.event_id for e in envelopes}  # one insert for the 20
    inserted = list(container.projection.collection.find())
    assert apply_in_bulk(container.projection, envelopes) == {e.event_id for e in envelopes}  # found applied
    assert list(container.projection.collection.find()) == inserted
    container.projection.collection.delete_many({})
    for _ in range(2):  # through the consumer's batch block; the second time is a redelivery
        with container.projection_batch(envelopes):
            for envelope in envelopes:
                container.apply_to_projections(envelope)
    docs = list(container.projection.collection.find({"account_id": "acct-1"}))
    assert sorted(d["first_name"] for d in docs) == sorted(f"Lot{i}" for i in range(20))
    assert all(d["version"] == 1 and not d["deleted"] and d["search_text"] for d in docs)


def test_erasing_a_contact_tombstones_it_its_notes_and_files_in_the_read_models_at_once(client, container):
    contact = client.post("/v1/contacts", json={"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]},
                          headers=headers()).get_json()
    note = client.post(f"/v1/contacts/{contact['id']}/notes", json={"text": "Rappeler Louise"}, headers=headers())
    file = client.post(f"/v1/contacts/{contact['id']}/attachments", headers=headers(), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"%PDF-1.7\n" + b"x" * 300), "Contrat Louise.pdf", "application/pdf")})
    assert (note.status_code, file.status_code) == (201, 201)
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)
    seen = {envelope.event_id for envelope in container.event_store.read_all()}
    container.bus.handle(commands.EraseContact("acct-1", contact["id"]))
    [erasure] = [envelope for envelope in container.event_store.read_all() if envelope.event_id not in seen]
    container.apply_to_projections(erasure)  # the erasure's own event: no later event of the contact is needed
    doc = container.projection.collection.find_one({"_id": contact["id"]})
    assert doc["erased"] is True and doc["deleted"] is True
    assert not {"first_name", "emails", "search_text", "sort_first_name"} & set(doc)
    [note] = container.notes_projection.collection.find()
    [attachment] = container.attachments_projection.collection.find()
    assert note["deleted"] is True and note["erased"] is True and "text" not in note
    assert attachment["deleted"] is True and attachment["erased"] is True
    assert "file_name" not in attachment and "sha256" not in attachment
    assert "louise" not in str([doc, note, attachment]).casefold()
    assert client.get(f"/v1/contacts/{contact['id']}", headers=headers()).status_code == 404
    rebuild_projection(container)  # and a replay keeps them so
    assert "louise" not in str(list(container.notes_projection.collection.find()) +
                               list(container.attachments_projection.collection.find()) +
                               list(container.projection.collection.find())).casefold()


def found(client, q):
    return [c["id"] for c in client.get("/v1/contacts", query_string={"q": q}, headers=headers()).get_json()["items"]]


def stored_before_search_tokens(container, contact_id):
    """The document as releases before search tokens wrote it: phone digits, no tokens."""
    container.projection.collection.update_one(
        {"_id": contact_id}, {"$unset": {"search_tokens": ""}, "$set": {"search_phones": ["0612345678"]}})


def test_rebuild_gives_documents_stored_before_search_tokens_their_tokens(client, container):
    contact = create(container, first_name="Louise", last_name="Desnotés", phones=[{"number": "06 12 34 56 78"}])
    project_all(container)
    stored_before_search_tokens(container, contact.id)
    assert found(client, "desno") == []  # not found until rebuilt (docs/operations.md)
    rebuild_projection(container)
    doc = container.projection.collection.find_one({"_id": contact.id})
    assert "search_phones" not in doc and {"desno", "0612"} <= set(doc["search_tokens"])
    assert found(client, "desno") == found(client, "06 12") == [contact.id]


def test_rebuild_replaces_the_tokens_of_earlier_releases_by_todays(client, container):
    contact = create(container, first_name="Louise", last_name="Desnotés", phones=[{"number": "+33 6 12 34 56 78"}])
    project_all(container)
    today = container.projection.collection.find_one({"_id": contact.id})["search_tokens"]
    earlier = [t for t in today if not t.startswith("+")] + ["desnote", "33612", "33612345678", "3612345678"]
    container.projection.collection.update_one({"_id": contact.id}, {"$set": {"search_tokens": earlier}})
    assert found(client, "desnotes") == found(client, "06 12") == found(client, "+33 6 12") == [contact.id]
    assert found(client, "+33 6") == []  # until rebuilt: the country token is new (docs/operations.md)
    rebuild_projection(container)
    assert container.projection.collection.find_one({"_id": contact.id})["search_tokens"] == today
    assert not {"desnote", "33612345678", "3612345678"} & set(today)
    assert found(client, "+33 6") == found(client, "+33612345678") == [contact.id]


def test_a_tombstone_keeps_no_phone_digits_of_a_document_stored_before_search_tokens(container):
    contact = create(container, first_name="Louise", phones=[{"number": "06 12 34 56 78"}])
    project_all(container)
    stored_before_search_tokens(container, contact.id)
    handlers.delete_contact(commands.DeleteContact("acct-1", contact.id, 1), container.unit_of_work())
    project_all(container)
    doc = container.projection.collection.find_one({"_id": contact.id})
    assert doc["deleted"] is True and not {"search_phones", "search_tokens", "phones"} & set(doc)


def test_a_contact_with_every_entry_the_api_allows_is_projected_and_found(client, container):
    rng = random.Random(16)

    def letters(n):
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))

    details = {"first_name": "Louise", "last_name": "Desnotés " + letters(190), "company": letters(200),
               "emails": [{"address": f"{letters(40)}@{letters(30)}.fr"} for _ in range(50)],
               "phones": [{"number": f"+33 6 {rng.randrange(10**8):08d}"} for _ in range(50)]}
    response = client.post("/v1/contacts", json=details, headers=headers())
    assert response.status_code == 201, response.get_json()
    project_all(container)  # within the bounds of every index on the tokens (FerretDB's B-tree rows: 2,704 bytes)
    assert found(client, "louise desno") == found(client, details["emails"][0]["address"]) == [response.get_json()["id"]]
