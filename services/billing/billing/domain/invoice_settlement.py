"""What is paid and credited on an issued invoice: the half of the Invoice aggregate (invoices.py) about money.

Payments: amount, date (from the issue date to today), method, reference; several partial payments
add up. A payment larger than the amount due is REFUSED with a 422 naming `amount` (Overpayment):
an overpayment is never kept as a credit. Removing a payment takes a reason. Credit notes reduce the
amount due (never below zero) and never credit more of a (category, rate) than was invoiced; they
are recorded on the invoice, so that one revision guards payments and credits alike. InvoicePaid
says payments cover what is due; an invoice credit notes cover in full, nothing paid, is credited.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.domain import document_lines
from billing.domain.calendar_days import client_day, lenient_day
from billing.domain.errors import (CreditExceedsAmountDue, CreditExceedsInvoiced, InvalidInvoice,
                                   InvoiceNotCreditable, InvoiceNotPayable, Overpayment, PaymentNotFound)
from billing.domain.invoice_events import InvoiceCredited, InvoicePaid, InvoicePaymentRecorded, InvoicePaymentRemoved
from billing.domain.money import money_text
from billing.domain.payments import Payment, as_recorded, checked_payment, checked_payment_id
from billing.domain.totals import Totals, line_amounts

MAX_REASON = 500
TaxKey = tuple[str, Decimal]  # (VAT category, rate)


class InvoiceSettlement:
    """Payments and credits of an Invoice (a mixin of it: it uses the invoice's state, revision and events)."""

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
        self.check_processable()
        retry = checked_payment_id(payment_id) in self.payments  # compared leniently: it may be of older code's time
        payment = checked_payment(payment_id, amount, paid_on, method, reference, currency=self.currency, today=today,
                                  issued_on=self.issued_on_date, read_day=lenient_day if retry else client_day)
        if retry:
            return self._same_payment_again(payment)
        self._check_revision(revision)
        due = self.amount_due - payment.amount
        if due < 0:
            raise Overpayment(money_text(payment.amount), money_text(self.amount_due), self.currency)
        self._record(InvoicePaymentRecorded(self.id, self.account_id, self.contact_id, payment.payment_id,
                                            money_text(payment.amount), payment.paid_on, payment.method,
                                            money_text(due), payment.reference))
        if due == 0:
            self._record(InvoicePaid(self.id, self.account_id, self.contact_id, payment.paid_on))
        return payment

    def remove_payment(self, revision: int | None, payment_id: object, reason: object) -> None:
        self._check_revision(revision)
        payment_id = checked_payment_id(payment_id)
        if payment_id not in self.payments:
            raise PaymentNotFound(self.id, payment_id)
        reason = document_lines.checked_text(reason, "reason", max_length=MAX_REASON, required=True)
        due = self.amount_due + self.payments[payment_id].amount
        self._record(InvoicePaymentRemoved(self.id, self.account_id, self.contact_id, payment_id, reason,
                                           money_text(due)))

    def credit(self, credit_note_id: str, totals: Totals, credited_on: date, lines: list[dict]) -> None:
        """Take a credit note (its totals and lines) off the amount due, once per credit note, checked at this
        revision (`check_creditable`): never below zero, never more of a (category, rate) than was invoiced."""
        if credit_note_id in self.credits:
            return
        credited = self.check_creditable(totals, lines)
        due = self.amount_due - totals.total
        bases = [{"category": category, "rate": money_text(rate), "amount": money_text(amount),
                  "base": money_text(base)} for (category, rate), (amount, base) in credited.items()]
        self._record(InvoiceCredited(self.id, self.account_id, self.contact_id, credit_note_id, self.currency,
                                     money_text(totals.total), money_text(due), bases))
        if due == 0 and self.payments:  # the payments cover what is left due: paid (fully credited is not paid)
            # dated the last payment's day, read as a day: older code kept a date as typed ("2026-W11-3" sorts
            # after every "2026-03-..." as text)
            self._record(InvoicePaid(self.id, self.account_id, self.contact_id,
                                     max(as_recorded(payment).paid_on for payment in self.payments.values())))

    def check_creditable(self, totals: Totals, lines: list[dict], *,
                         lines_given: bool = True) -> dict[TaxKey, tuple[Decimal, Decimal]]:
        """What a credit note of these totals and lines takes of each (category, rate): (amount, base).

        InvoiceNotCreditable unless issued. Per (category, rate), the lines' amounts (before the document
        discount: exact, line by line) may not exceed what the invoice has of them not credited yet, nor
        may the taxable base, unless the note credits all that is left of it: lines credited apart round
        their share of a document discount each, so the note completing a tax takes its base as what is
        left (a cent from its own, either way), and the invoice's bases are credited exactly, never more.
        CreditExceedsInvoiced names the first line with that tax (`lines.N`; `lines` when the client gave
        none: a credit of the whole invoice). CreditExceedsAmountDue if the total is more than is due.
        """
        if self.stage != "issued":
            raise InvoiceNotCreditable(self.id, self.stage)
        self.check_processable()
        left, amounts, credited = self.left_to_credit(), amounts_by_tax(lines, self.currency), {}
        for row in totals.tax_breakdown:
            key = (row.category, row.rate)
            amount_left, base_left = left.get(key, (Decimal(0), Decimal(0)))
            amount = amounts.get(key, Decimal(0))
            completes = amount == amount_left
            if amount > amount_left or (row.base > base_left and not completes):
                field = next((f"lines.{index}" for index, line in enumerate(lines if lines_given else ())
                              if any((tax["category"], Decimal(tax["rate"])) == key for tax in line["taxes"])),
                             "lines")
                raise CreditExceedsInvoiced(field, row.category, money_text(row.rate), money_text(row.base),
                                            money_text(base_left), self.currency)
            credited[key] = (amount, base_left if completes else row.base)
        if totals.total > self.amount_due:
            raise CreditExceedsAmountDue(money_text(totals.total), money_text(self.amount_due), self.currency)
        return credited

    def left_to_credit(self) -> dict[TaxKey, tuple[Decimal, Decimal]]:
        """Per (category, rate): the invoice's line amounts and taxable base less what credit notes took."""
        invoiced = amounts_by_tax(self.draft["lines"], self.currency)
        left = {(row.category, row.rate): [invoiced.get((row.category, row.rate), Decimal(0)), row.base]
                for row in self.totals.tax_breakdown}
        for credited in self.credited_bases.values():
            for key, (amount, base) in credited.items():
                left.setdefault(key, [Decimal(0), Decimal(0)])
                left[key][0] -= amount
                left[key][1] -= base
        return {key: (amount, base) for key, (amount, base) in left.items()}

    def base_left_to_credit(self) -> dict[TaxKey, Decimal]:
        """Per (category, rate): the invoice's taxable base less what credit notes took of it."""
        return {key: base for key, (_, base) in self.left_to_credit().items()}

    def _same_payment_again(self, payment: Payment) -> Payment:
        if payment != as_recorded(self.payments[payment.payment_id]):
            raise InvalidInvoice("payment_id", "this invoice already has another payment with this id")
        return payment


def amounts_by_tax(lines: list[dict], currency: str) -> dict[TaxKey, Decimal]:
    """Per (category, rate): the sum of these lines' amounts (quantity x unit price less the line discount,
    rounded: before any document discount), as totals.py computes each."""
    amounts: dict[TaxKey, Decimal] = {}
    for line, amount in zip(lines, line_amounts(document_lines.to_lines(lines), currency)):
        for tax in line["taxes"]:
            key = (tax["category"], Decimal(tax["rate"]))
            amounts[key] = amounts.get(key, Decimal(0)) + amount
    return amounts
