"""Messages to a contact: refusals, what is queued and handed to the outbox, outcomes recorded once (issue 12)."""
from datetime import datetime, timezone

import pytest

from crm_platform.blobs import BlobStore
from crm_platform.errors import DependencyUnavailable, InvalidInput
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain import commands
from contacts.domain.errors import ContactNotFound
from contacts.domain.events import data_subject
from contacts.domain.messages import (
    MAX_ATTACHMENTS_BYTES, EmailBounced, EmailUnsubscribed, Message, MessageFailed, MessageNotFound, MessageQueued,
    MessageSent, Recipient,
)
from contacts.service_layer import attachment_handlers, dispatch, handlers, message_handlers, message_requeue
from contacts.service_layer.unit_of_work import UnitOfWork

from tests.fake_mailer import FakeMailer

PDF = b"%PDF-1.7\n" + b"x" * 3000
AT = datetime(2026, 12, 2, 23, 0, tzinfo=timezone.utc)


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def uow(store, cipher):
    files = AttachmentFiles(BlobStore(InMemoryCollection(), InMemoryCollection()), cipher)
    return UnitOfWork(store, cipher, InMemoryIdentityClaims(), files)


@pytest.fixture
def mailer():
    return FakeMailer()


EMAILS = [{"address": "louise@example.fr"},
          {"address": "perso@example.fr", "primary": True, "subscription_status": "unsubscribed"},
          {"address": "old@example.fr", "deliverability": "bounced"}]


def louise(uow, emails=EMAILS, account="acct-1"):
    return handlers.create_contact(commands.CreateContact(account, {"first_name": "Louise", "emails": emails}), uow)


def send(uow, mailer, contact_id, account="acct-1", **given):
    cmd = commands.SendMessage(account, contact_id, given.pop("subject", "Votre devis"),
                               given.pop("body", "Bonjour,\nvoici le devis."), **given)
    return message_handlers.send_message(cmd, uow, mailer)


def test_a_message_goes_to_the_primary_address_by_default_and_is_handed_to_the_outbox_once(uow, mailer, store):
    contact = louise(uow)
    message = send(uow, mailer, contact.id)
    assert message.status == "queued" and message.state.to == "perso@example.fr"
    assert mailer.queued[message.id][1:4] == ("perso@example.fr", "Votre devis", False)
    assert [e.event_type for e in store.all_events if e.aggregate_id == message.id] == ["MessageQueued"]
    assert not mailer.enqueue(mailer.prepare(message, []))  # the same id again changes nothing


def test_to_chooses_among_the_contacts_addresses_whatever_their_case(uow, mailer):
    contact = louise(uow)
    assert send(uow, mailer, contact.id, to="LOUISE@example.fr").state.to == "louise@example.fr"


@pytest.mark.parametrize("emails, to", [([], None), (EMAILS, "someone@else.fr")])
def test_no_address_or_an_address_not_the_contacts_is_422_naming_to(uow, mailer, emails, to):
    contact = louise(uow, emails) if emails else handlers.create_contact(
        commands.CreateContact("acct-1", {"first_name": "Sans adresse"}), uow)
    with pytest.raises(InvalidInput) as excinfo:
        send(uow, mailer, contact.id, to=to)
    assert list(excinfo.value.errors) == ["to"]
    assert mailer.queued == {}


def test_a_bounced_address_is_refused_and_an_unsubscribed_one_only_for_marketing(uow, mailer, store):
    contact = louise(uow)
    with pytest.raises(EmailBounced) as bounced:
        send(uow, mailer, contact.id, to="old@example.fr")
    assert bounced.value.slug == "email-bounced" and bounced.value.status == 409
    with pytest.raises(EmailUnsubscribed) as unsubscribed:
        send(uow, mailer, contact.id, marketing=True)
    assert unsubscribed.value.slug == "email-unsubscribed"
    assert not any(e.aggregate_type == "Message" for e in store.all_events)  # nothing recorded for a refusal
    assert send(uow, mailer, contact.id, marketing=False).status == "queued"
    assert send(uow, mailer, contact.id, to="louise@example.fr", marketing=True).state.marketing is True


