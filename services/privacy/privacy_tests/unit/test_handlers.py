"""The real handlers, through the message bus, on the in-memory event store and key store: a request received,
the replies, completion, the time-out, the export's expiry and the scan after an erasure."""
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from pymongo.errors import DuplicateKeyError

from crm_platform.contracts.privacy import (
    PRIVACY_EVENTS, SubjectDataExportedReply, SubjectErasedReply, SubjectRestrictedReply,
)
from crm_platform.personal_data import SubjectErased

from privacy.domain.commands import (
    ConfirmSubject, ExpireExport, LiftRestriction, ReceivePrivacyRequest, RecordReply, RejectPrivacyRequest,
    ShredRequestRecord, TimeOutRequest, VerifyErasure,
)
from crm_platform.errors import Conflict, InvalidInput

from privacy.domain.requests import AWAITING_CONFIRMATION, COMPLETED, IN_PROGRESS, PARTIALLY_COMPLETED, REJECTED
from privacy.adapters.signing import CertificateSigner
from privacy.domain.requests import CertificateNotReady
from privacy.service_layer import sweeps
from privacy.service_layer.certificates import certificate_of
from privacy.service_layer.unit_of_work import UnitOfWork

from .conftest import SERVICES, email_hash, phone_hash
from .fakes import FakeLease


def receive(bus, type="erasure", account="acct-1", contact="contact:1"):
    return bus.handle(ReceivePrivacyRequest(account, type, contact, "Louise Martin", "courrier du 1er décembre"))


def erased(request, service, account="acct-1", outcome="erased", topic_of=None):
    """The reply as read from the topic of `topic_of` (the service itself unless said otherwise)."""
    return RecordReply(SubjectErasedReply(request.id, account, service, outcome, [f"{service}-subject:contact:1"], [],
                                          3, "2026-12-02T09:00:01+00:00"), topic_of or service)


def exported(request, service, part="part", account="acct-1", topic_of=None):
    return RecordReply(SubjectDataExportedReply(request.id, account, service, part and f"{part}-{service}", 2,
                                                "2026-12-02T09:00:01+00:00"), topic_of or service)


def restricted(request, service, account="acct-1"):
    return RecordReply(SubjectRestrictedReply(request.id, account, service, "restricted",
                                              "2026-12-02T09:00:01+00:00"), service)


def load(store, cipher, request):
    with UnitOfWork(store, cipher) as uow:
        return uow.requests.get(request.account_id, request.id)


def test_a_request_is_stored_with_requester_and_reason_sealed_under_its_own_key(bus, store, cipher):
    request = receive(bus)
    received, asked, kept = store.all_events
    assert kept.event_type == "SubjectValuesKept" and kept.payload["count"] == 3  # the family's values, sealed
    assert "Louise" not in str(received.payload) and "courrier" not in str(received.payload)
    assert received.payload["personal"]["subject"] == f"privacy-request:{request.id}"
    assert asked.event_type == "ErasureRequested" and asked.payload["contact_ids"] == ["contact:1", "contact:old"]
    assert asked.payload["services"] == ["contacts", "billing", "workflows"]
    assert load(store, cipher, request).requester == "Louise Martin"
    cipher.shred(f"privacy-request:{request.id}")
    shredded = UnitOfWork(store, cipher).codec.from_envelope(received)  # the request still loads, without them
    assert (shredded.requester, shredded.reason, shredded.email, shredded.type) == (None, None, None, "erasure")


def test_what_it_publishes_is_its_contract(bus, store, clock, exports, scanner):
    erasure, export, failing = receive(bus), receive(bus, "access"), receive(bus, "access")
    for service in ("contacts", "billing", "workflows"):
        bus.handle(erased(erasure, service))
    exports.unreadable = {"billing"}
    for service in ("contacts", "billing", "workflows"):
        bus.handle(exported(failing, service))
    exports.unreadable = set()
    bus.handle(exported(export, "contacts"))
    bus.handle(TimeOutRequest("acct-1", export.id))  # not yet due: nothing
    clock.advance(minutes=15)
    bus.handle(TimeOutRequest("acct-1", export.id))
    clock.advance(days=7)
    bus.handle(ExpireExport("acct-1", export.id))
    by_email = bus.handle(ReceivePrivacyRequest("acct-1", "erasure", None, "L", "r", "louise@example.com"))
    bus.handle(ConfirmSubject("acct-1", by_email.id, ("contact:1",)))
    bus.handle(ReceivePrivacyRequest("acct-1", "erasure", None, "L", "r", "nobody@example.com"))
    restriction = bus.handle(ReceivePrivacyRequest("acct-1", "restriction", None, "L", "r", None, "+33612345678"))
    bus.handle(ConfirmSubject("acct-1", restriction.id, ("contact:1",)))
    for service in ("contacts", "billing", "workflows"):
        bus.handle(restricted(restriction, service))
    bus.handle(LiftRestriction("acct-1", restriction.id))
    scanner.failing = 1
    with pytest.raises(TimeoutError):
        bus.handle(VerifyErasure("acct-1", erasure.id))  # ErasureScanFailed
    bus.handle(VerifyErasure("acct-1", erasure.id))  # ErasureVerified, SubjectValuesShredded
    clock.advance(days=3 * 365)
    bus.handle(ShredRequestRecord("acct-1", erasure.id))
    assert {e.event_type for e in store.all_events} == PRIVACY_EVENTS.event_names
    for envelope in store.all_events:
        contract = PRIVACY_EVENTS.contract(envelope.event_type)
        assert envelope.schema_version == contract.version and contract.validate(envelope.payload) == {}


