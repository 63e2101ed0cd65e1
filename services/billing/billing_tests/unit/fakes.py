"""Fakes of the billing ports for unit tests: reservations, customers, account defaults, a unit of work."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from crm_platform.personal_data import PersonalDataCipher
from crm_platform.repository import Repository
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore
from crm_platform.unit_of_work import UnitOfWork

from billing.domain.account_defaults import AccountDefaults, AccountDefaultsSource
from billing.domain.credit_notes import CreditNote
from billing.domain.customers import Customer, CustomerDirectory
from billing.domain.invoices import Invoice
from billing.domain.number_series import GaplessNumberSeries, ReservationLedger, SeriesKey

SELLER = {"name": "Agence Dupont SARL", "siren": "732829320", "vat_number": "FR44732829320",
          "address": {"street": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR"}}


class InMemoryReservationLedger(ReservationLedger):
    """Each method one atomic step, as one single-document write is on the database."""

    def __init__(self) -> None:
        self.claims: dict[str, int] = {}
        self.reservations: dict[str, str] = {}
        self.hints: dict[str, int] = {}
        self._lock = threading.Lock()

    def claimed_seq(self, key: SeriesKey, document_id: str) -> int | None:
        return self.claims.get(key.claim_id(document_id))

    def add_claim(self, key: SeriesKey, document_id: str, seq: int) -> bool:
        with self._lock:
            if key.claim_id(document_id) in self.claims:
                return False
            self.claims[key.claim_id(document_id)] = seq
            return True

    def move_claim(self, key: SeriesKey, document_id: str, from_seq: int, to_seq: int) -> bool:
        with self._lock:
            if self.claims.get(key.claim_id(document_id)) != from_seq:
                return False
            self.claims[key.claim_id(document_id)] = to_seq
            return True

    def reserve(self, key: SeriesKey, seq: int, document_id: str) -> str:
        with self._lock:
            return self.reservations.setdefault(key.reservation_id(seq), document_id)

    def next_seq_hint(self, key: SeriesKey) -> int:
        return self.hints.get(key.hint_id(), 1)

    def advance_hint(self, key: SeriesKey, past_seq: int) -> None:
        with self._lock:
            self.hints[key.hint_id()] = max(self.hints.get(key.hint_id(), 1), past_seq + 1)

    def seqs_of(self, account_id: str, series: str, fiscal_year: int) -> dict[int, str]:
        prefix = f"{account_id}:{series}:{fiscal_year}:"
        return {int(rid[len(prefix):]): doc for rid, doc in self.reservations.items() if rid.startswith(prefix)}


class FakeCustomers(CustomerDirectory):
    def __init__(self) -> None:
        self.customers: dict[tuple[str, str], Customer] = {}
        self.merged_into: dict[tuple[str, str], str] = {}

    def put(self, account_id: str, contact_id: str, buyer: dict, *, deleted: bool = False,
            bounced: tuple[str, ...] = ()) -> None:
        self.customers[(account_id, contact_id)] = Customer(contact_id, buyer, deleted, bounced)

    def merge(self, account_id: str, contact_id: str, into: str) -> None:
        self.merged_into[(account_id, contact_id)] = into

    def find(self, account_id: str, contact_id: str) -> Customer | None:
        while (account_id, contact_id) in self.merged_into:
            contact_id = self.merged_into[(account_id, contact_id)]
        return self.customers.get((account_id, contact_id))


class FakeAccountDefaults(AccountDefaultsSource):
    def __init__(self, **overrides) -> None:
        self.defaults = AccountDefaults(seller=SELLER, **overrides)

    def for_account(self, account_id: str) -> AccountDefaults:
        return self.defaults


class FakeUnitOfWork(UnitOfWork):
    """The kernel's unit of work on the in-memory event store, with billing's ports as fakes."""

    aggregates = {"invoices": Invoice, "credit_notes": CreditNote}
    invoices: Repository[Invoice]
    credit_notes: Repository[CreditNote]

    def __init__(self, store: InMemoryEventStore | None = None, cipher: PersonalDataCipher | None = None,
                 **defaults) -> None:
        self.store = store or InMemoryEventStore()
        self.cipher = cipher or PersonalDataCipher(InMemorySubjectKeyStore())
        super().__init__(self.store, self.cipher)
        self.ledger = InMemoryReservationLedger()
        self.number_series = GaplessNumberSeries(self.ledger)
        self.customers = FakeCustomers()
        self.account_defaults = FakeAccountDefaults(**defaults)


def clock_at(text: str):
    """A clock that always answers this UTC instant ("2026-03-10T23:30")."""
    instant = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return lambda: instant