@pytest.mark.parametrize("subject, body, field", [
    ("Devis\r\nBcc: x@evil.example", "x", "subject"), ("Devis\n", "x", "subject"), ("a\x00b", "x", "subject"),
    ("", "x", "subject"), ("x" * 201, "x", "subject"), ("Devis", "  ", "body"), ("Devis", "x" * 50_001, "body"),
    ("Devis", "a\x00", "body")])
def test_bad_subjects_and_bodies_name_the_field(subject, body, field):
    with pytest.raises(InvalidInput) as excinfo:
        Message.queue("acct-1", "c1", Recipient("a@example.fr", 0), subject, body, False)
    assert list(excinfo.value.errors) == [field]


def test_another_accounts_contact_is_not_found(uow, mailer):
    contact = louise(uow)
    with pytest.raises(ContactNotFound):
        send(uow, mailer, contact.id, account="acct-2")


def test_attachments_are_the_contacts_files_sent_with_their_content(uow, mailer):
    contact, other = louise(uow), louise(uow, [{"address": "autre@example.fr"}])
    devis = attachment_handlers.add_attachment(
        commands.AddAttachment("acct-1", contact.id, "devis.pdf", "application/pdf", PDF, 10**6), uow)
    theirs = attachment_handlers.add_attachment(
        commands.AddAttachment("acct-1", other.id, "autre.pdf", "application/pdf", PDF, 10**6), uow)
    message = send(uow, mailer, contact.id, attachment_ids=(devis.id, devis.id))  # the same file once
    assert message.state.attachments == [{"attachment_id": devis.id, "file_name": "devis.pdf",
                                          "content_type": "application/pdf", "size": len(PDF)}]
    assert mailer.queued[message.id][4] == [("devis.pdf", PDF)]
    with pytest.raises(InvalidInput) as excinfo:
        send(uow, mailer, contact.id, attachment_ids=(devis.id, devis.id, theirs.id))
    assert excinfo.value.errors == {"attachment_ids": {"2": ["not a file of this contact"]}}  # its place as sent