def test_an_erasure_completes_when_every_service_answered_and_a_redelivered_reply_changes_nothing(
        bus, store, cipher, exports):
    request = receive(bus)
    bus.handle(erased(request, "contacts"))
    bus.handle(erased(request, "contacts"))  # redelivered
    bus.handle(erased(request, "billing", outcome="retained"))
    assert load(store, cipher, request).status == IN_PROGRESS
    bus.handle(erased(request, "workflows", outcome="nothing_held"))
    done = load(store, cipher, request)
    assert done.status == COMPLETED and done.missing_services == [] and exports.assembled == []
    assert done.replies["billing"]["outcome"] == "retained" and done.replies["contacts"]["items_erased"] == 3
    assert [e.event_type for e in store.all_events].count("ReplyRecorded") == 3
    bus.handle(erased(request, "workflows"))
    assert len(store.all_events) == 7


def test_a_reply_of_another_account_or_an_unknown_request_is_ignored(bus, store, cipher):
    request = receive(bus)
    bus.handle(erased(request, "contacts", account="acct-2"))
    bus.handle(RecordReply(SubjectErasedReply("privacy-request:unknown", "acct-1", "contacts", "erased", [], [], 0,
                                              "x"), "contacts"))
    assert len(store.all_events) == 3 and load(store, cipher, request).replies == {}


def test_a_reply_of_the_wrong_type_or_naming_another_service_than_its_topics_producer_is_passed_over(
        bus, store, cipher, exports):
    erasure, export = receive(bus), receive(bus, "access")
    bus.handle(exported(erasure, "contacts"))  # an export's reply to an erasure
    bus.handle(erased(export, "contacts"))  # and the other way round
    bus.handle(erased(erasure, "billing", topic_of="workflows"))  # read on workflows' topic, naming billing
    assert load(store, cipher, erasure).replies == {} and load(store, cipher, export).replies == {}
    assert [e.event_type for e in store.all_events].count("ReplyRecorded") == 0
    bus.handle(erased(erasure, "billing"))
    assert list(load(store, cipher, erasure).replies) == ["billing"]


def test_an_export_is_assembled_from_every_part_then_completed(bus, store, cipher, exports, clock):
    request = receive(bus, "portability")
    bus.handle(exported(request, "contacts"))
    bus.handle(exported(request, "billing", part=None))
    bus.handle(exported(request, "workflows"))
    done = load(store, cipher, request)
    assert exports.assembled == [(request.id, {"contacts": "part-contacts", "billing": None,
                                               "workflows": "part-workflows"})]
    assert done.status == COMPLETED and done.export.blob_id == "zip-1"
    assert done.export.expires_at == "2026-12-09T09:00:00+00:00"


def test_past_the_timeout_it_completes_partially_and_a_late_reply_upgrades_it(bus, store, cipher, exports, clock):
    request = receive(bus, "access")
    bus.handle(exported(request, "contacts"))
    clock.advance(minutes=14)
    bus.handle(TimeOutRequest("acct-1", request.id))
    assert load(store, cipher, request).status == IN_PROGRESS
    clock.advance(minutes=1)
    bus.handle(TimeOutRequest("acct-1", request.id))
    partial = load(store, cipher, request)
    assert partial.status == PARTIALLY_COMPLETED and partial.missing_services == ["billing", "workflows"]
    assert partial.export.blob_id == "zip-1" and exports.assembled[0][1] == {"contacts": "part-contacts"}
    bus.handle(exported(request, "billing"))
    assert load(store, cipher, request).status == PARTIALLY_COMPLETED
    bus.handle(exported(request, "workflows"))
    upgraded = load(store, cipher, request)
    assert upgraded.status == COMPLETED and upgraded.missing_services == []
    assert upgraded.export.blob_id == "zip-2" and upgraded.export.earlier_blob_ids == ["zip-1"]


def test_an_expired_export_is_shredded_then_discarded_once(bus, store, cipher, exports, clock):
    request = receive(bus, "access")
    for service in ("contacts", "billing", "workflows"):
        bus.handle(exported(request, service))
    clock.advance(days=7)
    bus.handle(ExpireExport("acct-1", request.id))
    bus.handle(ExpireExport("acct-1", request.id))
    assert exports.shredded == [request.id]
    assert sorted(exports.discarded) == ["part-billing", "part-contacts", "part-workflows", "zip-1"]
    assert load(store, cipher, request).export.expired


