"""A unit of work with quotes and recurring invoices on the billing fakes, and an event store that crashes on cue."""
from __future__ import annotations

from crm_platform.repository import Repository
from crm_platform.testing.in_memory_event_store import InMemoryEventStore

from billing.domain.quotes import Quote
from billing.domain.recurring_invoices import RecurringInvoice

from .fakes import FakeUnitOfWork


class DocumentsUnitOfWork(FakeUnitOfWork):
    """FakeUnitOfWork with the two aggregates billing-service's unit of work is to list as `quotes` and
    `recurring_invoices`."""

    aggregates = {**FakeUnitOfWork.aggregates, "quotes": Quote, "recurring_invoices": RecurringInvoice}
    quotes: Repository[Quote]
    recurring_invoices: Repository[RecurringInvoice]

    def sharing_ports(self) -> "DocumentsUnitOfWork":
        """Another unit of work on the same store, ledger, customers and defaults (another thread's, or a restart's)."""
        other = DocumentsUnitOfWork(self.store, self.cipher)
        other.ledger, other.number_series = self.ledger, self.number_series
        other.customers, other.account_defaults = self.customers, self.account_defaults
        return other


class Crash(Exception):
    """The process died here (not a CrmError: nothing catches it)."""


class CrashingEventStore(InMemoryEventStore):
    """Dies before the appends whose numbers (1, 2, ... counted over its life) are in `crash_before`."""

    def __init__(self, crash_before: set[int] = frozenset()) -> None:
        super().__init__()
        self.crash_before = set(crash_before)
        self.appends = 0

    def append(self, events) -> None:
        self.appends += 1
        if self.appends in self.crash_before:
            raise Crash(f"crashed before append {self.appends}")
        super().append(events)
