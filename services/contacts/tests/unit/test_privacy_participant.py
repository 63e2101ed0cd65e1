"""Contacts' part in privacy requests, on the real handlers with the in-memory stores: a person's export (their
contacts, merge family, labels and custom values by name, history, notes and files) and their erasure."""
import io
from datetime import datetime
from functools import partial

import pytest
from PIL import Image

from crm_platform import request_context
from crm_platform.blobs import BlobStore
from crm_platform.contracts.privacy import ErasureRequested, SubjectExportRequested
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.privacy_exchange import ExportExchange
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts import views
from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain import commands as c
from contacts.service_layer import dispatch
from contacts.service_layer.privacy import ContactsPrivacyParticipant
from contacts.service_layer.unit_of_work import UnitOfWork

from tests.fake_mailer import FakeMailer

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40
NOW = "2026-12-02T12:00:00+00:00"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


class FakeImports:
    """The account's imports as texts, forgotten by the participant as import_erasure does it."""

    def __init__(self):
        self.texts: dict[str, str] = {}
        self.forgotten_by: dict[str, str | None] = {}

    def forget_mentioning(self, account_id, mentions, request_event):
        again = [i for i, by in self.forgotten_by.items() if request_event and by == request_event]
        found = [i for i, text in self.texts.items() if i not in self.forgotten_by and mentions.found_in(text)]
        self.forgotten_by.update(dict.fromkeys(found, request_event))
        return again + found


class World:
    """The contacts service on in-memory stores, with its privacy participant."""

    def __init__(self):
        self.store, self.keys = InMemoryEventStore(), InMemorySubjectKeyStore()
        self.cipher = PersonalDataCipher(self.keys)
        self.files = AttachmentFiles(BlobStore(InMemoryCollection(), InMemoryCollection()), self.cipher)
        claims = InMemoryIdentityClaims()
        self.uow = lambda: UnitOfWork(self.store, self.cipher, claims, self.files)
        no_read_model = lambda account, contact: []  # noqa: E731 (every item is filed in its holdings)
        self.bus = MessageBus.build(dispatch.COMMAND_HANDLERS, {}, {
            "uow": Fresh(self.uow), "find_by_name": lambda account, name: None, "notes_of": no_read_model,
            "notes_shown": lambda account, contact: self.projected_notes.get(contact, []),
            "attachment_ids_of": self._erasing, "imports": None, "uploads": None, "jobs": None, "mailer": FakeMailer(),
            "default_labels": (), "contacts_with_label": no_read_model, "contacts_with_value": no_read_model,
            "contacts_using": no_read_model})
        self.while_erasing = None  # something done once while the erasure is under way, after it found the family
        self.projected_notes: dict[str, list[dict]] = {}  # what the read models would answer
        self.listed_files: dict[str, list[str]] = {}
        self.listed_messages: dict[str, list[str]] = {}
        self.imports = FakeImports()
        self.participant = ContactsPrivacyParticipant(
            uow_factory=self.uow, bus=self.bus, notes_of=lambda account, contact: self.projected_notes.get(contact, []),
            attachment_ids_of=lambda account, contact: self.listed_files.get(contact, []),
            history_of=partial(views.history_entries, UnitOfWork.event_codec(self.cipher)),
            files=self.files, forget_imports=self.imports.forget_mentioning, import_retention_days=12,
            messages_of=lambda account, contact: self.listed_messages.get(contact, []))
        self.exchange = ExportExchange(BlobStore(InMemoryCollection(), InMemoryCollection()), self.cipher)

    def _erasing(self, account_id, contact_id):
        """The bus's attachment_ids_of: erasure.py asks it for each contact, after finding the family."""
        happening, self.while_erasing = self.while_erasing, None
        if happening:
            happening()
        return []

    def export(self, *contact_ids, account="acct-1", request_id="r1"):
        request = SubjectExportRequested(request_id, account, list(contact_ids), ["contacts"], NOW)
        return self.participant.export(request, self.exchange)

    def erase(self, *contact_ids, account="acct-1", request_id="r2", event_id=None):
        """As the consumer calls it: tracing with the request envelope's event id as causation id."""
        request = ErasureRequested(request_id, account, list(contact_ids), ["contacts"], NOW)
        trace = request_context.TraceContext(request_id="work", correlation_id="work",
                                             causation_id=event_id or f"event-of-{request_id}")
        with request_context.tracing(trace):
            return self.participant.erase(request)