def failing_once(store, event_type):
    """The store's append refuses, once, a commit holding an event of `event_type` (a process dying there)."""
    append, failed = store.append, []

    def refusing(envelopes):
        if not failed and any(e.event_type == event_type for e in envelopes):
            failed.append(event_type)
            raise ConnectionError("the database went away")
        return append(envelopes)

    store.append = refusing


def test_an_expired_export_discards_every_blob_of_the_request_before_its_expiry_is_committed(
        bus, store, cipher, exports, clock):
    request = receive(bus, "access")
    for service in SERVICES:
        exports.write(request.id, f"part-{service}", f"file-of-{service}")  # the files listed inside the parts
        bus.handle(exported(request, service))
    exports.write(request.id, "zip-of-an-aborted-unit-of-work")
    clock.advance(days=7)
    failing_once(store, "ExportExpired")
    with pytest.raises(ConnectionError):
        bus.handle(ExpireExport("acct-1", request.id))
    everything = sorted(["zip-1", "zip-of-an-aborted-unit-of-work"] + [f"{kind}-{service}" for service in SERVICES
                                                                      for kind in ("part", "file-of")])
    assert exports.shredded == [request.id] and sorted(exports.discarded) == everything  # though not committed
    bus.handle(ExpireExport("acct-1", request.id))  # the next round: again, harmlessly, then committed
    assert load(store, cipher, request).export.expired and set(exports.discarded) == set(everything)


def test_a_part_coming_after_the_export_expired_is_discarded_with_its_files(bus, store, cipher, exports, clock):
    request = receive(bus, "access")
    bus.handle(exported(request, "contacts"))
    clock.advance(minutes=15)
    bus.handle(TimeOutRequest("acct-1", request.id))
    clock.advance(days=7)
    bus.handle(ExpireExport("acct-1", request.id))
    exports.write(request.id, "part-billing", "file-of-billing")  # written before the shred, replied after
    bus.handle(exported(request, "billing"))
    assert {"part-billing", "file-of-billing"} <= set(exports.discarded)
    assert exports.blobs_of(request.id) == []


def test_a_zip_whose_unit_of_work_fails_to_commit_is_discarded(bus, store, cipher, exports):
    request = receive(bus, "access")
    for service in SERVICES[:2]:
        bus.handle(exported(request, service))
    failing_once(store, "ExportReady")
    with pytest.raises(ConnectionError):
        bus.handle(exported(request, "workflows"))  # its reply committed, then its ZIP's step fails
    assert exports.discarded == ["zip-1"] and load(store, cipher, request).status == IN_PROGRESS
    bus.handle(exported(request, "workflows"))  # the consumer's retry: the step runs again
    done = load(store, cipher, request)
    assert done.status == COMPLETED and done.export.blob_id == "zip-2"


def test_a_sweep_sends_nothing_without_its_lease_and_each_candidate_with_it(bus, store, cipher, clock):
    request = receive(bus)
    clock.advance(hours=1)
    overdue = lambda now: [("acct-1", request.id)]  # noqa: E731
    assert sweeps.time_out_requests(bus, overdue, FakeLease(held=False), clock) == 0
    assert load(store, cipher, request).status == IN_PROGRESS
    assert sweeps.time_out_requests(bus, overdue, FakeLease(), clock) == 1
    assert load(store, cipher, request).status == PARTIALLY_COMPLETED


def test_a_request_that_fails_does_not_hold_up_the_others_in_a_sweep(bus, store, cipher, clock):
    broken, fine = receive(bus, "access"), receive(bus)
    clock.advance(hours=1)

    def time_out(account_id, request_id):
        if request_id == broken.id:
            raise LookupError("the database went away")
        return TimeOutRequest(account_id, request_id)

    overdue = lambda now: [("acct-1", broken.id), ("acct-1", fine.id)]  # noqa: E731
    assert sweeps.sweep(bus, overdue, time_out, FakeLease(), clock) == 1
    assert load(store, cipher, broken).status == IN_PROGRESS
    assert load(store, cipher, fine).status == PARTIALLY_COMPLETED


def test_a_sweep_logs_a_failure_without_traceback_nor_the_values_a_database_message_quotes(
        bus, store, cipher, clock, caplog):
    request = receive(bus)
    clock.advance(hours=1)

    def time_out(account_id, request_id):
        raise DuplicateKeyError('E11000 duplicate key: { email: "louise@example.com" }', 11000)

    with caplog.at_level(logging.INFO, logger="privacy.service_layer.sweeps"):
        sweeps.sweep(bus, lambda now: [("acct-1", request.id)], time_out, FakeLease(), clock)
    [record] = caplog.records
    assert record.exc_info is None and record.error == "DuplicateKeyError: code 11000"
    assert "louise" not in caplog.text and "louise" not in str(vars(record))


