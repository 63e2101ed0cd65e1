"""The invoice: a draft edited freely, then issued (numbered and frozen), paid, credited or voided.

Stages: draft -> issuing (frozen, its number being reserved) -> issued -> void. What a client sees
as the status is derived (`status(today)`): draft, issuing, issued, partially_paid, paid, overdue
(past its due date in the account's time zone, `today` is passed in), void.

Payments: amount, date, method, reference; several partial payments add up. A payment larger than
the amount due is REFUSED with a 422 naming `amount` (Overpayment): an overpayment is never kept
as a credit. Removing a payment takes a reason. Credit notes reduce the amount due (never below
zero) and are recorded here too, so that one revision guards payments and credits alike.
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from crm_platform.aggregates import Aggregate
from crm_platform.errors import InvalidInput

from billing.domain import document_lines
from billing.domain.errors import (CreditExceedsAmountDue, InvalidInvoice, InvoiceNotCreditable, InvoiceNotEditable,
                                   InvoiceNotFound, InvoiceNotPayable, InvoiceNotVoidable, Overpayment,
                                   PaymentNotFound, StaleInvoiceRevision)
from billing.domain.invoice_events import (INVOICE_EVENTS, DraftContent, InvoiceCredited, InvoiceDrafted,
                                           InvoiceDraftDeleted, InvoiceDraftUpdated, InvoiceEvent, InvoiceIssued,
                                           InvoiceIssueStarted, InvoicePaid, InvoicePaymentRecorded, InvoicePaymentRemoved, InvoiceVoided)
from billing.domain.money import money_text
from billing.domain.payment_terms import PaymentTerm, due_date
from billing.domain.payments import Payment, checked_payment
from billing.domain.totals import Totals, compute_totals

INVOICE_SERIES = "invoices"
MAX_REASON = 500


class Invoice(Aggregate):
    aggregate_type = "Invoice"
    event_classes = INVOICE_EVENTS
    not_found_error = InvoiceNotFound

    def __init__(self, invoice_id: str, account_id: str) -> None:
        super().__init__(invoice_id, account_id)
        self.stage = "draft"  # draft, issuing, issued, void
        self.draft: dict = {}  # the InvoiceDrafted fields but the ids: contact_id, currency, lines...
        self.issued_on: str | None = None
        self.due_on: str | None = None
        self.fiscal_year: int | None = None
        self.number_pattern: str | None = None
        self.number: str | None = None
        self.buyer: dict = {}
        self.seller: dict = {}
        self.frozen_totals: Totals | None = None
        self.payments: dict[str, Payment] = {}
        self.credits: dict[str, Decimal] = {}  # credit note id -> amount
        self.paid_on: str | None = None

    # --- the draft ---------------------------------------------------------------------------------------

    @classmethod
    def draft_new(cls, account_id: str, contact_id: str, content: dict, invoice_id: str | None = None) -> "Invoice":
        """A new draft; `content` holds the DRAFT_FIELDS but contact_id, as a client gives them (checked)."""
        invoice = cls(invoice_id or f"invoice:{uuid.uuid4()}", account_id)
        fields = document_lines.checked_draft({**content, "contact_id": contact_id})
        invoice._record(InvoiceDrafted(invoice.id, account_id, **fields))
        return invoice

    def update_draft(self, revision: int | None, changes: dict) -> None:
        """Apply a client's changes (any of the DRAFT_FIELDS); nothing is recorded if nothing changes."""
        self._check_stage("draft", revision)
        unknown = sorted(set(changes) - set(document_lines.DRAFT_FIELDS))
        if unknown:
            raise InvalidInvoice(unknown[0], "unknown field, or not editable")
        fields = document_lines.checked_draft({**self._stored_draft(), **changes})
        if fields != self.draft:
            self._record(InvoiceDraftUpdated(self.id, self.account_id, **fields))

    def delete_draft(self, revision: int | None) -> None:
        self._check_stage("draft", revision)
        self._record(InvoiceDraftDeleted(self.id, self.account_id))

    @property
    def contact_id(self) -> str:
        return self.draft.get("contact_id", "")

    @property
    def currency(self) -> str:
        return self.draft.get("currency", "")

    @property
    def totals(self) -> Totals:
        """Frozen at issue; a draft's are computed from its lines as they are now."""
        if self.frozen_totals is not None:
            return self.frozen_totals
        return compute_totals(document_lines.to_lines(self.draft["lines"]), self.currency,
                              prices_include_tax=self.draft["prices_include_tax"],
                              discount=document_lines.to_discount(self.draft.get("discount")))

    # --- issuing -------------------------------------------------------------------------------------------

    def start_issue(self, revision: int | None, issued_on: date, buyer_contact_id: str, buyer: dict, seller: dict,
                    number_pattern: str) -> None:
        """Freeze the draft for issuing on `issued_on` (its number is reserved next, then `issue` records it).

        An invoice already issuing or issued is left as it is (a retry finishes the issue started before).
        """
        if self.stage in ("issuing", "issued"):
            return
        self._check_stage("draft", revision)
        if not self.draft["lines"]:
            raise InvalidInvoice("lines", "an invoice is issued with at least one line")
        totals = self.totals
        if totals.total < 0:
            raise InvalidInvoice("discount", "the total would be negative")
        try:
            due_on = due_date(issued_on, PaymentTerm.parse(self.draft["payment_term"], "payment_term"))
        except InvalidInput as exc:  # a fixed due date before the issue date; named as this draft's field
            raise InvalidInvoice("payment_term.on", exc.errors.popitem()[1][0]) from None
        self._record(InvoiceIssueStarted(self.id, self.account_id, buyer_contact_id, issued_on.isoformat(),
                                         due_on.isoformat(), issued_on.year, number_pattern, dict(buyer),
                                         dict(seller), totals.to_dict()))

    def issue(self, number: str) -> None:
        """Record the reserved number: the invoice is issued (once: a retry changes nothing)."""
        if self.stage == "issued" or self.stage == "void":
            return
        if self.stage != "issuing":
            raise InvoiceNotEditable(self.id, self.stage)
        self._record(InvoiceIssued(self.id, self.account_id, self.contact_id, number, self.issued_on, self.due_on,
                                   self.currency, money_text(self.totals.total)))

    @property
    def issued_on_date(self) -> date | None:
        return None if self.issued_on is None else date.fromisoformat(self.issued_on)

    # --- payments and credits ------------------------------------------------------------------------------

    @property
    def amount_paid(self) -> Decimal:
        return sum((payment.amount for payment in self.payments.values()), Decimal(0))

    @property
    def amount_credited(self) -> Decimal:
        return sum(self.credits.values(), Decimal(0))

    @property
    def amount_due(self) -> Decimal:
        """Total less payments and credit notes; never below zero."""
        return self.totals.total - self.amount_paid - self.amount_credited

    def record_payment(self, revision: int | None, amount: object, paid_on: object, method: object,
                       reference: object = None, *, today: date, payment_id: str | None = None) -> Payment:
        """Record a payment of at most the amount due (Overpayment, a 422 naming `amount`, otherwise).

        A payment id sent again with the same payment is the same payment: nothing new is recorded.
        """
        if self.stage != "issued":
            raise InvoiceNotPayable(self.id, self.stage)
        payment = checked_payment(payment_id, amount, paid_on, method, reference, currency=self.currency, today=today)
        if payment.payment_id in self.payments:
            return self._same_payment_again(payment)
        self._check_revision(revision)
        due = self.amount_due - payment.amount
        if due < 0:
            raise Overpayment(money_text(payment.amount), money_text(self.amount_due), self.currency)
        self._record(InvoicePaymentRecorded(self.id, self.account_id, self.contact_id, payment.payment_id,
                                            money_text(payment.amount), payment.paid_on, payment.method,
                                            money_text(due), payment.reference))
        if due == 0:
            self._record(InvoicePaid(self.id, self.account_id, payment.paid_on))
        return payment

    def remove_payment(self, revision: int | None, payment_id: str, reason: object) -> None:
        self._check_revision(revision)
        if payment_id not in self.payments:
            raise PaymentNotFound(self.id, payment_id)
        reason = document_lines.checked_text(reason, "reason", max_length=MAX_REASON, required=True)
        due = self.amount_due + self.payments[payment_id].amount
        self._record(InvoicePaymentRemoved(self.id, self.account_id, self.contact_id, payment_id, reason,
                                           money_text(due)))

    def credit(self, credit_note_id: str, amount: Decimal, credited_on: date) -> None:
        """Take a credit note's total off the amount due (once per credit note); never below zero."""
        if credit_note_id in self.credits:
            return
        self.check_creditable(amount)
        due = self.amount_due - amount
        self._record(InvoiceCredited(self.id, self.account_id, credit_note_id, money_text(amount), money_text(due)))
        if due == 0:
            self._record(InvoicePaid(self.id, self.account_id, credited_on.isoformat()))

    def check_creditable(self, amount: Decimal) -> None:
        """InvoiceNotCreditable unless issued; CreditExceedsAmountDue if `amount` is more than is due."""
        if self.stage != "issued":
            raise InvoiceNotCreditable(self.id, self.stage)
        if amount > self.amount_due:
            raise CreditExceedsAmountDue(money_text(amount), money_text(self.amount_due), self.currency)

    def void(self, revision: int | None, reason: object) -> None:
        """Cancel an issued invoice that nothing was paid or credited on (drafts are deleted instead)."""
        self._check_revision(revision)
        if self.stage != "issued":
            raise InvoiceNotVoidable(self.id, f"it is {self.stage}; only issued invoices are voided")
        if self.payments:
            raise InvoiceNotVoidable(self.id, "it has payments; remove them first")
        if self.credits:
            raise InvoiceNotVoidable(self.id, "credit notes were issued against it")
        reason = document_lines.checked_text(reason, "reason", max_length=MAX_REASON, required=True)
        self._record(InvoiceVoided(self.id, self.account_id, self.contact_id, reason))

    def status(self, today: date) -> str:
        """draft, issuing, issued, partially_paid, paid, overdue or void; `today` in the account's time zone."""
        if self.stage != "issued":
            return self.stage
        if self.amount_due <= 0:
            return "paid"
        if today > date.fromisoformat(self.due_on):
            return "overdue"
        return "partially_paid" if self.payments else "issued"

    # --- rules shared by the steps above ---------------------------------------------------------------------

    def _same_payment_again(self, payment: Payment) -> Payment:
        if payment != self.payments[payment.payment_id]:
            raise InvalidInvoice("payment_id", "this invoice already has another payment with this id")
        return payment

    def _check_stage(self, stage: str, revision: int | None) -> None:
        self._check_revision(revision)
        if self.stage != stage:
            raise InvoiceNotEditable(self.id, self.stage)

    def _check_revision(self, revision: int | None) -> None:
        if self.deleted:
            raise InvoiceNotFound(self.id)
        if revision is not None and revision != self.revision:
            raise StaleInvoiceRevision(self.id, revision, self.revision)

    def _stored_draft(self) -> dict:
        return {name: self.draft.get(name) for name in document_lines.DRAFT_FIELDS}

    def _apply(self, event: InvoiceEvent) -> None:
        if isinstance(event, DraftContent):  # InvoiceDrafted, InvoiceDraftUpdated
            self.draft = {name: getattr(event, name) for name in document_lines.DRAFT_FIELDS}
            self.draft["lines"] = list(event.lines)
        elif isinstance(event, InvoiceDraftDeleted):
            self.deleted = True
        elif isinstance(event, InvoiceIssueStarted):
            self.stage = "issuing"
            self.draft["contact_id"] = event.contact_id
            self.issued_on, self.due_on, self.fiscal_year = event.issued_on, event.due_on, event.fiscal_year
            self.number_pattern, self.buyer, self.seller = event.number_pattern, event.buyer, event.seller
            self.frozen_totals = Totals.from_dict(event.totals)
        elif isinstance(event, InvoiceIssued):
            self.stage, self.number = "issued", event.number
        elif isinstance(event, InvoicePaymentRecorded):
            self.payments[event.payment_id] = Payment(event.payment_id, Decimal(event.amount), event.paid_on,
                                                      event.method, event.reference)
        elif isinstance(event, InvoicePaymentRemoved):
            self.payments.pop(event.payment_id, None)
            self.paid_on = None
        elif isinstance(event, InvoiceCredited):
            self.credits[event.credit_note_id] = Decimal(event.amount)
        elif isinstance(event, InvoicePaid):
            self.paid_on = event.paid_on
        elif isinstance(event, InvoiceVoided):
            self.stage = "void"
