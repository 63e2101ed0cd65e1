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
from billing.domain.errors import (CreditExceedsAmountDue, CreditExceedsInvoiced, InvalidInvoice,
                                   InvoiceNotCreditable, InvoiceNotPayable, Overpayment, PaymentNotFound)
from billing.domain.invoice_events import InvoiceCredited, InvoicePaid, InvoicePaymentRecorded, InvoicePaymentRemoved
from billing.domain.money import money_text
from billing.domain.payments import Payment, checked_payment, checked_payment_id
from billing.domain.totals import Totals

MAX_REASON = 500


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
        payment = checked_payment(payment_id, amount, paid_on, method, reference, currency=self.currency, today=today,
                                  issued_on=self.issued_on_date)
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

    def credit(self, credit_note_id: str, totals: Totals, credited_on: date) -> None:
        """Take a credit note off the amount due (once per credit note), checked at this revision (see
        `check_creditable`): never below zero, never more of a (category, rate) than was invoiced."""
        if credit_note_id in self.credits:
            return
        self.check_creditable(totals)
        due = self.amount_due - totals.total
        bases = [{"category": row.category, "rate": money_text(row.rate), "base": money_text(row.base)}
                 for row in totals.tax_breakdown]
        self._record(InvoiceCredited(self.id, self.account_id, self.contact_id, credit_note_id, self.currency,
                                     money_text(totals.total), money_text(due), bases))
        if due == 0 and self.payments:  # the payments cover what is left due: paid (fully credited is not paid)
            self._record(InvoicePaid(self.id, self.account_id, self.contact_id,
                                     max(payment.paid_on for payment in self.payments.values())))

    def check_creditable(self, totals: Totals, lines: list[dict] | None = None) -> None:
        """InvoiceNotCreditable unless issued; CreditExceedsInvoiced if a (category, rate) base of `totals` is more
        than the invoice's base of it not credited yet (naming the first of `lines` with that tax, when given);
        CreditExceedsAmountDue if the total is more than is due."""
        if self.stage != "issued":
            raise InvoiceNotCreditable(self.id, self.stage)
        left = self.base_left_to_credit()
        for row in totals.tax_breakdown:
            key = (row.category, row.rate)
            if row.base > left.get(key, Decimal(0)):
                field = next((f"lines.{index}" for index, line in enumerate(lines or ())
                              if any((tax["category"], Decimal(tax["rate"])) == key for tax in line["taxes"])),
                             "lines")
                raise CreditExceedsInvoiced(field, row.category, money_text(row.rate), money_text(row.base),
                                            money_text(left.get(key, Decimal(0))), self.currency)
        if totals.total > self.amount_due:
            raise CreditExceedsAmountDue(money_text(totals.total), money_text(self.amount_due), self.currency)

    def base_left_to_credit(self) -> dict[tuple[str, Decimal], Decimal]:
        """Per (category, rate): the invoice's taxable base less what credit notes took of it."""
        left = {(row.category, row.rate): row.base for row in self.totals.tax_breakdown}
        for bases in self.credited_bases.values():
            for key, base in bases.items():
                left[key] = left.get(key, Decimal(0)) - base
        return left

    def _same_payment_again(self, payment: Payment) -> Payment:
        if payment != self.payments[payment.payment_id]:
            raise InvalidInvoice("payment_id", "this invoice already has another payment with this id")
        return payment