def test_an_export_whose_zip_cannot_be_built_keeps_its_last_reply_and_completes_without_the_failed_part(
        bus, store, cipher, exports, clock):
    request = receive(bus, "access")
    exports.unreadable = {"billing"}
    for service in SERVICES:
        bus.handle(exported(request, service))  # the last reply's step fails to assemble: not raised, counted
    failing = load(store, cipher, request)
    assert sorted(failing.replies) == sorted(SERVICES) and failing.status == IN_PROGRESS
    assert failing.assembly_failures == 1
    bus.handle(TimeOutRequest("acct-1", request.id))  # the sweep tries again, twice, then gives up on billing
    assert load(store, cipher, request).status == IN_PROGRESS
    bus.handle(TimeOutRequest("acct-1", request.id))
    done = load(store, cipher, request)
    assert (done.status, done.failed_parts, done.missing_services) == (PARTIALLY_COMPLETED, ["billing"], [])
    assert exports.assembled == [(request.id, {"contacts": "part-contacts", "workflows": "part-workflows"})]
    assert done.export.blob_id == "zip-1"
    bus.handle(TimeOutRequest("acct-1", request.id))  # spent: nothing more
    assert [e.event_type for e in store.all_events].count("ExportAssemblyFailed") == 3
    assert store.all_events[-1].event_type == "PrivacyRequestCompleted"
    assert store.all_events[-1].payload["failed_parts"] == ["billing"]


def test_a_late_reply_racing_the_expiry_of_its_export_ends_the_request_without_looping(
        bus, store, cipher, exports, clock):
    request = receive(bus, "access")
    bus.handle(exported(request, "contacts"))
    clock.advance(minutes=15)
    bus.handle(TimeOutRequest("acct-1", request.id))
    assert load(store, cipher, request).status == PARTIALLY_COMPLETED
    exports.erased = True  # the expiry sweep shredded the export's key, its ExportExpired not yet committed
    bus.handle(exported(request, "billing"))
    bus.handle(exported(request, "workflows"))
    ended = load(store, cipher, request)
    assert sorted(ended.replies) == sorted(SERVICES)
    assert (ended.status, ended.failed_parts) == (PARTIALLY_COMPLETED, ["billing", "contacts", "workflows"])
    assert not ended.finish_due(clock(), timedelta(minutes=15))
    events = len(store.all_events)
    bus.handle(TimeOutRequest("acct-1", request.id))
    assert len(store.all_events) == events


def test_a_request_by_email_lists_its_holders_and_asks_nothing_until_confirmed(bus, store, cipher):
    request = bus.handle(ReceivePrivacyRequest("acct-1", "erasure", None, "L", "r", "Louise@Example.com"))
    assert (request.status, request.candidates) == (AWAITING_CONFIRMATION, ["contact:1", "contact:9"])
    assert [e.event_type for e in store.all_events] == ["PrivacyRequestReceived", "SubjectCandidatesListed"]
    assert "example.com" not in str(store.all_events[0].payload)  # the email is sealed with the requester
    with pytest.raises(InvalidInput) as refused:
        bus.handle(ConfirmSubject("acct-1", request.id, ("contact:1", "contact:2")))
    assert "contact:2" in str(refused.value.errors["contact_ids"])
    confirmed = bus.handle(ConfirmSubject("acct-1", request.id, ("contact:1",)))
    assert confirmed.status == IN_PROGRESS and confirmed.contact_ids == ["contact:1", "contact:old"]
    assert [e.event_type for e in store.all_events[-2:]] == ["ErasureRequested", "SubjectValuesKept"]
    with pytest.raises(Conflict):
        bus.handle(ConfirmSubject("acct-1", request.id, ("contact:9",)))
    with pytest.raises(Conflict):
        bus.handle(RejectPrivacyRequest("acct-1", request.id, "not_the_subject"))


def test_an_erasure_by_email_shows_the_email_until_it_completes_then_only_its_hash(bus, store, cipher):
    request = bus.handle(ReceivePrivacyRequest("acct-1", "erasure", None, "L", "r", "louise@example.com"))
    bus.handle(ConfirmSubject("acct-1", request.id, ("contact:1",)))
    assert load(store, cipher, request).shown_email == "louise@example.com"
    for service in SERVICES:
        bus.handle(erased(request, service))
    done = load(store, cipher, request)
    assert done.status == COMPLETED and done.shown_email is None
    assert done.email_hash == email_hash("acct-1", "louise@example.com")
    access = bus.handle(ReceivePrivacyRequest("acct-1", "access", None, "L", "r", "louise@example.com"))
    assert access.shown_email == "louise@example.com"  # an export's requester still reads whom it was about