def test_attachments_over_ten_mib_together_are_refused(uow, mailer):
    contact = louise(uow)
    big = b"%PDF-1.7\n" + b"x" * (MAX_ATTACHMENTS_BYTES // 2)
    ids = tuple(attachment_handlers.add_attachment(
        commands.AddAttachment("acct-1", contact.id, f"{n}.pdf", "application/pdf", big, 2 * len(big)), uow).id
        for n in range(2))
    with pytest.raises(InvalidInput) as excinfo:
        send(uow, mailer, contact.id, attachment_ids=ids)
    assert list(excinfo.value.errors) == ["attachment_ids"]


def outcome(message, status="sent", reason=None, contact_id=None):
    return commands.RecordMessageOutcome("acct-1", contact_id or message.contact_id, message.id, status, reason, 1, AT)


def test_an_outcome_is_recorded_once_whatever_comes_after_it(uow, mailer, store):
    message = send(uow, mailer, louise(uow).id)
    assert message_handlers.record_message_outcome(outcome(message), uow)
    assert not message_handlers.record_message_outcome(outcome(message), uow)
    assert not message_handlers.record_message_outcome(outcome(message, "failed", "undeliverable"), uow)
    assert [e.event_type for e in store.all_events if e.aggregate_id == message.id] == ["MessageQueued", "MessageSent"]
    with uow:
        sent = uow.messages.get("acct-1", message.id)
    assert isinstance(sent.state, MessageSent) and sent.state.finished_at == "2026-12-02T23:00:00.000+00:00"


def test_an_outcome_that_bounces_nothing_reads_its_message_once(uow, mailer, store, monkeypatch):
    message = send(uow, mailer, louise(uow).id)
    loads = []
    load = store.load
    monkeypatch.setattr(store, "load", lambda aggregate_id: loads.append(aggregate_id) or load(aggregate_id))
    assert message_handlers.record_message_outcome(outcome(message), uow)
    assert loads == [message.id]  # on FerretDB, each read of an aggregate's events is a statement of its own
    loads.clear()
    assert not message_handlers.record_message_outcome(outcome(message, "failed", "undeliverable"), uow)
    assert loads == [message.id]


def test_a_rejected_address_becomes_bounced_on_the_contact_and_the_message_failed(uow, mailer, store):
    contact = louise(uow)
    message = send(uow, mailer, contact.id, to="louise@example.fr")
    assert message_handlers.record_message_outcome(outcome(message, "failed", "rejected"), uow)
    with uow:
        failed = uow.messages.get("acct-1", message.id)
        updated = uow.contacts.get("acct-1", contact.id)
    assert isinstance(failed.state, MessageFailed) and failed.state.reason == "rejected"
    assert [e["deliverability"] for e in updated.details["emails"]] == ["bounced", "not_set", "bounced"]
    assert [e.event_type for e in store.all_events if e.aggregate_id == contact.id][-1] == "ContactUpdated"
    with pytest.raises(EmailBounced):
        send(uow, mailer, contact.id, to="louise@example.fr")
    # a repeated outcome changes nothing more
    assert not message_handlers.record_message_outcome(outcome(message, "failed", "rejected"), uow)
    assert len([e for e in store.all_events if e.aggregate_id == contact.id]) == 2


def test_a_rejected_address_of_a_merged_contact_is_marked_on_the_contact_it_went_to(uow, mailer):
    source = louise(uow, [{"address": "louise@example.fr"}])
    message = send(uow, mailer, source.id)
    target = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "L"}), uow)
    bus = MessageBus.build(dispatch.COMMAND_HANDLERS, {}, {
        "uow": Fresh(lambda: uow), "find_by_name": lambda a, n: None, "notes_of": lambda a, c: [], "notes_shown": lambda a, c: [],
        "attachment_ids_of": lambda a, c: [], "imports": None, "uploads": None, "jobs": None, "mailer": mailer})
    bus.handle(commands.MergeContacts("acct-1", target.id, [source.id]))  # through the bus, as the API merges
    assert message_handlers.record_message_outcome(outcome(message, "failed", "rejected"), uow)
    with uow:
        merged = uow.contacts.get("acct-1", target.id)
    assert merged.details["emails"][0]["deliverability"] == "bounced"


def test_outcomes_of_unknown_or_erased_messages_are_passed_over(uow, mailer, cipher):
    contact = louise(uow)
    message = send(uow, mailer, contact.id)
    assert not message_handlers.record_message_outcome(outcome(message, contact_id="someone-else"), uow)
    cipher.shred(data_subject(contact.id))
    assert not message_handlers.record_message_outcome(outcome(message, "failed", "subject_erased"), uow)


def test_a_message_is_read_only_on_its_contact(uow, mailer):
    contact, other = louise(uow), louise(uow, [{"address": "autre@example.fr"}])
    message = send(uow, mailer, contact.id)
    assert message_handlers.message_of(uow, "acct-1", contact.id, message.id).state.subject_line == "Votre devis"
    with pytest.raises(MessageNotFound):
        message_handlers.message_of(uow, "acct-1", other.id, message.id)
    with pytest.raises(ContactNotFound):
        message_handlers.message_of(uow, "acct-2", contact.id, message.id)


def test_what_a_message_says_is_sealed_with_its_contacts_key(uow, mailer, store):
    message = send(uow, mailer, louise(uow).id, subject="Confidentiel", body="Le code est 1234")
    stored = [e for e in store.all_events if e.aggregate_id == message.id][0]
    assert stored.event_type == MessageQueued.event_type()
    clear = str({k: v for k, v in stored.payload.items() if k != "personal"})
    assert "Confidentiel" not in str(stored.payload) and "1234" not in str(stored.payload)
    assert "perso@example.fr" not in str(stored.payload) and "marketing" in clear


