"""The quote: a draft edited freely, then sent (numbered and frozen), accepted or declined, converted to an invoice.

Stages: draft -> sending (frozen, its number being reserved) -> sent -> accepted | declined;
sent or accepted -> converted. The status a client sees is derived (`status(now, time_zone)`):
a sent quote is `expired` once the account's day is past its `valid_until` (it is valid through the
END of that day in the account's time zone).

Who may do what: acceptance is the customer's, recorded by staff on their behalf, and an expired
quote cannot be accepted. Staff may decline a sent quote (expired or not) and may convert a sent,
expired or accepted quote (not a declined one) to a draft invoice carrying its lines.
Converting is IDEMPOTENT: a converted quote converted again names the same invoice and records nothing.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from crm_platform.aggregates import Aggregate
from crm_platform.errors import InvalidInput

from billing.domain import document_lines
from billing.domain.calendar_days import client_day, lenient_day
from billing.domain.errors import QuoteExpired, QuoteIdTaken, QuoteNotAllowed, QuoteNotFound, StaleQuoteRevision
from billing.domain.money import money_text, parse_currency
from billing.domain.quote_events import (QUOTE_EVENTS, QUOTE_SUBJECT, QuoteAccepted, QuoteContent, QuoteConverted,
                                         QuoteDeclined, QuoteDraftDeleted, QuoteDrafted, QuoteDraftUpdated, QuoteErased,
                                         QuoteEvent, QuoteMailed, QuoteMailFailed, QuoteMailRequested,
                                         QuoteSendStarted, QuoteSent)
from billing.domain.document_mail import DocumentNotSendable, DocumentSend
from billing.domain.mailed_documents import MailedDocument
from billing.domain.totals import Totals, compute_totals

QUOTE_SERIES = "quotes"
DRAFT_FIELDS = ("contact_id", "currency", "lines", "prices_include_tax", "notes", "legal_terms", "valid_until",
                "discount")
DEFAULT_VALIDITY_DAYS = 30
MAX_REASON = 500


def invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"invalid {field}: {message}", errors={field: [message]})


class Quote(MailedDocument, Aggregate):
    aggregate_type = "Quote"
    event_classes = QUOTE_EVENTS
    not_found_error = QuoteNotFound
    mail_kind = "quote"
    send_events = (QuoteMailRequested, QuoteMailed, QuoteMailFailed)
    legal_obligation = False  # commercial: not mailed while its contact restricted processing (Art. 18)

    def __init__(self, quote_id: str, account_id: str) -> None:
        super().__init__(quote_id, account_id)
        self.stage = "draft"  # draft, sending, sent, accepted, declined, converted
        self.draft: dict = {}  # the QuoteDrafted fields but the ids
        self.created_with: dict = {}  # the draft as QuoteDrafted created it, to know a retry of the creation
        self.sent_on: str | None = None
        self.fiscal_year: int | None = None
        self.number_pattern: str | None = None
        self.number: str | None = None
        self.buyer: dict = {}
        self.seller: dict = {}
        self.frozen_totals: Totals | None = None
        self.decided_on: str | None = None  # the day it was accepted or declined
        self.invoice_id: str | None = None
        self.sends: dict[str, DocumentSend] = {}  # send id -> what became of it (domain/document_mail.py)

    # --- the draft ---------------------------------------------------------------------------------------

    @classmethod
    def draft_new(cls, account_id: str, contact_id: str, content: dict, quote_id: str | None = None) -> "Quote":
        """A new draft; `content` holds DRAFT_FIELDS but contact_id, as a client gives them (checked here)."""
        quote = cls(quote_id or f"quote:{uuid.uuid4()}", account_id)
        quote._record(QuoteDrafted.of(quote.id, account_id, checked_content({**content, "contact_id": contact_id})))
        return quote

    def check_created_with(self, contact_ids: set, content: dict) -> None:
        """A creation sent again: QuoteIdTaken (409 naming quote_id) unless it is the one that created this draft
        (one of `contact_ids`, the same content as checked by `draft_new`), however the draft was edited since."""
        contact_id = self.created_with["contact_id"]
        if contact_id not in contact_ids or \
                checked_content({**content, "contact_id": contact_id}, lenient_day) != self.created_with:
            raise QuoteIdTaken(self.id)

    def update_draft(self, revision: int | None, changes: dict) -> None:
        """Apply a client's changes (any of DRAFT_FIELDS); nothing is recorded if nothing changes."""
        self._check(revision, "edited", "draft")
        unknown = sorted(set(changes) - set(DRAFT_FIELDS))
        if unknown:
            raise invalid(unknown[0], "unknown field, or not editable")
        fields = checked_content({**self.draft, **changes})
        if fields != self.draft:
            self._record(QuoteDraftUpdated.of(self.id, self.account_id, fields))

    def delete_draft(self, revision: int | None) -> None:
        self._check(revision, "deleted", "draft")
        self._record(QuoteDraftDeleted(self.id, self.account_id))

    def erase(self) -> None:
        """Delete it, whatever its stage, for the erasure of its person (its key is shredded next); once."""
        if not self.deleted:
            self._record(QuoteErased(self.id, self.account_id))

    @property
    def subject_key(self) -> str:
        """The key sealing this quote's personal data, whoever it is for."""
        return QUOTE_SUBJECT.format(quote_id=self.id)

    @property
    def contact_id(self) -> str:
        return self.draft.get("contact_id", "")

    @property
    def currency(self) -> str:
        return self.draft.get("currency", "")

    @property
    def valid_until(self) -> str | None:
        return self.draft.get("valid_until")

    @property
    def totals(self) -> Totals:
        """Frozen when it is sent; a draft's are computed from its lines as they are now."""
        if self.frozen_totals is not None:
            return self.frozen_totals
        return compute_totals(document_lines.to_lines(self.draft["lines"]), self.currency,
                              prices_include_tax=self.draft["prices_include_tax"],
                              discount=document_lines.to_discount(self.draft.get("discount")))

    # --- sending -------------------------------------------------------------------------------------------

    def start_send(self, revision: int | None, sent_on: date, buyer_contact_id: str, buyer: dict, seller: dict,
                   number_pattern: str) -> None:
        """Freeze the draft for sending on `sent_on` (its number is reserved next, then `send` records it).

        A quote already sending or sent is left as it is (a retry finishes the send started before).
        """
        if self.stage != "draft":
            return
        self._check(revision, "sent", "draft")
        if not self.draft["lines"]:
            raise invalid("lines", "a quote is sent with at least one line")
        totals = self.totals
        if totals.total < 0:
            raise invalid("discount", "the total would be negative")
        valid_until = self.valid_until or (sent_on + timedelta(days=DEFAULT_VALIDITY_DAYS)).isoformat()
        if date.fromisoformat(valid_until) < sent_on:
            raise invalid("valid_until", f"is before today ({sent_on.isoformat()}): the quote would be expired")
        self._record(QuoteSendStarted(self.id, self.account_id, buyer_contact_id, sent_on.isoformat(), valid_until,
                                      sent_on.year, number_pattern, dict(buyer), dict(seller), totals.to_dict()))

    def send(self, number: str) -> None:
        """Record the reserved number: the quote is sent (once: a retry changes nothing)."""
        if self.stage == "sending":
            self._record(QuoteSent(self.id, self.account_id, self.contact_id, number, self.sent_on, self.valid_until,
                                   self.currency, money_text(self.totals.total)))
        elif self.stage == "draft":
            raise QuoteNotAllowed(self.id, "draft", "numbered before it is frozen for sending")

    # --- the customer's answer, and the invoice ------------------------------------------------------------

    def is_expired(self, now: datetime, time_zone: str) -> bool:
        """Past the END of its valid_until day in the account's time zone (`now` an aware datetime)."""
        return self.valid_until is not None and account_day(now, time_zone) > date.fromisoformat(self.valid_until)

    def status(self, now: datetime, time_zone: str) -> str:
        """draft, sending, sent, expired, accepted, declined or converted."""
        if self.stage == "sent" and self.is_expired(now, time_zone):
            return "expired"
        return self.stage

    def accept(self, revision: int | None, now: datetime, time_zone: str) -> None:
        """The customer's acceptance, recorded by staff; again changes nothing; refused once it expired."""
        if self.stage == "accepted":
            return
        self._check(revision, "accepted", "sent", now=now, time_zone=time_zone)
        if self.is_expired(now, time_zone):
            raise QuoteExpired(self.id, self.valid_until)
        self._record(QuoteAccepted(self.id, self.account_id, self.contact_id,
                                   account_day(now, time_zone).isoformat()))

    def decline(self, revision: int | None, now: datetime, time_zone: str, reason: object = None) -> None:
        """The customer's refusal (expired or not); again changes nothing."""
        if self.stage == "declined":
            return
        self._check(revision, "declined", "sent", now=now, time_zone=time_zone)
        reason = document_lines.checked_text(reason, "reason", max_length=MAX_REASON)
        self._record(QuoteDeclined(self.id, self.account_id, self.contact_id,
                                   account_day(now, time_zone).isoformat(), reason))

    def convert(self, invoice_id: str, now: datetime, time_zone: str) -> None:
        """Record that `invoice_id`, a draft invoice carrying its lines, was made from it (sent, expired or
        accepted quotes; staff only). Converted already to this invoice: nothing is recorded (idempotent)."""
        if self.stage == "converted" and self.invoice_id == invoice_id:
            return
        self.check_convertible(now, time_zone)
        self._record(QuoteConverted(self.id, self.account_id, self.contact_id, invoice_id,
                                    account_day(now, time_zone).isoformat()))

    def check_convertible(self, now: datetime, time_zone: str) -> None:
        """QuoteNotAllowed unless it is sent (expired or not) or accepted."""
        self._check(None, "converted", "sent", "accepted", now=now, time_zone=time_zone)

    def invoice_content(self, payment_term: dict, legal_terms: str) -> dict:
        """What the draft invoice made from it holds (invoices.Invoice.draft_new's content): its lines, discount,
        currency and notes; the payment term and legal terms are the account's, for an invoice."""
        return {"currency": self.currency, "lines": [dict(line) for line in self.draft["lines"]],
                "prices_include_tax": self.draft["prices_include_tax"], "discount": self.draft.get("discount"),
                "notes": self.draft["notes"], "payment_term": payment_term, "legal_terms": legal_terms}

    # --- rules shared by the steps above ---------------------------------------------------------------------

    def _check(self, revision: int | None, step: str, *stages: str, now: datetime | None = None,
               time_zone: str = "UTC") -> None:
        if self.deleted:
            raise QuoteNotFound(self.id)
        if revision is not None and revision != self.revision:
            raise StaleQuoteRevision(self.id, revision, self.revision)
        if self.stage not in stages:
            status = self.stage if now is None else self.status(now, time_zone)
            raise QuoteNotAllowed(self.id, status, step)

    # --- mailing (domain/mailed_documents.py) --------------------------------------------------------------------

    def check_sendable(self) -> None:
        """A quote is mailed once sent (numbered)."""
        if self.stage in ("draft", "sending"):
            raise DocumentNotSendable("quote", self.id, f"it is {self.stage}; a quote is mailed once sent (numbered)")

    def _apply(self, event: QuoteEvent) -> None:
        if isinstance(event, QuoteContent):  # QuoteDrafted or QuoteDraftUpdated
            self.draft = event.draft(DRAFT_FIELDS)
            if isinstance(event, QuoteDrafted):
                self.created_with = dict(self.draft)
        elif isinstance(event, (QuoteDraftDeleted, QuoteErased)):
            self.deleted = True
        elif isinstance(event, QuoteSendStarted):
            self.stage = "sending"
            self.draft["contact_id"], self.draft["valid_until"] = event.contact_id, event.valid_until
            self.sent_on, self.fiscal_year, self.number_pattern = event.sent_on, event.fiscal_year, event.number_pattern
            self.buyer, self.seller = event.buyer, event.seller
            self.frozen_totals = Totals.from_dict(event.totals)
        elif isinstance(event, QuoteSent):
            self.stage, self.number = "sent", event.number
        elif isinstance(event, QuoteAccepted):
            self.stage, self.decided_on = "accepted", event.accepted_on
        elif isinstance(event, QuoteDeclined):
            self.stage, self.decided_on = "declined", event.declined_on
        elif isinstance(event, QuoteConverted):
            self.stage, self.invoice_id = "converted", event.invoice_id
        else:
            self._apply_send(event)


