"""Handlers of the recurring-invoice commands, and the scheduler's: generate what is due, each occurrence once.

What they need of the unit of work:
  uow.recurring_invoices Repository[RecurringInvoice]
  uow.invoices           Repository[Invoice]
  uow.number_series, uow.customers, uow.account_defaults   as the invoice handlers (issue mode issues)
and a `clock` (an aware datetime now); "today" is the account's date in its time zone.

Generating occurrence k writes in steps, each safe to repeat: the invoice, whose id is made from
(recurring invoice id, k), as a draft (in issue mode, drafted and frozen in one commit, then numbered:
handlers.issue_tracked, the invoice's own issue steps); then RecurringInvoiceGenerated. A scheduler that
crashes between two steps, or a second one running at the same time, finds the invoice of k already there
and finishes: never a second invoice for k, and k is recorded once (a concurrent writer loses on the
aggregate's revision and retries).
"""
from __future__ import annotations

import logging

from crm_platform.event_store import ConcurrencyConflict
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from billing.domain import recurring_commands as commands
from billing.domain.account_defaults import AccountDefaults, utc_now
from billing.domain.invoices import Invoice
from billing.domain.recurrence import MAX_CATCH_UP
from billing.domain.recurring_invoices import RecurringInvoice
from billing.service_layer.handlers import Clock, contact_and_survivor, issue_tracked, live_customer

log = logging.getLogger(__name__)


