"""Handlers of the invoice and credit-note commands: one per command.

What they need of the unit of work (billing/service_layer/unit_of_work.py):
  uow.invoices         Repository[Invoice]
  uow.credit_notes     Repository[CreditNote]
  uow.number_series    NumberSeries (billing/domain/number_series.py)
  uow.customers        CustomerDirectory (billing/domain/customers.py), billing's projection of contacts
  uow.account_defaults AccountDefaultsSource (billing/domain/account_defaults.py), from the BillingSettings
and a `clock` (an aware datetime now) that bootstrap may inject; it defaults to the system's UTC clock.

Issuing writes in steps, each safe to repeat: the document is frozen (its IssueStarted event), its
number reserved, then its Issued event records the number. Sending the command again, or the sweep
of reserved numbers sending it, finishes an issue interrupted between two steps with the same number.
Numbers follow dates (the French rule): a document whose number is first asked for on a later day
than it was frozen is dated that day first (its IssueStarted again); one whose number was already
being reserved keeps its date. (Left open: an attempt dying between the claim and the reservation of
its number, then finished a day later, keeps the earlier date.)
An issue (or a credit note taken off its invoice) finished after its person's erasure restricted the invoice is
restricted with it, the retention extended to cover its issue year (domain/retention.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, TypeVar

from crm_platform import unit_of_work
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from billing.domain import commands
from billing.domain.account_defaults import AccountDefaults, utc_now
from billing.domain.credit_notes import CREDIT_NOTE_SERIES, CreditNote, credit_note_id_for
from billing.domain.customers import Customer
from billing.domain.errors import (CreditExceedsAmountDue, CreditNoteWasAbandoned, CustomerDeleted, IdAlreadyUsed,
                                   InvalidInvoice,
                                   InvoiceNotCreditable, InvoiceNotEditable, InvoiceNotFound, ProcessingRestricted,
                                   UnknownCustomer)
from billing.domain.invoices import INVOICE_SERIES, Invoice
from billing.domain.numbering import NumberPattern
from billing.domain.retention import retain_until

Clock = Callable[[], datetime]
T = TypeVar("T")
# what an invoice answers a credit it will not take (it was paid, voided or credited since the note started, or its
# person's erasure restricted it)
CREDIT_REFUSED = (InvoiceNotCreditable, CreditExceedsAmountDue, ProcessingRestricted)
ATTEMPTS = 3  # a write that lost a race to a retry of the same command is tried again on what that one wrote


def create_invoice_draft(cmd: commands.CreateInvoiceDraft, uow, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Invoice:
    """A new draft, the account's defaults filling what the command leaves out (None); once per given invoice_id.

    Sent again with its invoice_id and the same content, the draft is answered as it is now; other content
    with that id is a 409 naming invoice_id. A deleted draft's id, another account's and an erased one's are
    all answered 404 as if unknown here: nothing tells whose they are.
    """
    invoice_id = checked_invoice_id(cmd.invoice_id)
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not processed
    with uow:
        defaults = uow.account_defaults.for_account(cmd.account_id)
        content = {
            "currency": defaults.currency if cmd.currency is None else cmd.currency, "lines": cmd.lines,
            "payment_term": defaults.payment_term if cmd.payment_term is None else cmd.payment_term,
            "notes": defaults.notes if cmd.notes is None else cmd.notes,
            "legal_terms": defaults.legal_terms if cmd.legal_terms is None else cmd.legal_terms,
            "discount": cmd.discount, "prices_include_tax": cmd.prices_include_tax, "period": cmd.period,
        }
        if invoice_id is not None:
            existing = uow.invoices.find(cmd.account_id, invoice_id)
            if existing is not None and not existing.deleted:
                existing.check_created_with(contact_and_survivor(uow, cmd.account_id, cmd.contact_id), content)
                return existing
            if existing is not None or uow.invoices.ever_existed(invoice_id) or \
                    uow.credit_notes.ever_existed(invoice_id):
                raise InvoiceNotFound(invoice_id)
        customer = live_customer(uow, cmd.account_id, cmd.contact_id)
        invoice = Invoice.draft_new(cmd.account_id, customer.contact_id, content, invoice_id)
        uow.invoices.add(invoice)
        uow.commit()
    return invoice


def checked_invoice_id(invoice_id: object) -> str | None:
    """A client's own id for a new draft, or None; 422 naming invoice_id if it is not a short text."""
    if invoice_id is None:
        return None
    if not isinstance(invoice_id, str) or not invoice_id.strip() or len(invoice_id) > 200:
        raise InvalidInvoice("invoice_id", "your id for the new draft: a text of 1 to 200 characters")
    return invoice_id.strip()


