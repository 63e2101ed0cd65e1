"""The kernel's side of privacy requests: a service answers the requests naming it, once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crm_platform.contracts.privacy import (
    PRIVACY_EVENT_CONTRACTS, PRIVACY_REPLY_CONTRACTS, PRIVACY_REQUEST_AGGREGATE_TYPE, ErasureRequested,
    ProcessingRestrictionApplied, ProcessingRestrictionLifted, SubjectExportRequested,
)
from crm_platform.errors import DependencyUnavailable
from crm_platform.event_codec import EventCodec
from crm_platform.privacy_participation import ErasureOutcome, ExportedPart, PrivacyRequestHandler, RetainedItem
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
REQUESTS = EventCodec((SubjectExportRequested, ErasureRequested, ProcessingRestrictionApplied,
                       ProcessingRestrictionLifted))


class Participant:
    def __init__(self):
        self.erased, self.exported, self.fail_with = [], [], None

    def erase(self, request):
        if self.fail_with:
            raise self.fail_with
        self.erased.append(request.contact_ids)
        return ErasureOutcome("retained", ["billing-document:d1"],
                              [RetainedItem("invoice:d2", "Art. 17(3)(b)", "2036-12-31")], 3)

    def export(self, request, exchange):
        self.exported.append(request.contact_ids)
        return ExportedPart("blob-1", 7)


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def participant():
    return Participant()


@pytest.fixture
def restrictions():
    return InMemoryProcessingRestrictions()


@pytest.fixture
def handler(store, participant, restrictions):
    return PrivacyRequestHandler("billing", participant, store, exchange=None, now=lambda: NOW,
                                 restrictions=restrictions)


def envelope(event):
    return REQUESTS.to_envelope(event, PRIVACY_REQUEST_AGGREGATE_TYPE, event.request_id, 1, event.account_id)


def test_an_erasure_naming_the_service_is_done_once_and_its_outcome_recorded_as_the_reply(handler, store,
                                                                                        participant):
    request = envelope(ErasureRequested("r1", "acct-1", ["c1", "c2"], ["contacts", "billing"], NOW.isoformat()))
    handler.handle(request)
    handler.handle(request)  # redelivered
    assert participant.erased == [["c1", "c2"]]
    [reply] = store.load("r1")
    assert (reply.event_type, reply.aggregate_type, reply.account_id) == ("SubjectErased", "PrivacyReply", "acct-1")
    assert reply.payload == {"service": "billing", "outcome": "retained", "keys_destroyed": ["billing-document:d1"],
                             "retained": [{"item": "invoice:d2", "legal_basis": "Art. 17(3)(b)",
                                           "retain_until": "2036-12-31"}],
                             "items_erased": 3, "completed_at": NOW.isoformat()}
    assert not [problem for contract in PRIVACY_REPLY_CONTRACTS if contract.name == reply.event_type
                if (problem := contract.validate(reply.payload))]


def test_an_export_is_answered_with_its_part_and_a_request_for_other_services_is_ignored(handler, store,
                                                                                        participant):
    handler.handle(envelope(SubjectExportRequested("r2", "acct-1", ["c1"], ["billing"], NOW.isoformat())))
    handler.handle(envelope(SubjectExportRequested("r3", "acct-1", ["c1"], ["contacts"], NOW.isoformat())))
    assert participant.exported == [["c1"]]
    [reply] = store.load("r2")
    assert reply.event_type == "SubjectDataExported"
    assert reply.payload["part_blob_id"] == "blob-1" and reply.payload["item_count"] == 7
    assert store.load("r3") == []
    contract = next(c for c in PRIVACY_REPLY_CONTRACTS if c.name == "SubjectDataExported")
    assert contract.validate(reply.payload) == {}


def test_a_failing_erasure_records_no_reply_so_the_consumer_retries_or_dead_letters_it(handler, store, participant):
    participant.fail_with = DependencyUnavailable("database")
    request = envelope(ErasureRequested("r4", "acct-1", ["c1"], ["billing"], NOW.isoformat()))
    with pytest.raises(DependencyUnavailable):
        handler.handle(request)
    assert store.load("r4") == []
    participant.fail_with = None
    handler.handle(request)
    assert [e.event_type for e in store.load("r4")] == ["SubjectErased"]


def test_the_requests_privacy_publishes_conform_to_their_contracts():
    for event in (ErasureRequested("r1", "acct-1", ["c1"], ["contacts"], NOW.isoformat()),
                  SubjectExportRequested("r1", "acct-1", ["c1"], ["contacts"], NOW.isoformat()),
                  ProcessingRestrictionApplied("r1", "acct-1", ["c1"], ["contacts"], NOW.isoformat()),
                  ProcessingRestrictionLifted("r1", "acct-1", ["c1"], NOW.isoformat())):
        contract = next(c for c in PRIVACY_EVENT_CONTRACTS if c.name == event.event_type())
        assert contract.validate(envelope(event).payload) == {}


def test_a_restriction_is_kept_answered_restricted_once_and_lifted(handler, store, restrictions):
    applied = envelope(ProcessingRestrictionApplied("r5", "acct-1", ["c1", "c2"], ["billing"], NOW.isoformat()))
    handler.handle(applied)
    handler.handle(applied)  # redelivered
    assert restrictions.restricted("acct-1", ["c1", "c2", "c3"]) == {"c1", "c2"}
    [reply] = store.load("r5")
    assert (reply.event_type, reply.payload) == ("SubjectRestricted", {
        "service": "billing", "outcome": "restricted", "completed_at": NOW.isoformat()})
    contract = next(c for c in PRIVACY_REPLY_CONTRACTS if c.name == "SubjectRestricted")
    assert contract.validate(reply.payload) == {}
    lifted = envelope(ProcessingRestrictionLifted("r5", "acct-1", ["c1", "c2"], NOW.isoformat()))
    handler.handle(lifted)
    handler.handle(lifted)  # redelivered
    assert restrictions.restricted("acct-1", ["c1", "c2"]) == set()
    assert len(store.load("r5")) == 1  # lifting is not answered


def test_a_restriction_for_other_services_is_not_kept_and_an_erasure_ends_one(handler, store, restrictions):
    handler.handle(envelope(ProcessingRestrictionApplied("r6", "acct-1", ["c1"], ["contacts"], NOW.isoformat())))
    assert restrictions.restricted("acct-1", ["c1"]) == set() and store.load("r6") == []
    handler.handle(envelope(ProcessingRestrictionApplied("r7", "acct-1", ["c1"], ["billing"], NOW.isoformat())))
    handler.handle(envelope(ErasureRequested("r8", "acct-1", ["c1"], ["billing"], NOW.isoformat())))
    assert restrictions.restricted("acct-1", ["c1"]) == set()


def test_without_a_restriction_projection_a_restriction_goes_unanswered(store, participant):
    handler = PrivacyRequestHandler("billing", participant, store, exchange=None, now=lambda: NOW)
    handler.handle(envelope(ProcessingRestrictionApplied("r9", "acct-1", ["c1"], ["billing"], NOW.isoformat())))
    assert store.load("r9") == []  # privacy times it out naming this service: no false "restricted"


def test_each_answer_is_logged_with_its_duration_and_ids_only(handler, caplog):
    """Where a request's time goes, service by service (issue 13's targets), with no personal data."""
    caplog.set_level("INFO", logger="crm_platform.privacy_participation")
    handler.handle(envelope(ErasureRequested("r1", "acct-1", ["c1"], ["billing"], NOW.isoformat())))
    handler.handle(envelope(ErasureRequested("r1", "acct-1", ["c1"], ["billing"], NOW.isoformat())))  # answered
    [record] = [r for r in caplog.records if r.getMessage() == "privacy request answered"]
    assert (record.privacy_request, record.answering, record.request_type) == ("r1", "billing", "ErasureRequested")
    assert record.duration_ms >= 0
    assert "c1" not in {str(value) for value in vars(record).values()}