def create_recurring_invoice(cmd: commands.CreateRecurringInvoice, uow,
                             restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> RecurringInvoice:
    """A new active recurring invoice, the account's defaults filling what the command leaves out; once per given
    recurring_invoice_id: sent again with the same content it is answered as it is now, other content with that id
    is a 409 naming recurring_invoice_id (as invoices and quotes do)."""
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not processed
    with uow:
        defaults = uow.account_defaults.for_account(cmd.account_id)
        template = {
            "currency": cmd.currency or defaults.currency, "lines": list(cmd.lines),
            "payment_term": cmd.payment_term or defaults.payment_term,
            "notes": defaults.notes if cmd.notes is None else cmd.notes,
            "legal_terms": defaults.legal_terms if cmd.legal_terms is None else cmd.legal_terms,
            "discount": cmd.discount, "prices_include_tax": cmd.prices_include_tax,
        }
        if cmd.recurring_invoice_id is not None and (
                existing := uow.recurring_invoices.find(cmd.account_id, cmd.recurring_invoice_id)):
            existing.check_created_with(contact_and_survivor(uow, cmd.account_id, cmd.contact_id), cmd.schedule,
                                        cmd.mode, template)
            return existing
        customer = live_customer(uow, cmd.account_id, cmd.contact_id)
        recurring = RecurringInvoice.schedule_new(cmd.account_id, customer.contact_id, cmd.schedule, cmd.mode,
                                                  template, cmd.recurring_invoice_id)
        uow.recurring_invoices.add(recurring)
        uow.commit()
    return recurring


def edit_recurring_invoice(cmd: commands.EditRecurringInvoice, uow,
                           restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> RecurringInvoice:
    with uow:
        recurring = uow.recurring_invoices.get(cmd.account_id, cmd.recurring_invoice_id)
        restrictions.refuse_edits(cmd.account_id, [recurring.contact_id, cmd.changes.get("contact_id")])  # Art. 18
        changes = dict(cmd.changes)
        if "contact_id" in changes:
            changes["contact_id"] = live_customer(uow, cmd.account_id, changes["contact_id"]).contact_id
        recurring.edit(cmd.revision, changes)
        uow.commit()
    return recurring


def pause_recurring_invoice(cmd: commands.PauseRecurringInvoice, uow, clock: Clock = utc_now) -> RecurringInvoice:
    with uow:
        recurring = uow.recurring_invoices.get(cmd.account_id, cmd.recurring_invoice_id)
        recurring.pause(cmd.revision, uow.account_defaults.for_account(cmd.account_id).today(clock))
        uow.commit()
    return recurring


def resume_recurring_invoice(cmd: commands.ResumeRecurringInvoice, uow, clock: Clock = utc_now) -> RecurringInvoice:
    with uow:
        recurring = uow.recurring_invoices.get(cmd.account_id, cmd.recurring_invoice_id)
        recurring.resume(cmd.revision, uow.account_defaults.for_account(cmd.account_id).today(clock))
        uow.commit()
    return recurring


def cancel_recurring_invoice(cmd: commands.CancelRecurringInvoice, uow, clock: Clock = utc_now) -> RecurringInvoice:
    with uow:
        recurring = uow.recurring_invoices.get(cmd.account_id, cmd.recurring_invoice_id)
        recurring.cancel(cmd.revision, uow.account_defaults.for_account(cmd.account_id).today(clock))
        uow.commit()
    return recurring


def generate_due_invoices(cmd: commands.GenerateDueInvoices, uow, clock: Clock = utc_now,
                          restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> list[str]:
    """Generate the occurrences due today, oldest first, at most MAX_CATCH_UP (the scheduler comes back for the
    rest); the ids of the invoices this call made or finished. No new invoice is drafted for a customer whose
    processing is restricted (Art. 18): ProcessingRestricted, which the scheduler logs and backs off from.

    The recurring invoice and the account's defaults are read once per call, not per occurrence (the recurring
    invoice's history grows by an event per occurrence: reading it for each made a catch-up quadratic). Before an
    invoice is drafted from it, one primary-key read checks that nothing was written to it since (an edit, a pause,
    a second scheduler); if something was, or a commit of it loses a race, it is read again and generation goes on
    from what the other wrote. An edit of the account's settings made during a call applies from the next call."""
    made: list[str] = []
    with uow:
        recurring = uow.recurring_invoices.get(cmd.account_id, cmd.recurring_invoice_id)
        defaults = uow.account_defaults.for_account(cmd.account_id)
    while len(made) < MAX_CATCH_UP:
        due = recurring.due(defaults.today(clock), limit=1)
        if not due:
            return made
        invoice_id, recurring = _generate(uow, recurring, due[0].k, defaults, clock, restrictions)
        if invoice_id is not None:
            made.append(invoice_id)
    return made


# An occurrence takes several writes (draft, issue steps, Generated), each of which a second scheduler running at
# the same moment (a lease handed over, an operator's run) may win: each lost race is retried on what it wrote.
GENERATE_ATTEMPTS = 10


def _generate(uow, recurring: RecurringInvoice, k: int, defaults: AccountDefaults, clock: Clock,
              restrictions: RestrictionCheck) -> tuple[str | None, RecurringInvoice]:
    """Occurrence k's invoice id, and the recurring invoice as it is now; None for the id if, read again after
    another write, k is no longer to generate (paused, cancelled, or given a new schedule meanwhile) and its
    invoice was not made yet, or was made but can no longer be k's (resumed past k, or a new schedule)."""
    on = recurring.occurrence(k).on
    for attempts_left in reversed(range(GENERATE_ATTEMPTS)):
        try:
            return _generate_steps(uow, recurring, k, defaults, clock, restrictions), recurring
        except ConcurrencyConflict:
            if not attempts_left:
                raise
            with uow:  # another write came first: go on from what it wrote
                recurring = uow.recurring_invoices.get(recurring.account_id, recurring.id)
                made = uow.invoices.has_events(recurring.occurrence(k).invoice_id)
            if k in recurring.generated:
                continue
            due = recurring.due(defaults.today(clock), limit=1)
            # An invoice already made for k (drafted, or issued and numbered) before a pause or cancel won the race is
            # recorded all the same, as record_generated allows, while k is still the next occurrence of the same
            # date; after a resume past k or a new schedule it cannot be: it is left, and logged
            recordable = made and k == recurring.next_k and recurring.occurrence(k).on == on
            if (not due or due[0].k != k) and not recordable:
                if made:
                    log.warning("a recurring invoice changed while its occurrence was made: the invoice is left "
                                "unrecorded", extra={"recurring_invoice_id": recurring.id, "k": k,
                                                     "invoice_id": recurring.occurrence(k).invoice_id})
                return None, recurring
    raise AssertionError("GENERATE_ATTEMPTS is at least 1")


def _generate_steps(uow, recurring: RecurringInvoice, k: int, defaults: AccountDefaults, clock: Clock,
                    restrictions: RestrictionCheck) -> str:
    """Make, issue (in issue mode) and record occurrence k of `recurring` (read in an earlier unit of work: a commit
    of it raises ConcurrencyConflict if another write came since)."""
    if k in recurring.generated:
        return recurring.generated[k]
    account_id = recurring.account_id
    occurrence = recurring.occurrence(k)
    with uow:
        uow.recurring_invoices.add(recurring)  # tracked again, so that recording k commits it
        invoice = uow.invoices.find(account_id, occurrence.invoice_id) \
            if uow.invoices.has_events(occurrence.invoice_id) else None  # made by a run that stopped, or another
        customer = None
        if invoice is None:
            if uow.recurring_invoices.written_since_read(recurring):  # paused, edited... since: not from what was read
                raise ConcurrencyConflict(f"recurring invoice {recurring.id} changed since it was read")
            recurring.check_can_generate(k, defaults.today(clock))
            restrictions.refuse_edits(account_id, [recurring.contact_id])  # Art. 18: no new invoice drafted
            customer = live_customer(uow, account_id, recurring.contact_id)
            invoice = Invoice.draft_new(account_id, customer.contact_id, recurring.invoice_content(occurrence),
                                        occurrence.invoice_id)
            uow.invoices.add(invoice)
            if recurring.mode != "issue":
                uow.commit()
        if recurring.mode == "issue" and not invoice.gone and invoice.stage in ("draft", "issuing"):
            issue_tracked(uow, invoice, None, defaults, clock, customer)  # a new draft and its freezing: one commit
        recurring.record_generated(k, occurrence.invoice_id)
        uow.commit()
    return occurrence.invoice_id
