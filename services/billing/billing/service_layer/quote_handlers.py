"""Handlers of the quote commands: one per command.

What they need of the unit of work (as the invoice handlers, billing/service_layer/handlers.py):
  uow.quotes           Repository[Quote]
  uow.invoices         Repository[Invoice]        (ConvertQuote makes a draft invoice)
  uow.number_series    NumberSeries, series "quotes" (gapless, per account and fiscal year)
  uow.customers        CustomerDirectory, billing's projection of contacts
  uow.account_defaults AccountDefaultsSource: currency, time zone, notes, seller, payment term, legal terms
and a `clock` (an aware datetime now) that bootstrap may inject; it defaults to the system's UTC clock.

Sending writes in steps, each safe to repeat, as issuing an invoice does: the quote is frozen
(QuoteSendStarted), its number reserved, then QuoteSent records the number. Converting writes the
invoice first, under an id made from the quote's, then QuoteConverted: a retry after a crash between
the two finds that invoice and finishes; a second conversion names the same invoice (idempotent).
"""
from __future__ import annotations

from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from billing.domain import quote_commands as commands
from billing.domain.account_defaults import utc_now
from billing.domain.document_ids import scoped_id
from billing.domain.invoices import Invoice
from billing.domain.numbering import NumberPattern
from billing.domain.quotes import QUOTE_SERIES, Quote, QuoteNotFound, invalid
from billing.service_layer.handlers import Clock, contact_and_survivor, live_customer, retried


def create_quote_draft(cmd: commands.CreateQuoteDraft, uow, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Quote:
    """A new draft, the account's defaults filling currency and notes; once per given quote_id.

    Sent again with its quote_id and the same content, the draft is answered as it is now; other content with
    that id is a 409 naming quote_id. A deleted draft's id and another account's are answered 404, as unknown.
    """
    quote_id = checked_quote_id(cmd.quote_id)
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not processed
    with uow:
        defaults = uow.account_defaults.for_account(cmd.account_id)
        content = {
            "currency": cmd.currency or defaults.currency, "lines": list(cmd.lines), "valid_until": cmd.valid_until,
            "notes": defaults.notes if cmd.notes is None else cmd.notes, "legal_terms": cmd.legal_terms or "",
            "discount": cmd.discount, "prices_include_tax": cmd.prices_include_tax,
        }
        if quote_id is not None:
            existing = uow.quotes.find(cmd.account_id, quote_id)
            if existing is not None and not existing.deleted:
                existing.check_created_with(contact_and_survivor(uow, cmd.account_id, cmd.contact_id), content)
                return existing
            if existing is not None or uow.quotes.ever_existed(quote_id):
                raise QuoteNotFound(quote_id)
        customer = live_customer(uow, cmd.account_id, cmd.contact_id)
        quote = Quote.draft_new(cmd.account_id, customer.contact_id, content, quote_id)
        uow.quotes.add(quote)
        uow.commit()
    return quote


def checked_quote_id(quote_id: object) -> str | None:
    """A client's own id for a new draft, or None; 422 naming quote_id if it is not a short text."""
    if quote_id is None:
        return None
    if not isinstance(quote_id, str) or not quote_id.strip() or len(quote_id) > 200:
        raise invalid("quote_id", "your id for the new draft: a text of 1 to 200 characters")
    return quote_id.strip()


def update_quote_draft(cmd: commands.UpdateQuoteDraft, uow, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Quote:
    with uow:
        quote = uow.quotes.get(cmd.account_id, cmd.quote_id)
        restrictions.refuse_edits(cmd.account_id, [quote.contact_id, cmd.changes.get("contact_id")])  # Art. 18
        changes = dict(cmd.changes)
        if "contact_id" in changes:
            changes["contact_id"] = live_customer(uow, cmd.account_id, changes["contact_id"]).contact_id
        quote.update_draft(cmd.revision, changes)
        uow.commit()
    return quote


def delete_quote_draft(cmd: commands.DeleteQuoteDraft, uow) -> None:
    with uow:
        uow.quotes.get(cmd.account_id, cmd.quote_id).delete_draft(cmd.revision)
        uow.commit()


def send_quote(cmd: commands.SendQuote, uow, clock: Clock = utc_now) -> Quote:
    """Number and freeze the draft (or finish its send: the same number, however often it is sent)."""

    def attempt() -> Quote:
        with uow:
            quote = uow.quotes.get(cmd.account_id, cmd.quote_id)
            if quote.stage == "draft":
                defaults = uow.account_defaults.for_account(cmd.account_id)
                customer = live_customer(uow, cmd.account_id, quote.contact_id)
                quote.start_send(cmd.revision, defaults.today(clock), customer.contact_id, customer.buyer,
                                 defaults.seller, NumberPattern.parse(defaults.quote_pattern).text)
                uow.commit()
            if quote.stage == "sending":
                seq = uow.number_series.reserve(cmd.account_id, QUOTE_SERIES, quote.fiscal_year, quote.id)
                quote.send(NumberPattern.parse(quote.number_pattern).render(quote.fiscal_year, seq))
                uow.commit()
            return quote

    return retried(attempt)


def accept_quote(cmd: commands.AcceptQuote, uow, clock: Clock = utc_now) -> Quote:
    with uow:
        quote = uow.quotes.get(cmd.account_id, cmd.quote_id)
        quote.accept(cmd.revision, clock(), uow.account_defaults.for_account(cmd.account_id).time_zone)
        uow.commit()
    return quote


def decline_quote(cmd: commands.DeclineQuote, uow, clock: Clock = utc_now) -> Quote:
    with uow:
        quote = uow.quotes.get(cmd.account_id, cmd.quote_id)
        quote.decline(cmd.revision, clock(), uow.account_defaults.for_account(cmd.account_id).time_zone, cmd.reason)
        uow.commit()
    return quote


def convert_quote(cmd: commands.ConvertQuote, uow, clock: Clock = utc_now,
                  restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Quote:
    """A draft invoice carrying the quote's lines, then the quote marked converted; the same invoice every time.
    None is drafted for a customer whose processing is restricted (Art. 18); a quote converted already is
    answered as it is."""
    invoice_id = invoice_id_for(cmd.account_id, cmd.quote_id)

    def attempt() -> Quote:
        with uow:
            quote = uow.quotes.get(cmd.account_id, cmd.quote_id)
            if quote.stage == "converted":
                return quote
            restrictions.refuse_edits(cmd.account_id, [quote.contact_id])  # Art. 18: kept, not processed
            defaults = uow.account_defaults.for_account(cmd.account_id)
            quote.check_convertible(clock(), defaults.time_zone)
            if uow.invoices.find(cmd.account_id, invoice_id) is None:
                customer = live_customer(uow, cmd.account_id, quote.contact_id)
                content = quote.invoice_content(defaults.payment_term, defaults.legal_terms)
                uow.invoices.add(Invoice.draft_new(cmd.account_id, customer.contact_id, content, invoice_id))
                uow.commit()
        with uow:
            quote = uow.quotes.get(cmd.account_id, cmd.quote_id)
            quote.convert(invoice_id, clock(), uow.account_defaults.for_account(cmd.account_id).time_zone)
            uow.commit()
        return quote

    return retried(attempt)


def invoice_id_for(account_id: str, quote_id: str) -> str:
    """The id of the invoice a quote converts to: one per quote, so a retried conversion finds it; made with the
    account, so knowing a quote's id does not let another account take its invoice's id first."""
    return scoped_id("invoice", account_id, "quote", quote_id)