def contact_and_survivor(uow, account_id: str, contact_id: object) -> set:
    """The contact a command names, and the one it was merged into if so (a retry may come after a merge)."""
    if not isinstance(contact_id, str):
        return set()
    found = uow.customers.find(account_id, contact_id.strip())
    return {contact_id.strip()} | ({found.contact_id} if found else set())


def update_invoice_draft(cmd: commands.UpdateInvoiceDraft, uow, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Invoice:
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        restrictions.refuse_edits(cmd.account_id, [invoice.contact_id, cmd.changes.get("contact_id")])  # Art. 18
        changes = dict(cmd.changes)
        if "contact_id" in changes:
            changes["contact_id"] = live_customer(uow, cmd.account_id, changes["contact_id"]).contact_id
        invoice.update_draft(cmd.revision, changes)
        uow.commit()
    return invoice


def delete_invoice_draft(cmd: commands.DeleteInvoiceDraft, uow) -> None:
    with uow:
        uow.invoices.get(cmd.account_id, cmd.invoice_id).delete_draft(cmd.revision)
        uow.commit()


def issue_invoice(cmd: commands.IssueInvoice, uow, clock: Clock = utc_now) -> Invoice:
    """Number and freeze the draft (or finish its issue: the same number, however often it is sent)."""
    return retried(lambda: issue_steps(uow, cmd.account_id, cmd.invoice_id, cmd.revision, clock))


def issue_steps(uow, account_id: str, invoice_id: str, revision: int | None, clock: Clock) -> Invoice:
    """The steps of an issue, each committed and safe to repeat: freeze the draft, date it, reserve its number, record
    it (what issue_invoice runs once more when a write loses a race)."""
    with uow:
        invoice = uow.invoices.get(account_id, invoice_id)
        return issue_tracked(uow, invoice, revision, uow.account_defaults.for_account(account_id), clock)


def issue_tracked(uow, invoice: Invoice, revision: int | None, defaults: AccountDefaults, clock: Clock,
                  customer: Customer | None = None) -> Invoice:
    """issue_steps on an invoice the open unit of work tracks, with its account's defaults (and its customer) read
    already: a generated recurring invoice, drafted in the same unit of work, so that its draft and its freezing are
    one commit."""
    account_id = invoice.account_id
    if invoice.stage == "draft":
        customer = customer or live_customer(uow, account_id, invoice.contact_id)
        invoice.start_issue(revision, defaults.today(clock), customer.contact_id, customer.buyer,
                            defaults.seller, NumberPattern.parse(defaults.invoice_pattern).text)
        uow.commit()
    if invoice.stage == "void":
        raise InvoiceNotEditable(invoice.id, invoice.stage)
    if invoice.stage == "issuing":
        today = defaults.today(clock)
        # frozen today (just now, most often): nothing to redate, and no need to read whether its number was claimed
        if invoice.issued_on_date < today and \
                not uow.number_series.claimed(account_id, INVOICE_SERIES, invoice.fiscal_year, invoice.id) \
                and invoice.redate(today):
            uow.commit()
        seq = uow.number_series.reserve(account_id, INVOICE_SERIES, invoice.fiscal_year, invoice.id)
        invoice.issue(NumberPattern.parse(invoice.number_pattern).render(invoice.fiscal_year, seq))
        uow.commit()
        if invoice.restriction is not None and _kept_longer(invoice, invoice.fiscal_year, defaults.today(clock)):
            uow.commit()  # restricted while issuing, then dated a later year: kept as long as that year says
    return invoice


def _kept_longer(invoice: Invoice, issue_year: int, today, notes: tuple = ()) -> bool:
    """Extend a restricted invoice's retention (and these credit notes', which share its key) to cover a document
    issued in `issue_year` after the restriction (domain/retention.py); whether anything was recorded."""
    until = max(invoice.retain_until, retain_until(issue_year))
    before = len(invoice.pending) + sum(len(note.pending) for note in notes)
    invoice.restrict_processing(until, invoice.restriction.legal_basis, today)
    for note in notes:
        note.restrict_processing(until, invoice.restriction.legal_basis, today)
    return len(invoice.pending) + sum(len(note.pending) for note in notes) > before


def record_payment(cmd: commands.RecordPayment, uow, clock: Clock = utc_now) -> Invoice:
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        today = uow.account_defaults.for_account(cmd.account_id).today(clock)
        invoice.record_payment(cmd.revision, cmd.amount, cmd.paid_on, cmd.method, cmd.reference, today=today,
                               payment_id=cmd.payment_id)
        uow.commit()
    return invoice


def remove_payment(cmd: commands.RemovePayment, uow) -> Invoice:
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        invoice.remove_payment(cmd.revision, cmd.payment_id, cmd.reason)
        uow.commit()
    return invoice


def void_invoice(cmd: commands.VoidInvoice, uow) -> Invoice:
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        invoice.void(cmd.revision, cmd.reason)
        uow.commit()
    return invoice


def issue_credit_note(cmd: commands.IssueCreditNote, uow, clock: Clock = utc_now) -> CreditNote:
    """Credit the invoice (all of it, or the lines given) with a numbered credit note; once per credit_note_id.

    The client's credit_note_id is a key, not the note's id: the note's id is made from it and the account
    (credit_note_id_for), so another account's key, or an id of another aggregate, names nothing here.

    If the invoice changed between the note's start and its credit (a payment, a void, another credit
    note) and now refuses it, the note is abandoned and the refusal answered (a 422 or 409).
    """
    note_id = credit_note_id_for(cmd.account_id, cmd.credit_note_id) if cmd.credit_note_id else None
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        note = uow.credit_notes.find(cmd.account_id, note_id) if note_id else None
        if note is None:
            if note_id and uow.credit_notes.ever_existed(note_id):  # an erased note's: said as any used id
                raise IdAlreadyUsed("credit_note_id")
            defaults = uow.account_defaults.for_account(cmd.account_id)
            note = CreditNote.start(invoice, cmd.lines, cmd.reason, defaults.today(clock), defaults.seller,
                                    NumberPattern.parse(defaults.credit_note_pattern).text, note_id)
            uow.credit_notes.add(note)
            uow.commit()
        elif note.invoice_id != invoice.id:
            raise InvalidInvoice("credit_note_id", "names a credit note of another invoice")
        elif note.abandoned:
            raise CreditNoteWasAbandoned(note.id, note.abandoned_because)
    return _finish_credit_note(uow, cmd.account_id, note.id, clock)


def finish_credit_note(cmd: commands.FinishCreditNote, uow, clock: Clock = utc_now) -> CreditNote:
    """Finish a credit note whose issue was interrupted (the sweep of reserved numbers sends it): issued, or
    abandoned if its invoice now refuses the credit (the sweep then leaves it be)."""
    try:
        return _finish_credit_note(uow, cmd.account_id, cmd.credit_note_id, clock)
    except CREDIT_REFUSED:
        with uow:
            return uow.credit_notes.get(cmd.account_id, cmd.credit_note_id)


def _finish_credit_note(uow, account_id: str, credit_note_id: str, clock: Clock) -> CreditNote:
    """Take a started credit note off its invoice's amount due, then number it (each step once); a credit the
    invoice refuses abandons the note, unnumbered, and the refusal is raised."""

    def attempt() -> CreditNote:
        with uow:
            note = uow.credit_notes.get(account_id, credit_note_id)
            if note.issued or note.abandoned:
                return note
            invoice = uow.invoices.get(account_id, note.invoice_id)
            try:
                invoice.credit(note.id, note.totals, note.issued_on, note.lines)
            except CREDIT_REFUSED as refused:
                note.abandon(refused.detail)
                uow.commit()
                raise
            uow.commit()
            if not uow.number_series.claimed(account_id, CREDIT_NOTE_SERIES, note.fiscal_year, note.id) and \
                    note.redate(uow.account_defaults.for_account(account_id).today(clock)):
                uow.commit()
            seq = uow.number_series.reserve(account_id, CREDIT_NOTE_SERIES, note.fiscal_year, note.id)
            note.issue(NumberPattern.parse(note.number_pattern).render(note.fiscal_year, seq))
            uow.commit()
            if invoice.restriction is not None and _kept_longer(  # credited before its person's erasure
                    invoice, note.fiscal_year, uow.account_defaults.for_account(account_id).today(clock), (note,)):
                uow.commit()
            return note

    return retried(attempt)


def retried(attempt: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """`attempt()`, run again (on what the other wrote) when its write lost a race to a retry of the same command:
    the kernel's crm_platform.unit_of_work.retried, with billing's number of attempts."""
    return unit_of_work.retried(attempt, attempts)


def live_customer(uow, account_id: str, contact_id: object) -> Customer:
    """The contact a document is for (the survivor of a merge); 422 naming contact_id if unknown or deleted."""
    if not isinstance(contact_id, str) or not contact_id.strip():
        raise InvalidInvoice("contact_id", "the id of a contact of this account")
    customer = uow.customers.find(account_id, contact_id.strip())
    if customer is None:
        raise UnknownCustomer(contact_id)
    if customer.deleted:
        raise CustomerDeleted(contact_id)
    return customer