def test_past_its_retention_an_ended_request_has_its_record_shredded_and_reads_as_null(bus, store, cipher, clock):
    erasure, pending = receive(bus), receive(bus, "access")
    for service in SERVICES:
        bus.handle(erased(erasure, service))
    rejected = bus.handle(ReceivePrivacyRequest("acct-1", "access", None, "L", "r", "nobody@example.com"))
    clock.advance(days=3 * 365 - 1)
    bus.handle(ShredRequestRecord("acct-1", erasure.id))
    assert load(store, cipher, erasure).requester == "Louise Martin"  # not yet
    clock.advance(days=1)
    for request in (erasure, pending, rejected, erasure):
        bus.handle(ShredRequestRecord("acct-1", request.id))
    shredded = load(store, cipher, erasure)
    assert (shredded.requester, shredded.reason, shredded.record_shredded) == (None, None, True)
    assert shredded.status == COMPLETED and sorted(shredded.replies) == sorted(SERVICES)
    gone = load(store, cipher, rejected)
    assert (gone.requester, gone.email, gone.rejection) == (None, None, "no_matching_contact")
    assert load(store, cipher, pending).requester == "Louise Martin"  # still in progress: kept
    assert [e.event_type for e in store.all_events].count("RequestRecordShredded") == 2
    with pytest.raises(SubjectErased):  # the key itself is gone, not only hidden
        cipher.open(store.all_events[0].payload["personal"])


def test_a_request_about_a_contact_the_account_does_not_have_is_rejected_and_asks_nobody(bus, store, cipher):
    for account, contact in (("acct-1", "contact:nobody"), ("acct-2", "contact:1")):
        request = receive(bus, account=account, contact=contact)
        assert (request.status, request.rejection, request.services) == (REJECTED, "no_matching_contact", [])
    assert "ErasureRequested" not in [e.event_type for e in store.all_events]


def test_a_request_nobody_confirmed_by_its_deadline_is_rejected_by_the_sweep(bus, store, cipher, clock):
    listed = bus.handle(ReceivePrivacyRequest("acct-1", "erasure", None, "L", "r", "louise@example.com"))
    clock.advance(days=30)
    bus.handle(TimeOutRequest("acct-1", listed.id))
    assert load(store, cipher, listed).status == AWAITING_CONFIRMATION
    clock.advance(days=1)  # 2 January: the deadline
    bus.handle(TimeOutRequest("acct-1", listed.id))
    bus.handle(TimeOutRequest("acct-1", listed.id))
    rejected = load(store, cipher, listed)
    assert (rejected.status, rejected.rejection) == (REJECTED, "not_confirmed_by_deadline")
    assert [e.event_type for e in store.all_events].count("PrivacyRequestRejected") == 1


def test_a_request_by_an_email_nobody_holds_is_rejected_and_one_awaiting_confirmation_may_be(bus, store, cipher):
    nobody = bus.handle(ReceivePrivacyRequest("acct-1", "access", None, "L", "r", "nobody@example.com"))
    assert (nobody.status, nobody.rejection) == (REJECTED, "no_matching_contact")
    listed = bus.handle(ReceivePrivacyRequest("acct-1", "access", None, "L", "r", "louise@example.com"))
    rejected = bus.handle(RejectPrivacyRequest("acct-1", listed.id, "identity_not_verified"))
    assert (rejected.status, rejected.rejection) == (REJECTED, "identity_not_verified")
    assert load(store, cipher, listed).status == REJECTED
    with pytest.raises(InvalidInput):
        bus.handle(RejectPrivacyRequest("acct-1", listed.id, "because"))


def test_a_request_by_phone_lists_its_holders_and_keeps_the_number_sealed(bus, store, cipher):
    request = bus.handle(ReceivePrivacyRequest("acct-1", "erasure", None, "L", "r", None, "+33612345678"))
    assert (request.status, request.candidates) == (AWAITING_CONFIRMATION, ["contact:1", "contact:9"])
    assert "612345678" not in str(store.all_events[0].payload)  # sealed with the requester
    assert store.all_events[0].payload["phone_hash"] == phone_hash("acct-1", "+33612345678")
    assert load(store, cipher, request).shown_phone == "+33612345678"
    bus.handle(ConfirmSubject("acct-1", request.id, ("contact:9",)))
    for service in SERVICES:
        bus.handle(erased(request, service))
    done = load(store, cipher, request)
    assert (done.status, done.contact_ids, done.shown_phone) == (COMPLETED, ["contact:9"], None)
    nobody = bus.handle(ReceivePrivacyRequest("acct-1", "access", None, "L", "r", None, "+33700000000"))
    assert (nobody.status, nobody.rejection) == (REJECTED, "no_matching_contact")