def account_day(now: datetime, time_zone: str) -> date:
    """The date it is at `now` (an aware datetime) in the account's time zone."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(ZoneInfo(time_zone)).date()


def checked_content(fields: dict, read_day: Callable[[object], date | None] = client_day) -> dict:
    """A quote draft's fields as a client gives them, checked, as QuoteDrafted holds them (`read_day` lenient_day
    compares a retry with a creation made before dates were written YYYY-MM-DD)."""
    contact_id = fields.get("contact_id")
    if not isinstance(contact_id, str) or not contact_id.strip() or len(contact_id) > 200:
        raise invalid("contact_id", "the id of a contact of this account")
    currency = parse_currency(fields.get("currency"))
    lines = document_lines.checked_lines(fields.get("lines"))
    discount = document_lines.checked_discount(fields.get("discount"))
    prices_include_tax = fields.get("prices_include_tax", False)
    if not isinstance(prices_include_tax, bool):
        raise invalid("prices_include_tax", "true or false")
    checked = {"contact_id": contact_id.strip(), "currency": currency, "lines": lines,
               "prices_include_tax": prices_include_tax,
               "notes": document_lines.checked_text(fields.get("notes"), "notes"),
               "legal_terms": document_lines.checked_text(fields.get("legal_terms"), "legal_terms"),
               "valid_until": _checked_day(fields.get("valid_until"), "valid_until", read_day), "discount": discount}
    # the totals must be computable (a discount larger than the lines is refused now, not when sending)
    compute_totals(document_lines.to_lines(lines), currency, prices_include_tax=prices_include_tax,
                   discount=document_lines.to_discount(discount))
    return checked


def _checked_day(value: object, field: str, read_day: Callable[[object], date | None]) -> str | None:
    if value is None:
        return None
    if (day := read_day(value)) is None:
        raise invalid(field, "a date written YYYY-MM-DD")
    return day.isoformat()
