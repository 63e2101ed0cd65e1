"""The read models of quotes (`quotes`) and recurring invoices (`recurring_invoices`), for lists and the scheduler.

Built as the invoices' are (documents_projection.py): each event rewrites the whole document from the
aggregate at its revision, so a replayed or late event changes nothing; the buyer's name is kept
sealed. What depends on the day is derived when read (a sent quote is `expired` past its
`valid_until`: views.quote_status); a recurring invoice keeps `next_due_on`, the date its next
occurrence falls due (None when paused, cancelled or ended), which is what the scheduler asks for.
"""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from billing.adapters.documents_projection import AggregateStateProjection
from billing.domain.money import money_text
from billing.domain.quotes import Quote
from billing.domain.recurring_invoices import RecurringInvoice


class QuotesProjection(AggregateStateProjection):
    aggregate_type = Quote.aggregate_type
    aggregate_class = Quote
    deleting_events = ("QuoteDraftDeleted", "QuoteErased")

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("deleted", ASCENDING), ("created_at", DESCENDING),
                                      ("_id", DESCENDING)], name="account_listing")
        self.collection.create_index([("account_id", ASCENDING), ("contact_id", ASCENDING), ("created_at", DESCENDING)],
                                     name="account_contact")
        self.collection.create_index([("stage", ASCENDING), ("updated_at", ASCENDING)], name="interrupted_sends")

    def fields_of(self, quote: Quote) -> dict:
        fields = quote_fields(quote)
        return {**fields, "buyer_name": self.sealed_buyer_name(quote, fields["buyer_name"])}


class RecurringInvoicesProjection(AggregateStateProjection):
    aggregate_type = RecurringInvoice.aggregate_type
    aggregate_class = RecurringInvoice
    deleting_events = ("RecurringInvoiceErased",)

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                                     name="account_listing")
        self.collection.create_index([("state", ASCENDING), ("next_due_on", ASCENDING)], name="due")
        # a person's recurring invoices (adapters/person_documents.py: an equality per contact)
        self.collection.create_index([("account_id", ASCENDING), ("contact_id", ASCENDING)], name="account_contact")

    def fields_of(self, recurring: RecurringInvoice) -> dict:
        next_due_on = recurring.next_due_on
        return {
            "contact_id": recurring.contact_id, "subject_key": recurring.subject_key,
            "state": recurring.state, "ended": recurring.state == "active" and next_due_on is None,
            "mode": recurring.mode, "schedule": recurring.schedule.to_dict(),
            "currency": recurring.template["currency"],
            "next_due_on": None if next_due_on is None else next_due_on.isoformat(),
            "generated": len(recurring.generated),
        }


def quote_fields(quote: Quote) -> dict:
    """What the read model keeps of a quote (no I/O)."""
    return {
        "contact_id": quote.contact_id, "subject_key": quote.subject_key, "stage": quote.stage,
        "number": quote.number, "currency": quote.currency, "sent_on": quote.sent_on,
        "valid_until": quote.valid_until, "total": money_text(quote.totals.total), "invoice_id": quote.invoice_id,
        "decided_on": quote.decided_on, "buyer_name": quote.buyer.get("name") or quote.buyer.get("company"),
    }
