"""Fakes of the privacy service's ports, for unit tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crm_platform.personal_data import SubjectErased

from privacy.domain.verification import ScanReport
from privacy.service_layer.ports import ExportNotAssembled


class FakeClock:
    def __init__(self, now: datetime = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class FakeExports:
    """Records what the handlers asked of the exchange store."""

    def __init__(self) -> None:
        self.assembled: list[tuple[str, dict]] = []
        self.shredded: list[str] = []
        self.discarded: list[str] = []

        self.unreadable: set[str] = set()  # services whose part cannot be read
        self.written: dict[str, set[str]] = {}  # request id -> its blobs in the store (as the exchange's index)
        self.erased = False  # the export's key shredded

    def assemble(self, request, without=()) -> tuple[str, int]:
        if self.erased:
            raise SubjectErased(f"privacy-export:{request.id}")
        if self.unreadable - set(without):
            raise ExportNotAssembled(request.id)
        self.assembled.append((request.id, request.parts(without)))
        self.write(request.id, f"zip-{len(self.assembled)}")
        return f"zip-{len(self.assembled)}", 100 * len(self.assembled)

    def write(self, request_id: str, *blob_ids: str) -> None:
        self.written.setdefault(request_id, set()).update(blob_ids)

    def blobs_of(self, request_id: str) -> list[str]:
        return sorted(self.written.get(request_id, set()) - set(self.discarded))

    def unreadable_parts(self, request) -> list[str]:
        return sorted(self.unreadable & set(request.parts()))

    def shred(self, request_id: str) -> None:
        self.shredded.append(request_id)

    def discard(self, blob_ids) -> None:
        self.discarded += list(blob_ids)


class FakeFamilies:
    def __init__(self, families: dict[tuple[str, str], list[str]] | None = None) -> None:
        self.families = families or {}

    def __call__(self, account_id: str, contact_id: str) -> list[str]:
        return self.families.get((account_id, contact_id), [contact_id])


class FakeLease:
    def __init__(self, held: bool = True) -> None:
        self.held = held

    def acquire_or_renew(self) -> bool:
        return self.held


class FakeEmailLookup:
    def __init__(self, holders: dict[tuple[str, str], list[str]] | None = None) -> None:
        self.holders = holders or {}

    def __call__(self, account_id: str, email: str) -> list[str]:
        return self.holders.get((account_id, email.casefold()), [])


class FakeScanner:
    """The system's databases and topics as a dict place -> text: a value is found where the text holds it."""

    def __init__(self) -> None:
        self.system: dict[str, str] = {}
        self.scans: list[tuple[str, list[str]]] = []
        self.failing = 0  # scans to fail (the broker away) before one is made
        self.takes = lambda: None  # what a scan does to the clock (a scan of a large system takes minutes)

    def __call__(self, account_id: str, values: list[str]) -> ScanReport:
        if self.failing:
            self.failing -= 1
            raise TimeoutError("could not read to the end of the topics")
        self.scans.append((account_id, list(values)))
        self.takes()
        places = sorted(place for place, text in self.system.items() if any(value in text for value in values))
        return ScanReport(places=places, databases=["crm_contacts"], topics=["contacts.events"],
                          documents_scanned=len(self.system), records_scanned=0)
