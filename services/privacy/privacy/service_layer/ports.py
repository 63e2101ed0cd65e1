"""What the privacy handlers need from outside, as small protocols (bootstrap gives the real ones, tests fakes)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Protocol

from crm_platform.errors import CrmError

from privacy.domain.requests import PrivacyRequest
from privacy.domain.verification import ScanReport

Clock = Callable[[], datetime]
# (account id, contact id) -> the contact's merge family as privacy knows it (the contact itself included)
MergeFamily = Callable[[str, str], list[str]]
# (account id, email) -> the account's contacts holding that email (keyed hashes compared, no address stored)
EmailLookup = Callable[[str, str], list[str]]
# (account id, contact id) -> whether privacy's contacts directory knows that contact in that account (waiting a
# few seconds for the directory's lag when it does not, so that a request right after the contact's creation holds)
ContactKnown = Callable[[str, str], bool]
# (account id, email) -> its keyed hash, as the contacts directory keeps it
EmailHash = Callable[[str, str], str]
# (account id, phone in E.164) -> the account's contacts holding that number (keyed hashes compared)
PhoneLookup = Callable[[str, str], list[str]]
# (account id, phone in E.164) -> its keyed hash, as the contacts directory keeps it
PhoneHash = Callable[[str, str], str]
# (account id, contact ids, email, phone the request named them by) -> the values that identify those contacts
# (full name, email addresses, phone numbers that no other contact of the account shares), read before an erasure
# for the scan after it
KnownValues = Callable[[str, list[str], str | None, str | None], list[str]]
# (account id, values) -> where in the system's databases and topics they are still readable
Scanner = Callable[[str, list[str]], ScanReport]
# a subject's key id -> shredded (crm_platform.personal_data.PersonalDataCipher.shred)
ShredSubject = Callable[[str], object]


@dataclass(frozen=True)
class Policy:
    services: tuple[str, ...]  # the services asked: the registry's personal_data ones
    reply_timeout: timedelta  # PRIVACY_REPLY_TIMEOUT_S
    export_ttl: timedelta  # PRIVACY_EXPORT_TTL_S
    request_retention: timedelta = timedelta(days=3 * 365)  # PRIVACY_REQUEST_RETENTION_DAYS


class ExportNotAssembled(CrmError):
    """A request's ZIP could not be built from its parts (one unreadable, say): counted, tried again, bounded."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"the export of privacy request {request_id} could not be assembled", request_id=request_id)


class ExportAssembler(Protocol):
    def assemble(self, request: PrivacyRequest, without: Iterable[str] = ()) -> tuple[str, int]:
        """One ZIP of the request's parts (but the services `without`) in the exchange store: (its blob id, its
        length); ExportNotAssembled if it cannot be built, SubjectErased once the export's key is shredded."""

    def unreadable_parts(self, request: PrivacyRequest) -> list[str]:
        """The services whose part, or a file it lists, cannot be read."""

    def shred(self, request_id: str) -> None:
        """Make every blob of the request unreadable at once (its key shredded)."""

    def blobs_of(self, request_id: str) -> list[str]:
        """Every blob written for the request (parts, the files they list, ZIPs), even once unreadable."""

    def discard(self, blob_ids: Iterable[str]) -> None:
        """Free the space of the request's blobs."""