def test_a_restriction_asks_every_service_completes_restricted_and_is_lifted_once(bus, store, cipher):
    request = receive(bus, "restriction")
    asked = store.all_events[-1]
    assert (asked.event_type, asked.payload["contact_ids"]) == ("ProcessingRestrictionApplied",
                                                                ["contact:1", "contact:old"])
    with pytest.raises(Conflict):  # not yet complete
        bus.handle(LiftRestriction("acct-1", request.id))
    bus.handle(erased(request, "contacts"))  # an erasure's reply does not answer a restriction
    for service in SERVICES:
        bus.handle(restricted(request, service))
    done = load(store, cipher, request)
    assert done.status == COMPLETED and {r["outcome"] for r in done.replies.values()} == {"restricted"}
    lifted = bus.handle(LiftRestriction("acct-1", request.id))
    again = bus.handle(LiftRestriction("acct-1", request.id))  # idempotent: nothing more recorded
    assert lifted.lifted_at is not None and again.lifted_at == lifted.lifted_at
    events = [e for e in store.all_events if e.aggregate_id == request.id]
    assert [e.event_type for e in events].count("ProcessingRestrictionLifted") == 1
    assert events[-1].payload["contact_ids"] == ["contact:1", "contact:old"]


def test_only_a_restriction_is_lifted(bus):
    erasure = receive(bus)
    for service in SERVICES:
        bus.handle(erased(erasure, service))
    with pytest.raises(Conflict) as refused:
        bus.handle(LiftRestriction("acct-1", erasure.id))
    assert refused.value.slug == "not-liftable"


def values_key(request):
    return f"privacy-verification:{request.id}"


def test_an_ended_erasure_is_scanned_for_its_subjects_values_once_then_they_are_shredded(
        bus, store, cipher, scanner):
    request = receive(bus)
    kept = load(store, cipher, request)
    assert kept.subject_values == ["Louise Martin", "louise@example.com", "louise.m@example.org"]
    assert "Louise" not in str([e.payload for e in store.all_events])  # sealed in SubjectValuesKept
    assert bus.handle(VerifyErasure("acct-1", request.id)) is False  # not ended yet: not due
    assert scanner.scans == []
    for service in ("contacts", "billing", "workflows"):
        bus.handle(erased(request, service))
    scanner.system = {"crm_contacts.contacts": "Louis Martinez"}  # someone else
    assert bus.handle(VerifyErasure("acct-1", request.id)) is True
    assert bus.handle(VerifyErasure("acct-1", request.id)) is False  # twice (a redelivery): one scan
    assert scanner.scans == [("acct-1", ["Louise Martin", "louise@example.com", "louise.m@example.org"])]
    done = load(store, cipher, request)
    assert done.status == COMPLETED and not done.verification_due(clock_now()) and done.values_shredded
    assert (done.verification["result"], done.verification["readable_occurrences"],
            done.verification["values_checked"]) == ("passed", 0, 3)
    assert cipher.is_erased(values_key(request)) and done.subject_values is None  # the request still loads


def timed_out_with_contacts_alone(bus, clock):
    """An erasure that only contacts answered, past the reply time-out: partially completed."""
    request = receive(bus)
    bus.handle(erased(request, "contacts"))
    clock.advance(minutes=15)
    bus.handle(TimeOutRequest("acct-1", request.id))
    return request


def clock_now():
    return datetime(2026, 12, 2, 10, tzinfo=timezone.utc)


def test_a_value_still_readable_is_scanned_for_again_before_it_fails_the_erasure_naming_the_place(
        bus, store, cipher, scanner, clock):
    request = receive(bus)
    for service in ("contacts", "billing", "workflows"):
        bus.handle(erased(request, service))
    scanner.system = {"crm_workflows.cards": "Appeler Louise Martin", "crm.x.events/0/12": "louise@example.com"}
    bus.handle(VerifyErasure("acct-1", request.id))
    tentative = load(store, cipher, request)
    assert tentative.status == PARTIALLY_COMPLETED and tentative.verification_failed
    assert tentative.verification["places"] == ["crm.x.events/0/12", "crm_workflows.cards"]
    assert not tentative.verification["final"] and not cipher.is_erased(values_key(request))
    assert bus.handle(VerifyErasure("acct-1", request.id)) is False  # its rescan comes 30 s later
    for wait in (30, 120, 600):
        clock.advance(seconds=wait)
        assert bus.handle(VerifyErasure("acct-1", request.id)) is True
    failed = load(store, cipher, request)
    assert len(scanner.scans) == 4 and failed.verification["final"] and failed.status == PARTIALLY_COMPLETED
    assert failed.verification["readable_occurrences"] == 2 and cipher.is_erased(values_key(request))


def test_a_read_model_that_caught_up_by_the_rescan_completes_the_erasure(bus, store, cipher, scanner, clock):
    request = receive(bus)
    for service in ("contacts", "billing", "workflows"):
        bus.handle(erased(request, service))
    scanner.system = {"crm_contacts.contacts": "Louise Martin"}  # its projection a moment behind the erasure
    bus.handle(VerifyErasure("acct-1", request.id))
    scanner.system = {}
    clock.advance(seconds=30)
    bus.handle(VerifyErasure("acct-1", request.id))
    done = load(store, cipher, request)
    assert (done.status, done.verification["result"], done.verification["final"]) == (COMPLETED, "passed", True)


