"""The PrivacyRequest aggregate, pure: its deadline, the question it asks, replies, completion and expiry."""
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.contracts.privacy import ErasureRequested, SubjectExportRequested
from crm_platform.errors import InvalidInput

from privacy.domain.requests import (
    COMPLETED, IN_PROGRESS, PARTIALLY_COMPLETED, PrivacyRequest, PrivacyRequestCompleted, PrivacyRequestReceived,
    one_month_after,
)

NOW = datetime(2026, 1, 31, 10, 30, tzinfo=timezone.utc)
SERVICES = ["contacts", "billing", "workflows"]


def received(type="erasure", family=("contact:2",), services=SERVICES):
    return PrivacyRequest.receive("acct-1", type, "contact:1", "Louise Martin", "her e-mail of 1 Dec",
                                  family=list(family), services=list(services), now=NOW)


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 1, 31, 10, 30, tzinfo=timezone.utc), datetime(2026, 2, 28, 10, 30, tzinfo=timezone.utc)),
    (datetime(2028, 1, 31, tzinfo=timezone.utc), datetime(2028, 2, 29, tzinfo=timezone.utc)),
    (datetime(2026, 12, 15, tzinfo=timezone.utc), datetime(2027, 1, 15, tzinfo=timezone.utc)),
    (datetime(2026, 3, 31, tzinfo=timezone.utc), datetime(2026, 4, 30, tzinfo=timezone.utc)),
])
def test_the_deadline_is_one_calendar_month_later_on_the_months_last_day_when_shorter(moment, expected):
    assert one_month_after(moment) == expected


def test_an_erasure_asks_every_service_about_the_whole_merge_family_at_once():
    request = received(family=["contact:1", "contact:2", "contact:3"])
    first, asked = request.pending
    assert isinstance(first, PrivacyRequestReceived) and first.deadline == "2026-02-28T10:30:00+00:00"
    assert isinstance(asked, ErasureRequested)
    assert asked.contact_ids == ["contact:1", "contact:2", "contact:3"] and asked.services == SERVICES
    assert request.status == IN_PROGRESS and request.unanswered == SERVICES
    assert request.id.startswith("privacy-request:")


@pytest.mark.parametrize("type", ["access", "portability"])
def test_access_and_portability_ask_for_an_export(type):
    assert isinstance(received(type).pending[1], SubjectExportRequested)


def test_an_unknown_type_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        received("rectification")
    assert "type" in refused.value.errors


def test_a_reply_is_recorded_once_and_only_from_a_service_asked():
    request = received()
    assert request.record_reply("billing", "SubjectErased", {"service": "billing", "outcome": "retained"}, NOW)
    assert not request.record_reply("billing", "SubjectErased", {"service": "billing", "outcome": "erased"}, NOW)
    assert not request.record_reply("gateway", "SubjectErased", {"service": "gateway"}, NOW)
    assert not request.record_reply("workflows", "SubjectDataExported", {"part_blob_id": "p"}, NOW)  # not its type
    assert request.replies["billing"]["outcome"] == "retained" and request.unanswered == ["contacts", "workflows"]


def test_completing_with_services_missing_is_partial_and_a_later_completion_upgrades_it():
    request = received()
    request.record_reply("contacts", "SubjectErased", {"outcome": "erased"}, NOW)
    request.complete(NOW)
    assert request.status == PARTIALLY_COMPLETED and request.missing_services == ["billing", "workflows"]
    request.complete(NOW)  # nothing new: nothing recorded
    assert sum(isinstance(e, PrivacyRequestCompleted) for e in request.pending) == 1
    request.record_reply("billing", "SubjectErased", {"outcome": "retained"}, NOW)
    request.record_reply("workflows", "SubjectErased", {"outcome": "nothing_held"}, NOW)
    request.complete(NOW)
    assert request.status == COMPLETED and request.missing_services == []
    request.complete(NOW)
    assert sum(isinstance(e, PrivacyRequestCompleted) for e in request.pending) == 2


def test_it_times_out_only_while_waiting_and_past_the_timeout():
    request = received()
    assert not request.timed_out(NOW + timedelta(minutes=14), timedelta(minutes=15))
    assert request.timed_out(NOW + timedelta(minutes=15), timedelta(minutes=15))
    request.complete(NOW)
    assert not request.timed_out(NOW + timedelta(days=1), timedelta(minutes=15))


def test_an_export_expires_once_naming_every_blob_to_discard():
    request = received("access")
    request.record_reply("contacts", "SubjectDataExported", {"part_blob_id": "part-1"}, NOW)
    request.export_ready("zip-1", 10, NOW + timedelta(days=7))
    request.record_reply("billing", "SubjectDataExported", {"part_blob_id": None}, NOW)
    request.export_ready("zip-2", 12, NOW + timedelta(days=7))
    assert sorted(request.expire_export(NOW)) == ["part-1", "zip-1", "zip-2"]
    assert request.export.expired and request.expire_export(NOW) == []


def test_replaying_its_events_gives_the_same_request():
    request = received("access")
    request.record_reply("contacts", "SubjectDataExported", {"part_blob_id": "part-1"}, NOW)
    request.export_ready("zip-1", 10, NOW + timedelta(days=7))
    request.complete(NOW)
    again = PrivacyRequest.from_history(request.id, "acct-1", request.pending)
    assert vars(again.export) == vars(request.export)
    assert (again.status, again.replies, again.contact_ids, again.requester) == (
        request.status, request.replies, request.contact_ids, "Louise Martin")