@pytest.fixture
def world():
    return World()


@pytest.fixture
def louise(world):
    bus = world.bus
    bus.handle(c.CreateLabel("acct-1", "Très important", "vip"))
    bus.handle(c.AddCustomField("acct-1", "Budget annuel", "number", "budget"))
    louise = bus.handle(c.CreateContact("acct-1", {
        "first_name": "Louise", "last_name": "Papier", "emails": [{"address": "louise@papier.fr"}],
        "custom_fields": {"budget": 1200}}))
    bus.handle(c.AssignLabel("acct-1", louise.id, "vip"))
    bus.handle(c.AddNote("acct-1", louise.id, "call_summary", "Rappeler Louise lundi"))
    attachment = bus.handle(c.AddAttachment("acct-1", louise.id, "devis.pdf", "application/pdf", PDF, 10**6))
    world.listed_files[louise.id] = [attachment.id]  # as the read model lists it
    bus.handle(c.SetProfilePicture("acct-1", louise.id, "moi.png", "image/png", png(), 5 * 2**20))
    return louise


def test_an_export_holds_the_contact_by_name_its_history_notes_and_files_with_their_bytes(world, louise):
    part = world.export(louise.id)
    assert part.part_blob_id is not None and part.item_count == 4  # the contact, a note, a file, a picture
    read = world.exchange.read_part("r1", part.part_blob_id)
    assert read["service"] == "contacts" and set(read["about"]) == {"categories", "purposes", "recipients",
                                                                   "retention", "source"}
    assert "failed rows 12 days (the deployment's import retention)" in read["about"]["retention"]
    data = read["data"]
    contact = data["contacts"][louise.id]
    assert (contact["status"], contact["first_name"], contact["last_name"]) == ("live", "Louise", "Papier")
    assert contact["emails"][0]["address"] == "louise@papier.fr"
    assert contact["labels"] == ["Très important"] and contact["custom_fields"] == {"Budget annuel": 1200}
    assert data["labels"] == [{"contact_id": louise.id, "label": "Très important"}]
    assert data["custom_fields"] == [{"contact_id": louise.id, "field": "Budget annuel", "value": 1200}]
    assert [(n["text"], n["kind"]) for n in data["notes"]] == [("Rappeler Louise lundi", "call_summary")]
    assert ["ContactCreated", "LabelAssigned"] == list(dict.fromkeys(row["event_type"] for row in data["history"]))
    created = {row["field"]: row for row in data["history"] if row["event_type"] == "ContactCreated"}
    assert {"revision": 1, "before": None, "after": "Louise"}.items() <= created["first_name"].items()
    assert created["custom_fields"]["after"] == '{"Budget annuel": 1200}'  # by name in the history too
    [labelled] = [row for row in data["history"] if row["event_type"] == "LabelAssigned"]
    assert (labelled["field"], labelled["after"]) == ("labels", '["Très important"]')
    for name in ("labels", "custom_fields", "history", "notes", "files"):  # each one CSV: flat rows
        assert all(not isinstance(v, (dict, list)) for row in data[name] for v in row.values()), name
    assert sorted(f["kind"] for f in data["files"]) == ["file", "profile_picture"]
    by_name = {f["name"]: f for f in read["files"]}
    pdf = next(f for f in data["files"] if f["kind"] == "file")
    assert pdf["file_name"] == "devis.pdf" and pdf["exported_as"] in by_name
    _, chunks = world.exchange.open_file("r1", by_name[pdf["exported_as"]]["blob_id"])
    assert b"".join(chunks) == PDF
    picture = next(f for f in data["files"] if f["kind"] == "profile_picture")
    _, chunks = world.exchange.open_file("r1", by_name[picture["exported_as"]]["blob_id"])
    assert b"".join(chunks)[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_export_holds_the_messages_sent_to_the_person_with_their_status_and_dates(world, louise):
    devis = world.bus.handle(c.SendMessage("acct-1", louise.id, "Votre devis", "Bonjour Louise"))
    offer = world.bus.handle(c.SendMessage("acct-1", louise.id, "Offre", "Promo", marketing=True))
    world.bus.handle(c.RecordMessageOutcome("acct-1", louise.id, devis.id, "sent", None, 1,
                                            datetime.fromisoformat("2026-12-02T12:01:00+00:00")))
    world.listed_messages[louise.id] = [offer.id, devis.id, "not-a-message"]  # as the read model lists them
    part = world.export(louise.id)
    assert part.item_count == 6  # the contact, a note, a file, a picture, two messages
    data = world.exchange.read_part("r1", part.part_blob_id)["data"]
    rows = {row["message_id"]: row for row in data["messages"]}
    assert set(rows) == {devis.id, offer.id}
    assert {k: rows[devis.id][k] for k in ("to", "subject", "body", "marketing", "status", "finished_at")} == {
        "to": "louise@papier.fr", "subject": "Votre devis", "body": "Bonjour Louise", "marketing": False,
        "status": "sent", "finished_at": "2026-12-02T12:01:00.000+00:00"}
    assert (rows[offer.id]["status"], rows[offer.id]["marketing"]) == ("queued", True)
    assert rows[offer.id]["created_at"]
    assert all(not isinstance(v, (dict, list)) for row in data["messages"] for v in row.values())  # one CSV


def test_an_erasure_makes_the_persons_messages_unreadable(world, louise):
    message = world.bus.handle(c.SendMessage("acct-1", louise.id, "Votre devis", "Bonjour Louise"))
    world.listed_messages[louise.id] = [message.id]
    world.erase(louise.id)
    with world.uow() as uow:
        assert uow.messages.find("acct-1", message.id) is None  # its events no longer open
    stored = [e for e in world.store.all_events if e.aggregate_id == message.id]
    assert stored and "Bonjour" not in str([e.payload for e in stored])
    assert world.export(louise.id).item_count == 0


def projected(note, contact_id, **changes):
    """The read model's row of a note, as views.notes_of_contact reads it (its date without its zone)."""
    return {"_id": note.id, "kind": note.kind, "text": note.text, "version": note.revision, "contact_id": contact_id,
            "created_at": datetime.fromisoformat(note.created_at).replace(tzinfo=None), **changes}


def test_notes_come_from_the_read_model_where_current_and_from_the_events_for_those_it_does_not_show(world, louise):
    note = world.bus.handle(c.AddNote("acct-1", louise.id, "note", "Vue en janvier"))
    world.projected_notes[louise.id] = [projected(note, louise.id, created_at=datetime(2026, 1, 5, 9, 30))]
    data = world.exchange.read_part("r1", world.export(louise.id).part_blob_id)["data"]
    assert [(n["note_id"], n["text"], n["created_at"]) for n in data["notes"]][0] == (
        note.id, "Vue en janvier", "2026-01-05T09:30:00.000+00:00")  # the read model's row (its date)
    assert [n["text"] for n in data["notes"]] == ["Vue en janvier", "Rappeler Louise lundi"]


def test_notes_the_read_model_shows_stale_are_read_from_their_events(world, louise):
    edited = world.bus.handle(c.AddNote("acct-1", louise.id, "note", "Ancien texte"))
    deleted = world.bus.handle(c.AddNote("acct-1", louise.id, "note", "Note supprimée"))
    world.projected_notes[louise.id] = [projected(edited, louise.id), projected(deleted, louise.id),
                                        projected(edited, louise.id, _id="not-a-note")]
    world.bus.handle(c.EditNote("acct-1", louise.id, edited.id, edited.revision, text="Nouveau texte"))
    world.bus.handle(c.DeleteNote("acct-1", louise.id, deleted.id))
    data = world.exchange.read_part("r1", world.export(louise.id).part_blob_id)["data"]
    assert sorted(n["text"] for n in data["notes"]) == ["Nouveau texte", "Rappeler Louise lundi"]


def test_a_note_moved_by_a_merge_is_exported_once_though_the_read_model_still_shows_it_on_the_source(world, louise):
    source = world.bus.handle(c.CreateContact("acct-1", {"first_name": "L."}))
    note = world.bus.handle(c.AddNote("acct-1", source.id, "note", "Note de la doublure"))
    world.projected_notes[source.id] = [projected(note, source.id)]  # as it was before the merge
    world.bus.handle(c.MergeContacts("acct-1", louise.id, [source.id]))
    data = world.exchange.read_part("r1", world.export(louise.id).part_blob_id)["data"]
    assert [(n["contact_id"], n["text"]) for n in data["notes"] if n["note_id"] == note.id] == [
        (louise.id, "Note de la doublure")]


def test_an_export_follows_the_merge_family_and_skips_ids_not_of_the_account(world, louise):
    other = world.bus.handle(c.CreateContact("acct-2", {"first_name": "Autre"}))
    source = world.bus.handle(c.CreateContact("acct-1", {"first_name": "L.", "phones": [{"number": "+33612345678"}]}))
    world.bus.handle(c.AddNote("acct-1", source.id, "note", "Note de la doublure"))
    world.bus.handle(c.MergeContacts("acct-1", louise.id, [source.id]))
    part = world.export(source.id, other.id, "no-such-contact")  # the merged-away id finds the whole person
    data = world.exchange.read_part("r1", part.part_blob_id)["data"]
    assert set(data["contacts"]) == {louise.id, source.id}
    assert data["contacts"][source.id]["status"] == "merged" and data["contacts"][source.id]["merged_into"] == louise.id
    assert sorted(n["text"] for n in data["notes"]) == ["Note de la doublure", "Rappeler Louise lundi"]
    assert {n["contact_id"] for n in data["notes"]} == {louise.id}  # the note moved with the merge
    assert other.id not in data["contacts"]


def test_nothing_is_exported_for_an_unknown_contact_another_accounts_or_an_erased_one(world, louise):
    assert world.export("no-such-contact").part_blob_id is None
    assert world.export(louise.id, account="acct-2") == world.export("nope")
    world.erase(louise.id)
    part = world.export(louise.id)
    assert (part.part_blob_id, part.item_count) == (None, 0)


def test_an_erasure_shreds_every_key_of_the_family_and_counts_the_contacts_notes_and_files_it_erased(world, louise):
    source = world.bus.handle(c.CreateContact("acct-1", {"first_name": "L.", "phones": [{"number": "+33612345678"}]}))
    world.bus.handle(c.MergeContacts("acct-1", louise.id, [source.id]))
    outcome = world.erase(source.id, "no-such-contact")
    assert outcome.outcome == "erased" and outcome.retained == []
    assert sorted(outcome.keys_destroyed) == sorted([f"contact:{louise.id}", f"contact:{source.id}"])
    assert outcome.items_erased == 5  # two contacts, a note, a file and a picture
    assert world.keys.is_erased(f"contact:{louise.id}") and world.keys.is_erased(f"contact:{source.id}")
    with world.uow() as uow:
        assert uow.contacts.find("acct-1", louise.id) is None


def test_the_same_request_run_again_after_a_crash_before_its_reply_lists_the_keys_it_destroyed(world, louise):
    source = world.bus.handle(c.CreateContact("acct-1", {"first_name": "L."}))
    world.bus.handle(c.MergeContacts("acct-1", louise.id, [source.id]))
    first = world.erase(louise.id, request_id="r2", event_id="evt-r2")
    again = world.erase(louise.id, request_id="r2", event_id="evt-r2")  # redelivered: no reply was stored
    assert again.outcome == "erased" and sorted(again.keys_destroyed) == sorted(first.keys_destroyed)
    assert again.items_erased == 2  # the contacts; the notes and files it made unreadable are not found again


def test_a_new_request_for_a_person_erased_long_ago_claims_no_key(world, louise):
    source = world.bus.handle(c.CreateContact("acct-1", {"first_name": "L."}))
    world.bus.handle(c.MergeContacts("acct-1", louise.id, [source.id]))
    assert world.erase(louise.id, request_id="r2").outcome == "erased"
    later = world.erase(source.id, louise.id, request_id="r3")  # a different request: it destroyed nothing
    assert (later.outcome, later.keys_destroyed, later.items_erased) == ("nothing_held", [], 0)
    erased_by_api = world.bus.handle(c.CreateContact("acct-1", {"first_name": "Paul"}))
    world.bus.handle(c.EraseContact("acct-1", erased_by_api.id))  # through the API, by no request
    assert world.erase(erased_by_api.id, request_id="r4").keys_destroyed == []


def test_an_erasure_holding_nothing_says_so_and_leaves_other_accounts_alone(world, louise):
    assert world.erase("no-such-contact").outcome == "nothing_held"
    outcome = world.erase(louise.id, account="acct-2")
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == ("nothing_held", [], 0)
    assert not world.keys.is_erased(f"contact:{louise.id}")


def test_an_erasure_forgets_the_imports_whose_file_mentions_the_person_even_by_an_older_value(world, louise):
    source = world.bus.handle(c.CreateContact("acct-1", {"first_name": "L.", "phones": [{"number": "+33612345678"}]}))
    world.bus.handle(c.MergeContacts("acct-1", louise.id, [source.id]))
    world.imports.texts = {
        "import:by-email": "Nom;Email\nPapier;LOUISE@Papier.fr\n",
        "import:by-phone": "Nom,Mobile\nL.,06 12 34 56 78\n",
        "import:folded": "BEGIN:VCARD\r\nEMAIL:louise@pa\r\n pier.fr\r\nEND:VCARD\r\n",
        "import:others": "Nom;Email;Tel\nPaul;paul@papier.fr;01 02 03 04 05\n"}
    outcome = world.erase(louise.id, request_id="r2", event_id="evt-r2")
    imports = sorted(key for key in outcome.keys_destroyed if key.startswith("import:"))
    assert imports == ["import:by-email", "import:by-phone", "import:folded"]
    assert outcome.items_erased == 5 + 3 and "import:others" not in world.imports.forgotten_by
    again = world.erase(louise.id, request_id="r2", event_id="evt-r2")  # its reply lost: the same keys
    assert sorted(again.keys_destroyed) == sorted(outcome.keys_destroyed)
    assert world.erase(louise.id, request_id="r3").outcome == "nothing_held"


def test_an_import_mentioning_an_address_the_person_had_before_is_forgotten_too(world, louise):
    with world.uow() as uow:
        revision = uow.contacts.find("acct-1", louise.id).revision
    world.bus.handle(c.UpdateContact("acct-1", louise.id, revision, {"emails": [{"address": "l.papier@ailleurs.fr"}]}))
    world.imports.texts = {"import:old": "email\nlouise@papier.fr\n"}
    assert "import:old" in world.erase(louise.id).keys_destroyed


def test_a_contact_that_absorbs_a_member_while_the_erasure_runs_is_erased_too(world, louise):
    outsider = world.bus.handle(c.CreateContact("acct-1", {"first_name": "W", "phones": [{"number": "+33698765432"}]}))
    world.while_erasing = lambda: world.bus.handle(c.MergeContacts("acct-1", outsider.id, [louise.id]))
    outcome = world.erase(louise.id)
    assert sorted(outcome.keys_destroyed) == sorted([f"contact:{louise.id}", f"contact:{outsider.id}"])
    assert world.keys.is_erased(f"contact:{outsider.id}")