def test_an_erasure_timed_out_is_scanned_then_scanned_again_after_each_late_reply(
        bus, store, cipher, scanner, clock):
    request = timed_out_with_contacts_alone(bus, clock)
    scanner.system = {"crm_workflows.cards": "Appeler Louise Martin"}  # workflows has not erased yet
    bus.handle(VerifyErasure("acct-1", request.id))
    waiting = load(store, cipher, request)
    assert waiting.status == PARTIALLY_COMPLETED and waiting.verification_failed
    assert waiting.verification["next_scan_at"] is None and not cipher.is_erased(values_key(request))
    assert bus.handle(VerifyErasure("acct-1", request.id)) is False  # nothing new: not scanned again
    bus.handle(erased(request, "billing"))  # one late reply, workflows still silent: scanned again
    assert load(store, cipher, request).verification_due(clock())
    bus.handle(VerifyErasure("acct-1", request.id))
    assert len(scanner.scans) == 2 and load(store, cipher, request).missing_services == ["workflows"]
    scanner.system = {}
    bus.handle(erased(request, "workflows"))
    bus.handle(VerifyErasure("acct-1", request.id))
    done = load(store, cipher, request)
    assert len(scanner.scans) == 3 and done.status == COMPLETED and done.verification["result"] == "passed"
    assert cipher.is_erased(values_key(request))


def test_a_scan_passing_while_a_service_is_silent_keeps_the_values_for_the_scan_after_its_late_reply(
        bus, store, cipher, scanner, clock):
    request = timed_out_with_contacts_alone(bus, clock)
    bus.handle(VerifyErasure("acct-1", request.id))
    waiting = load(store, cipher, request)
    assert (waiting.status, waiting.verification["result"]) == (PARTIALLY_COMPLETED, "passed")
    assert not cipher.is_erased(values_key(request))  # what billing and workflows hold is still there
    bus.handle(erased(request, "billing"))
    bus.handle(erased(request, "workflows"))
    bus.handle(VerifyErasure("acct-1", request.id))
    assert len(scanner.scans) == 2 and load(store, cipher, request).status == COMPLETED
    assert cipher.is_erased(values_key(request))


def test_a_scan_that_cannot_be_made_is_recorded_and_after_five_the_erasure_is_unverifiable(
        bus, store, cipher, scanner):
    request = receive(bus)
    for service in ("contacts", "billing", "workflows"):
        bus.handle(erased(request, service))
    scanner.failing = 5
    for _ in range(4):
        with pytest.raises(TimeoutError):
            bus.handle(VerifyErasure("acct-1", request.id))
    assert bus.handle(VerifyErasure("acct-1", request.id)) is True  # the fifth: given up, logged, not raised
    given_up = load(store, cipher, request)
    assert [e.event_type for e in store.all_events].count("ErasureScanFailed") == 5
    assert (given_up.status, given_up.verification["result"], given_up.verification["final"]) == (
        PARTIALLY_COMPLETED, "unverifiable", True)
    assert cipher.is_erased(values_key(request)) and scanner.scans == []


def test_scans_made_while_a_service_was_silent_do_not_use_up_the_rescans_and_a_rescan_counts_from_a_scans_end(
        bus, store, cipher, scanner, clock):
    request = receive(bus)
    clock.advance(minutes=15)
    bus.handle(TimeOutRequest("acct-1", request.id))  # all three silent
    scanner.system = {"crm_contacts.contacts": "Louise Martin"}
    scanner.takes = lambda: clock.advance(seconds=45)
    for service in ("contacts", "billing", "workflows"):
        bus.handle(VerifyErasure("acct-1", request.id))
        bus.handle(erased(request, service))
    bus.handle(VerifyErasure("acct-1", request.id))  # the first scan with every service answered: found
    tentative = load(store, cipher, request)
    assert len(scanner.scans) == 4 and not tentative.verification["final"]
    assert datetime.fromisoformat(tentative.verification["next_scan_at"]) == clock() + timedelta(seconds=30)


def test_a_service_silent_past_the_requests_deadline_makes_the_scan_final(bus, store, cipher, scanner, clock):
    request = timed_out_with_contacts_alone(bus, clock)
    clock.advance(days=31)  # past the one-month deadline: no reply is waited for any more
    bus.handle(VerifyErasure("acct-1", request.id))
    ended = load(store, cipher, request)
    assert ended.verification["final"] and ended.status == PARTIALLY_COMPLETED and ended.values_shredded
    assert cipher.is_erased(values_key(request))