class StoppingMailer(FakeMailer):
    """The API's process stops after recording the message, before the outbox got it."""

    def enqueue(self, mail) -> bool:
        raise ConnectionError("the database went away")


def test_a_message_the_outbox_never_got_is_handed_over_again_once(uow, mailer, store):
    contact = louise(uow)
    devis = attachment_handlers.add_attachment(
        commands.AddAttachment("acct-1", contact.id, "devis.pdf", "application/pdf", PDF, 10**6), uow)
    with pytest.raises(ConnectionError):
        send(uow, StoppingMailer(), contact.id, attachment_ids=(devis.id,))
    [message_id] = [e.aggregate_id for e in store.all_events if e.aggregate_type == "Message"]
    requeue = commands.RequeueMessage("acct-1", contact.id, message_id)
    assert message_handlers.requeue_message(requeue, uow, mailer)
    assert mailer.queued[message_id][4] == [("devis.pdf", PDF)]
    assert not message_handlers.requeue_message(requeue, uow, mailer)  # the outbox has it now


def test_a_message_sent_or_whose_file_was_deleted_since_is_not_handed_over_again(uow, mailer, store):
    contact = louise(uow)
    sent = send(uow, mailer, contact.id)
    message_handlers.record_message_outcome(outcome(sent), uow)
    assert not message_handlers.requeue_message(commands.RequeueMessage("acct-1", contact.id, sent.id), uow,
                                                FakeMailer())
    devis = attachment_handlers.add_attachment(
        commands.AddAttachment("acct-1", contact.id, "devis.pdf", "application/pdf", PDF, 10**6), uow)
    with pytest.raises(ConnectionError):
        send(uow, StoppingMailer(), contact.id, attachment_ids=(devis.id,))
    lost = [e.aggregate_id for e in store.all_events if e.aggregate_type == "Message" and e.aggregate_id != sent.id][0]
    attachment_handlers.delete_attachment(commands.DeleteAttachment("acct-1", contact.id, devis.id), uow)
    assert not message_handlers.requeue_message(commands.RequeueMessage("acct-1", contact.id, lost), uow, mailer)
    with uow:
        failed = uow.messages.get("acct-1", lost)
    assert (failed.status, failed.state.reason) == ("failed", "attachment_deleted") and lost not in mailer.queued


def test_a_person_who_restricted_processing_gets_no_marketing_message_but_a_transactional_one(uow, mailer, store):
    from crm_platform.processing_restrictions import ProcessingRestricted
    from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions
    contact = louise(uow)
    restrictions = InMemoryProcessingRestrictions()
    restrictions.restrict("acct-1", [contact.id], "req-1")
    marketing = commands.SendMessage("acct-1", contact.id, "Promo", "Nos offres", to="louise@example.fr",
                                     marketing=True)
    with pytest.raises(ProcessingRestricted):
        message_handlers.send_message(marketing, uow, mailer, restrictions)
    assert mailer.queued == {}
    transactional = commands.SendMessage("acct-1", contact.id, "Votre facture", "Ci-jointe")
    assert message_handlers.send_message(transactional, uow, mailer, restrictions).status == "queued"


def test_a_message_the_sweep_cannot_hand_over_does_not_hold_up_the_others():
    class Bus:  # the first message's handler fails for good (a bug, a file that no longer opens)
        handled = []

        def handle(self, command):
            if command.message_id == "m-1":
                raise ValueError("cannot prepare the mail")
            self.handled.append(command.message_id)
            return True

    queued = [("acct-1", "c-1", "m-1"), ("acct-1", "c-1", "m-2")]
    assert message_requeue.requeue_lost_messages(Bus(), lambda before: queued, now=AT) == 1
    assert Bus.handled == ["m-2"]


def test_an_outage_ends_the_sweeps_round():
    class Bus:
        def handle(self, command):
            raise DependencyUnavailable("the database is down")

    with pytest.raises(DependencyUnavailable):
        message_requeue.requeue_lost_messages(Bus(), lambda before: [("acct-1", "c-1", "m-1")], now=AT)
