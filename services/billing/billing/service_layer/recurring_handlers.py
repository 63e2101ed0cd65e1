"""Handlers of the recurring-invoice commands, and the scheduler's: generate what is due, each occurrence once.

What they need of the unit of work:
  uow.recurring_invoices Repository[RecurringInvoice]
  uow.invoices           Repository[Invoice]
  uow.number_series, uow.customers, uow.account_defaults   as the invoice handlers (issue mode issues)
and a `clock` (an aware datetime now); "today" is the account's date in its time zone.

Generating occurrence k writes in steps, each safe to repeat: the invoice, whose id is made from
(recurring invoice id, k), as a draft; in issue mode, its issue (handlers.issue_steps, the invoice's
own steps); then RecurringInvoiceGenerated. A scheduler that crashes between two steps, or a second one
running at the same time, finds the invoice of k already there and finishes: never a second invoice
for k, and k is recorded once (a concurrent writer loses on the aggregate's revision and retries).
"""
from __future__ import annotations

from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from billing.domain import recurring_commands as commands
from billing.domain.account_defaults import utc_now
from billing.domain.invoices import Invoice
from billing.domain.recurrence import MAX_CATCH_UP
from billing.domain.recurring_invoices import RecurringInvoice
from billing.service_layer.handlers import Clock, contact_and_survivor, issue_steps, live_customer, retried


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
    processing is restricted (Art. 18): ProcessingRestricted, which the scheduler logs and backs off from."""
    made: list[str] = []
    while len(made) < MAX_CATCH_UP:
        with uow:
            recurring = uow.recurring_invoices.get(cmd.account_id, cmd.recurring_invoice_id)
            due = recurring.due(uow.account_defaults.for_account(cmd.account_id).today(clock), limit=1)
        if not due:
            return made
        made.append(_generate(uow, cmd.account_id, cmd.recurring_invoice_id, due[0].k, clock, restrictions))
    return made


# An occurrence takes several writes (draft, issue steps, Generated), each of which a second scheduler running at
# the same moment (a lease handed over, an operator's run) may win: each lost race is retried on what it wrote.
GENERATE_ATTEMPTS = 10


def _generate(uow, account_id: str, recurring_invoice_id: str, k: int, clock: Clock,
              restrictions: RestrictionCheck) -> str:
    return retried(lambda: _generate_steps(uow, account_id, recurring_invoice_id, k, clock, restrictions),
                   GENERATE_ATTEMPTS)


def _generate_steps(uow, account_id: str, recurring_invoice_id: str, k: int, clock: Clock,
                    restrictions: RestrictionCheck) -> str:
    with uow:
        recurring = uow.recurring_invoices.get(account_id, recurring_invoice_id)
        if k in recurring.generated:
            return recurring.generated[k]
        occurrence = recurring.occurrence(k)
        invoice = uow.invoices.find(account_id, occurrence.invoice_id)
        if invoice is None:
            recurring.check_can_generate(k, uow.account_defaults.for_account(account_id).today(clock))
            restrictions.refuse_edits(account_id, [recurring.contact_id])  # Art. 18: no new invoice drafted
            customer = live_customer(uow, account_id, recurring.contact_id)
            invoice = Invoice.draft_new(account_id, customer.contact_id, recurring.invoice_content(),
                                        occurrence.invoice_id)
            uow.invoices.add(invoice)
            uow.commit()
    if recurring.mode == "issue" and not invoice.gone and invoice.stage in ("draft", "issuing"):
        issue_steps(uow, account_id, occurrence.invoice_id, None, clock)  # each step safe to repeat
    with uow:
        recurring = uow.recurring_invoices.get(account_id, recurring_invoice_id)
        recurring.record_generated(k, occurrence.invoice_id)
        uow.commit()
    return occurrence.invoice_id
