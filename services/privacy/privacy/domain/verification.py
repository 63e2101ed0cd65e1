"""The scan after an erasure (issue 13, item 5), as the request records it: its events and the rules of when a
scan is due, when it is the last one, and what it makes of the request.

- `SubjectValuesKept`: when the erasure is asked, the values known of the subject, sealed in the event itself under
  the request's verification key (VERIFICATION_SUBJECT), in the same commit as the question: nothing of them can
  outlive the request unsealed, even a commit that fails.
- `ErasureVerified`: a scan of every database and topic for them; what it found by place (containers and topic
  offsets, never a document's id) and what it read. Found anything: the request is `partially_completed`. The
  services' read models follow their erasure a moment later, so a scan that finds something is made again
  (RESCANS_AFTER_FAILURE) before it is taken as the result; a service that has not answered yet brings a scan
  after its reply.
- `ErasureScanFailed`: a scan that could not be made (the broker away, past its time-out); after
  MAX_SCAN_ERRORS the request is verified `unverifiable`, so that it ends with a certificate that says so.
- `SubjectValuesShredded`: the values' key shredded after the last scan (its own step, retried until done).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from crm_platform.contracts.privacy import PrivacyRequestEvent

VERIFICATION_SUBJECT = "privacy-verification:{request_id}"
PASSED, FAILED, NO_VALUES_KNOWN, UNVERIFIABLE = "passed", "failed", "no_values_known", "unverifiable"
RESULTS = (PASSED, FAILED, NO_VALUES_KNOWN, UNVERIFIABLE)
MAX_PLACES = 50  # the places a scan names; the count is exact
RESCANS_AFTER_FAILURE = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
MAX_SCAN_ERRORS = 5
SCAN_ERROR, SCAN_TIMED_OUT = "scan_error", "timed_out"  # why a scan could not be made: codes, never a message


@dataclass(frozen=True)
class SubjectValuesKept(PrivacyRequestEvent):
    personal_fields = ("values",)
    data_subject = VERIFICATION_SUBJECT

    request_id: str
    account_id: str
    count: int  # how many values, never which (those are sealed)
    kept_at: str
    values: list | None = None  # None once the verification key is shredded


@dataclass(frozen=True)
class ErasureVerified(PrivacyRequestEvent):
    request_id: str
    account_id: str
    result: str  # one of RESULTS
    readable_occurrences: int
    places: list  # database.collection or topic/partition/offset, at most MAX_PLACES
    values_checked: int
    databases: list
    topics: list
    documents_scanned: int
    records_scanned: int
    replies_seen: int  # the replies recorded when it was made: a later reply is scanned for again
    missing_services: list  # the services that had not answered then
    status: str  # the request's, since
    final: bool  # the last scan: the values are shredded next
    verified_at: str
    next_scan_at: str | None = None  # a scan that found something is made again then


@dataclass(frozen=True)
class ErasureScanFailed(PrivacyRequestEvent):
    request_id: str
    account_id: str
    attempt: int  # since the last scan made
    why: str  # SCAN_ERROR or SCAN_TIMED_OUT
    failed_at: str


@dataclass(frozen=True)
class SubjectValuesShredded(PrivacyRequestEvent):
    request_id: str
    account_id: str
    shredded_at: str


VERIFICATION_EVENT_CLASSES = (SubjectValuesKept, ErasureVerified, ErasureScanFailed, SubjectValuesShredded)
# what a certificate and the API show of the last scan (ErasureVerified's members but the envelope's)
VERIFICATION_FIELDS = ("result", "readable_occurrences", "places", "values_checked", "databases", "topics",
                       "documents_scanned", "records_scanned", "replies_seen", "final", "verified_at",
                       "next_scan_at")


@dataclass(frozen=True)
class ScanReport:
    """What a scan for a subject's values found (crm_platform.occurrences, through the privacy service's port)."""

    places: list
    databases: list
    topics: list
    documents_scanned: int
    records_scanned: int


def found_in(places: list[str]) -> list[str]:
    """The containers of the places (database.collection, topic/partition): what a certificate names."""
    return sorted({place.rsplit("/", 1)[0] if place.count("/") == 2 else place for place in places})
