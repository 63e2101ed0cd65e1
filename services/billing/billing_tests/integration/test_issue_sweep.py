"""An issue interrupted between its steps is finished by the worker's sweep: no number is lost (no gap)."""
from datetime import date, timedelta

import pytest

from crm_platform.message_bus import Fresh, MessageBus

from billing.adapters.customer_directory import MongoCustomerDirectory
from billing.domain import commands
from billing.domain.credit_notes import CreditNote
from billing.domain.number_series import GaplessNumberSeries
from billing.domain.quote_commands import CreateQuoteDraft, SendQuote
from billing.service_layer import dispatch
from billing.service_layer.issue_sweep import finish_interrupted_issues
from billing.service_layer.unit_of_work import UnitOfWork

from ..contact_events import LOUISE, ContactEvents

LINE = {"description": "Audit", "quantity": "1", "unit": "jour", "unit_price": "800", "taxes": [{"category": "S", "rate": "20"}]}


class Crash(Exception):
    """The process dying at that point."""


class CrashingSeries(GaplessNumberSeries):
    """Reserves the number (or not), then the process dies before the Issued event is written."""

    def __init__(self, ledger, reserve_first: bool) -> None:
        super().__init__(ledger)
        self.reserve_first = reserve_first

    def reserve(self, *args) -> int:
        if self.reserve_first:
            super().reserve(*args)
        raise Crash()


@pytest.fixture
def customer(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:1", LOUISE))
    return "contact:1"


@pytest.fixture
def sweep(container):
    """One sweep of this process (one lease owner, as a worker is), since before now minus a grace."""
    lease = container.sweep_lease()
    return lambda grace: finish_interrupted_issues(container.bus, container.interrupted_issues, lease,
                                                   container.retry_backoff, grace=grace)


def crashing_bus(container, reserve_first: bool) -> MessageBus:
    series = CrashingSeries(container.reservation_ledger, reserve_first)
    uow = Fresh(lambda: UnitOfWork(container.event_store, container.cipher, series,
                                   MongoCustomerDirectory(container.db["customers"])))
    return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {"uow": uow})


def project(container) -> None:
    for envelope in container.event_store.read_all():
        container.apply_to_documents(envelope)


@pytest.mark.parametrize("reserve_first", [True, False], ids=["number-reserved", "before-reserving"])
def test_the_sweep_finishes_an_interrupted_issue_with_the_next_number(container, customer, reserve_first, sweep):
    bus = container.bus
    crashed = bus.handle(commands.CreateInvoiceDraft("acct-1", customer, (LINE,)))
    with pytest.raises(Crash):
        crashing_bus(container, reserve_first).handle(commands.IssueInvoice("acct-1", crashed.id))
    project(container)
    assert container.invoices.collection.find_one({"_id": crashed.id})["stage"] == "issuing"
    assert sweep(timedelta(minutes=5)) == 0
    later = bus.handle(commands.IssueInvoice("acct-1", bus.handle(commands.CreateInvoiceDraft("acct-1", customer, (LINE,))).id))

    assert sweep(timedelta(0)) == 1
    finished = bus.handle(commands.IssueInvoice("acct-1", crashed.id))  # what the sweep left: issued, once
    numbers = sorted([finished.number, later.number])
    assert numbers == ["F-%d-0001" % finished.fiscal_year, "F-%d-0002" % finished.fiscal_year]
    if reserve_first:
        assert finished.number.endswith("0001")  # the number reserved before the crash, not a new one
    project(container)
    assert sweep(timedelta(0)) == 0


def test_the_sweep_abandons_a_credit_note_its_invoice_refuses_once_and_then_leaves_it_be(container, customer, sweep):
    bus = container.bus
    invoice = bus.handle(commands.IssueInvoice("acct-1", bus.handle(commands.CreateInvoiceDraft("acct-1", customer,
                                                                                                (LINE,))).id))
    with UnitOfWork(container.event_store, container.cipher) as uow:  # the note started, then the process died
        note = CreditNote.start(uow.invoices.get("acct-1", invoice.id), None, "Annulée", date(2026, 3, 11),
                                {"name": "Agence"}, "AV-{YYYY}-{SEQ:4}")
        uow.credit_notes.add(note)
        uow.commit()
    bus.handle(commands.VoidInvoice("acct-1", invoice.id, "Doublon"))  # nothing was credited yet: voidable
    project(container)
    assert sweep(timedelta(0)) == 1
    project(container)
    assert container.credit_notes.collection.find_one({"_id": note.id})["status"] == "abandoned"
    assert sweep(timedelta(0)) == 0


def test_the_sweep_finishes_a_quote_left_sending_with_the_number_reserved_for_it(container, customer, sweep):
    bus = container.bus
    crashed = bus.handle(CreateQuoteDraft("acct-1", customer, (LINE,)))
    with pytest.raises(Crash):
        crashing_bus(container, reserve_first=True).handle(SendQuote("acct-1", crashed.id))
    project(container)
    assert container.quotes.collection.find_one({"_id": crashed.id})["stage"] == "sending"
    later = bus.handle(SendQuote("acct-1", bus.handle(CreateQuoteDraft("acct-1", customer, (LINE,))).id))

    assert sweep(timedelta(0)) == 1
    finished = bus.handle(SendQuote("acct-1", crashed.id))  # what the sweep left: sent, once
    assert (finished.stage, finished.number, later.number) == ("sent", f"D-{finished.fiscal_year}-0001",
                                                               f"D-{finished.fiscal_year}-0002")
    project(container)
    assert sweep(timedelta(0)) == 0


def test_only_the_worker_holding_the_lease_sweeps(container, customer, sweep):
    crashed = container.bus.handle(commands.CreateInvoiceDraft("acct-1", customer, (LINE,)))
    with pytest.raises(Crash):
        crashing_bus(container, reserve_first=True).handle(commands.IssueInvoice("acct-1", crashed.id))
    project(container)
    other_worker = container.sweep_lease()
    assert other_worker.acquire_or_renew()
    assert sweep(timedelta(0)) == 0  # the other worker sweeps
    other_worker.release()
    assert sweep(timedelta(0)) == 1
