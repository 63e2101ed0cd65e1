"""The invoice: a draft edited freely, then issued (numbered and frozen), paid, credited or voided.

Stages: draft -> issuing (frozen, its number being reserved) -> issued -> void. What a client sees
as the status is derived (`status(today)`): draft, issuing, issued, partially_paid, paid, credited
(credit notes cover it all, nothing was paid: no InvoicePaid), overdue (past its due date in the
account's time zone, `today` is passed in), void.

Payments and credit notes against an issued invoice are the rules of invoice_settlement.py.
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from crm_platform.aggregates import Aggregate
from crm_platform.errors import InvalidInput

from billing.domain import document_lines
from billing.domain.errors import (DraftIdTaken, InvalidInvoice, InvoiceNotEditable, InvoiceNotFound,
                                   InvoiceNotVoidable, ProcessingRestricted, StaleInvoiceRevision)
from billing.domain.invoice_events import (DOCUMENT_SUBJECT, INVOICE_EVENTS, DraftContent, InvoiceCredited,
                                           InvoiceDrafted, InvoiceDraftDeleted, InvoiceDraftUpdated, InvoiceEvent,
                                           InvoiceIssued, InvoiceIssueStarted, InvoicePaid, InvoicePaymentRecorded,
                                           InvoicePaymentRemoved, InvoiceProcessingRestricted,
                                           InvoiceRetentionEnded, InvoiceSendFailed, InvoiceSendRequested,
                                           InvoiceSent, InvoiceVoided)
from billing.domain.document_mail import DocumentNotSendable, DocumentSend
from billing.domain.invoice_settlement import MAX_REASON, InvoiceSettlement
from billing.domain.mailed_documents import MailedDocument
from billing.domain.money import money_text
from billing.domain.payment_terms import PaymentTerm, due_date
from billing.domain.payments import Payment
from billing.domain.totals import Totals, compute_totals

INVOICE_SERIES = "invoices"


class Invoice(InvoiceSettlement, MailedDocument, Aggregate):
    aggregate_type = "Invoice"
    event_classes = INVOICE_EVENTS
    not_found_error = InvoiceNotFound
    mail_kind = "invoice"
    send_events = (InvoiceSendRequested, InvoiceSent, InvoiceSendFailed)

    def __init__(self, invoice_id: str, account_id: str) -> None:
        super().__init__(invoice_id, account_id)
        self.stage = "draft"  # draft, issuing, issued, void
        self.draft: dict = {}  # the InvoiceDrafted fields but the ids: contact_id, currency, lines...
        self.created_with: dict = {}  # the draft as InvoiceDrafted created it, to know a retry of the creation
        self.contacts_ever: tuple[str, ...] = ()  # every contact the document was ever for, first first
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
        # credit note id -> (category, rate) -> (line amounts, taxable base) it credited
        self.credited_bases: dict[str, dict[tuple[str, Decimal], tuple[Decimal, Decimal]]] = {}
        self.paid_on: str | None = None
        self.restriction: InvoiceProcessingRestricted | None = None  # kept for the law only (retention.py)
        self.sends: dict[str, DocumentSend] = {}  # send id -> what became of it (domain/document_mail.py)

    # --- the draft ---------------------------------------------------------------------------------------

    @classmethod
    def draft_new(cls, account_id: str, contact_id: str, content: dict, invoice_id: str | None = None) -> "Invoice":
        """A new draft; `content` holds the DRAFT_FIELDS but contact_id, as a client gives them (checked)."""
        invoice = cls(invoice_id or f"invoice:{uuid.uuid4()}", account_id)
        fields = document_lines.checked_draft({**content, "contact_id": contact_id})
        invoice._record(InvoiceDrafted.of(invoice.id, account_id, fields))
        return invoice

    def check_created_with(self, contact_ids: set, content: dict) -> None:
        """A creation sent again: DraftIdTaken (409 naming invoice_id) unless it is the one that created this draft
        (one of `contact_ids`, the same content as checked by `draft_new`), however the draft was edited since."""
        contact_id = self.created_with["contact_id"]
        if contact_id not in contact_ids or document_lines.checked_draft({**content, "contact_id": contact_id}) != \
                self.created_with:
            raise DraftIdTaken(self.id)

    def update_draft(self, revision: int | None, changes: dict) -> None:
        """Apply a client's changes (any of the DRAFT_FIELDS); nothing is recorded if nothing changes."""
        self._check_stage("draft", revision)
        unknown = sorted(set(changes) - set(document_lines.DRAFT_FIELDS))
        if unknown:
            raise InvalidInvoice(unknown[0], "unknown field, or not editable")
        fields = document_lines.checked_draft({**self._stored_draft(), **changes})
        if fields != self.draft:
            self._record(InvoiceDraftUpdated.of(self.id, self.account_id, fields))

    def delete_draft(self, revision: int | None) -> None:
        self._check_stage("draft", revision)
        self._record(InvoiceDraftDeleted(self.id, self.account_id))

    @property
    def subject_key(self) -> str:
        """The key sealing this document's personal data (and its credit notes'), whoever it is for."""
        return DOCUMENT_SUBJECT.format(invoice_id=self.id)

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

    def redate(self, today: date) -> bool:
        """Date an issue frozen on an earlier day `today`, before its number is reserved (a retry or the sweep
        finishing it): numbers follow dates, so an invoice is dated the day its number is taken. Recorded as
        its InvoiceIssueStarted again, the snapshots unchanged; a fixed due date now past becomes the issue
        date. Whether anything changed."""
        if self.stage != "issuing" or today <= self.issued_on_date:
            return False
        try:
            due_on = due_date(today, PaymentTerm.parse(self.draft["payment_term"], "payment_term"))
        except InvalidInput:  # a fixed due date before the new issue date
            due_on = today
        self._record(InvoiceIssueStarted(self.id, self.account_id, self.contact_id, today.isoformat(),
                                         due_on.isoformat(), today.year, self.number_pattern, dict(self.buyer),
                                         dict(self.seller), self.totals.to_dict()))
        return True

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

    # --- sending by e-mail (domain/mailed_documents.py) ---------------------------------------------------------

    def check_sendable(self) -> None:
        """Only an issued invoice is mailed, and not once it is kept for the law only."""
        self.check_processable()
        if self.stage != "issued":
            raise DocumentNotSendable("invoice", self.id, f"it is {self.stage}; only an issued invoice is sent")

    # --- erasure of its person: kept for the law, read only (domain/retention.py) ----------------------------

    def restrict_processing(self, retain_until: str, legal_basis: str, today: date) -> None:
        """Keep it read only until `retain_until` (an issuing, issued or void invoice: a draft is deleted instead).
        Restricted already until that day or later: nothing is recorded."""
        if self.stage == "draft":
            raise InvoiceNotEditable(self.id, self.stage)
        if self.restriction is None or self.restriction.retain_until < retain_until:
            self._record(InvoiceProcessingRestricted(self.id, self.account_id, retain_until, legal_basis,
                                                     today.isoformat()))

    @property
    def retain_until(self) -> str | None:
        return None if self.restriction is None else self.restriction.retain_until

    def check_processable(self) -> None:
        """ProcessingRestricted (409) once restricted: every write but finishing an issue begun is refused."""
        if self.restriction is not None:
            raise ProcessingRestricted("invoice", self.id, self.restriction.retain_until)

    def status(self, today: date) -> str:
        """draft, issuing, issued, partially_paid, paid, credited (nothing due, nothing paid: credit notes cover the
        total), overdue or void; `today` in the account's time zone."""
        if self.stage != "issued":
            return self.stage
        if self.amount_due <= 0:
            return "paid" if self.payments else "credited"
        if today > date.fromisoformat(self.due_on):
            return "overdue"
        return "partially_paid" if self.payments else "issued"

    # --- rules shared by the steps above ---------------------------------------------------------------------

    def _check_stage(self, stage: str, revision: int | None) -> None:
        self._check_revision(revision)
        if self.stage != stage:
            raise InvoiceNotEditable(self.id, self.stage)

    def _check_revision(self, revision: int | None) -> None:
        if self.deleted:
            raise InvoiceNotFound(self.id)
        self.check_processable()
        if revision is not None and revision != self.revision:
            raise StaleInvoiceRevision(self.id, revision, self.revision)

    def _stored_draft(self) -> dict:
        return {name: self.draft.get(name) for name in document_lines.DRAFT_FIELDS}

    def _for_contact(self, contact_id: str) -> None:
        if contact_id not in self.contacts_ever:
            self.contacts_ever += (contact_id,)

    def _apply(self, event: InvoiceEvent) -> None:
        if isinstance(event, DraftContent):  # InvoiceDrafted, InvoiceDraftUpdated
            self.draft = event.draft()
            self._for_contact(event.contact_id)
            if isinstance(event, InvoiceDrafted):
                self.created_with = dict(self.draft)
        elif isinstance(event, InvoiceDraftDeleted):
            self.deleted = True
        elif isinstance(event, InvoiceIssueStarted):
            self.stage = "issuing"
            self.draft["contact_id"] = event.contact_id
            self._for_contact(event.contact_id)
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
            self.credited_bases[event.credit_note_id] = {(row["category"], Decimal(row["rate"])):
                                                         (Decimal(row["amount"]), Decimal(row["base"]))
                                                         for row in event.bases}
        elif isinstance(event, InvoicePaid):
            self.paid_on = event.paid_on
        elif isinstance(event, InvoiceVoided):
            self.stage = "void"
        elif isinstance(event, InvoiceProcessingRestricted):
            self.restriction = event
        elif self._apply_send(event):
            pass
        elif isinstance(event, InvoiceRetentionEnded):  # never replayed in fact: the events before it are unreadable
            self.deleted = True