def test_values_shredded_with_the_request_record_at_retention_are_not_scanned_for(bus, store, cipher, scanner,
                                                                                  clock):
    request = timed_out_with_contacts_alone(bus, clock)
    bus.handle(VerifyErasure("acct-1", request.id))
    clock.advance(days=3 * 365)
    bus.handle(ShredRequestRecord("acct-1", request.id))
    bus.handle(erased(request, "billing"))  # years late
    assert bus.handle(VerifyErasure("acct-1", request.id)) is False and len(scanner.scans) == 1
    shredded = load(store, cipher, request)
    assert shredded.verification["result"] == "passed" and shredded.values_shredded


def test_an_erasure_named_by_email_looks_for_that_email_and_one_with_no_value_known_says_so(
        bus, store, cipher, scanner):
    by_email = bus.handle(ReceivePrivacyRequest("acct-1", "erasure", None, "L", "r", "louise@example.com"))
    bus.handle(ConfirmSubject("acct-1", by_email.id, ("contact:9",)))
    assert load(store, cipher, by_email).subject_values == ["louise@example.com", "+33612345678"]
    nobody_known = bus.handle(ReceivePrivacyRequest("acct-1", "erasure", "contact:unknown-values", "L", "r"))
    export = receive(bus, "access")
    for service in ("contacts", "billing", "workflows"):
        bus.handle(erased(nobody_known, service))
        bus.handle(exported(export, service))
    bus.handle(VerifyErasure("acct-1", nobody_known.id))
    assert bus.handle(VerifyErasure("acct-1", export.id)) is False
    assert scanner.scans == []
    assert load(store, cipher, nobody_known).verification["result"] == "no_values_known"
    assert load(store, cipher, export).verification is None


def test_an_erasures_certificate_waits_for_its_last_scan_and_names_where_values_were_found_by_container_only(
        bus, store, cipher, scanner, clock):
    signer = CertificateSigner(bytes(range(32)))
    request = receive(bus)
    for service in ("contacts", "billing", "workflows"):
        bus.handle(erased(request, service))
    with pytest.raises(CertificateNotReady):
        certificate_of(load(store, cipher, request), cipher, signer, clock())
    scanner.system = {"crm_workflows.cards": "Louise Martin", "crm.x.events/0/12": "Louise Martin"}
    bus.handle(VerifyErasure("acct-1", request.id))
    with pytest.raises(CertificateNotReady):  # found: scanned again before it is the result
        certificate_of(load(store, cipher, request), cipher, signer, clock())
    for wait in (30, 120, 600):
        clock.advance(seconds=wait)
        bus.handle(VerifyErasure("acct-1", request.id))
    certificate = certificate_of(load(store, cipher, request), cipher, signer, clock())
    assert certificate["status"] == "partially_completed"
    verification = certificate["verification"]
    assert (verification["result"], verification["readable_occurrences"], verification["values_checked"]) == (
        "failed", 2, 3)
    assert verification["found_in"] == ["crm.x.events/0", "crm_workflows.cards"]
    assert "contact:1" not in json.dumps(certificate, ensure_ascii=False)
    assert "Louise" not in json.dumps(certificate, ensure_ascii=False)


def test_a_failed_scan_ends_the_round_and_its_erasure_waits_5_s_doubling_before_it_is_tried_again(clock):
    attempts, ticks, failing = [], [100.0], {"r-1", "r-2"}

    class Bus:
        def handle(self, command):
            attempts.append(command.request_id)
            if command.request_id in failing:
                raise TimeoutError("the broker is away")
            return True

    rounds = sweeps.VerificationRounds(Bus(), lambda now: [("acct-1", "r-1"), ("acct-1", "r-2"), ("acct-1", "r-3")],
                                       FakeLease(), clock, monotonic=lambda: ticks[0])
    rounds()
    assert attempts == ["r-1"]  # the round ended at the first failure
    rounds()
    assert attempts == ["r-1", "r-2"]  # r-1 waits 5 s
    rounds()
    assert attempts == ["r-1", "r-2", "r-3"]
    ticks[0] += 5
    failing.clear()
    rounds()
    assert attempts[3:] == ["r-1", "r-2", "r-3"]


def test_a_failing_erasure_waits_longer_each_time_and_one_found_not_due_waits_a_minute(clock):
    attempts, ticks = [], [100.0]

    class Bus:
        def handle(self, command):
            attempts.append(command.request_id)
            if command.request_id == "r-1":
                raise TimeoutError("past its time-out")
            return False  # r-2: not due (the read model a step ahead)

    rounds = sweeps.VerificationRounds(Bus(), lambda now: [("acct-1", "r-2"), ("acct-1", "r-1")], FakeLease(),
                                       clock, monotonic=lambda: ticks[0])
    tried = []
    for _ in range(40):  # 40 rounds, 2.5 s apart: 100 s
        rounds()
        tried.append(list(attempts))
        attempts.clear()
        ticks[0] += 2.5
    assert sum(run.count("r-1") for run in tried) == 5  # at 0, 5, 15, 35 and 75 s
    assert sum(run.count("r-2") for run in tried) == 2  # at 0 and 60 s
