"""Billing's part in privacy requests (issue 13): a person's documents exported, or erased as far as the law allows.

The person is the request's contact ids and every contact billing knows was merged with them (its projection of
contacts); their documents are those the read models list for any of them (an invoice: any contact it was ever
for, `contacts_ever`), found through `PersonDocumentsIndex` (adapters/person_documents.py).

Erasure, safe to repeat (a document whose key is shredded already counts as destroyed, nothing is recorded twice):
- drafts (invoices, quotes), every quote whatever its stage, and recurring invoices are deleted (an event saying
  so, then their document key `billing-document:<id>` shredded);
- billing's copy of the contacts' details (its projection of contacts.events) is dropped;
- issued (or issuing, or void) invoices and their credit notes are RETAINED: each records that its processing is
  restricted until 31 December of the tenth year after the latest issue year of the invoice and its credit notes
  (domain/retention.py), and stays readable, never changed again; the retention job shreds its key then
  (service_layer/retention.py).
What cannot be removed early from a retained document: its buyer snapshot (name, company, VAT number, address,
emails) is sealed whole in the immutable InvoiceIssueStarted under the document's one key, with no finer key
to shred; dropping its emails would mean rewriting history. It stays, read only, until the key is shredded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from crm_platform.contracts.privacy import ERASED, NOTHING_HELD, RETAINED, ErasureRequested, SubjectExportRequested
from crm_platform.privacy_exchange import ExportExchange
from crm_platform.privacy_participation import ErasureOutcome, ExportedPart, RetainedItem

from billing.domain.account_defaults import utc_now
from billing.domain.invoice_events import DOCUMENT_SUBJECT
from billing.domain.retention import LEGAL_BASIS, retain_until
from billing.service_layer.handlers import Clock
from billing.service_layer.privacy_export import ABOUT, BillingExport

SERVICE_NAME = "billing"


@dataclass(frozen=True)
class PersonDocuments:
    """The ids of a person's documents, oldest first; credit notes by the id of their invoice."""

    contact_ids: list[str]  # the person: the contacts asked for and those merged with them
    invoices: list[str] = field(default_factory=list)
    credit_notes: dict[str, list[str]] = field(default_factory=dict)
    quotes: list[str] = field(default_factory=list)
    recurring_invoices: list[str] = field(default_factory=list)


class PersonDocumentsIndex(Protocol):
    def family(self, account_id: str, contact_ids: list[str]) -> list[str]:
        """These contacts, the ones they were merged into and every contact merged into those."""

    def documents_of(self, account_id: str, contact_ids: list[str]) -> PersonDocuments:
        """The documents of the account for any of these contacts."""

    def forget_contacts(self, account_id: str, contact_ids: list[str]) -> None:
        """Drop billing's copy of these contacts' details (its projection of contacts), as their erasure in
        contacts will (the copy is in clear, not under a key of billing's)."""


class DocumentKeys(Protocol):
    def shred(self, subject: str) -> bool: ...

    def is_erased(self, subject: str) -> bool: ...


class BillingPrivacyParticipant:
    """crm_platform.privacy_participation.PrivacyParticipant for billing."""

    def __init__(self, unit_of_work: Callable, index: PersonDocumentsIndex, keys: DocumentKeys,
                 clock: Clock = utc_now) -> None:
        self._uow = unit_of_work
        self._index = index
        self._keys = keys
        self._clock = clock

    def export(self, request: SubjectExportRequested, exchange: ExportExchange) -> ExportedPart:
        account_id, found = request.account_id, self._documents(request)
        export = BillingExport()
        with self._uow() as uow:
            defaults = uow.account_defaults.for_account(account_id)
            today, now = defaults.today(self._clock), self._clock()
            for invoice in _live(uow.invoices, account_id, found.invoices):
                export.add_invoice(invoice, today)
                for note in _live(uow.credit_notes, account_id, found.credit_notes.get(invoice.id, [])):
                    export.add_credit_note(note)
            for quote in _live(uow.quotes, account_id, found.quotes):
                export.add_quote(quote, now, defaults.time_zone)
            for recurring in _live(uow.recurring_invoices, account_id, found.recurring_invoices):
                export.add_recurring_invoice(recurring)
        if not export.item_count:
            return ExportedPart(None, 0)
        return ExportedPart(exchange.write_part(request.request_id, SERVICE_NAME, ABOUT, export.data()),
                            export.item_count)

    def erase(self, request: ErasureRequested) -> ErasureOutcome:
        account_id, found = request.account_id, self._documents(request)
        erasure = _Erasure()
        for invoice_id in found.invoices:
            self._erase_invoice(account_id, invoice_id, found.credit_notes.get(invoice_id, []), erasure)
        for quote_id in found.quotes:
            self._delete(account_id, "quotes", quote_id, lambda quote: quote.erase(), erasure)
        for recurring_id in found.recurring_invoices:
            self._delete(account_id, "recurring_invoices", recurring_id, lambda recurring: recurring.erase(), erasure)
        self._index.forget_contacts(account_id, found.contact_ids)
        return erasure.outcome()

    def _documents(self, request) -> PersonDocuments:
        family = self._index.family(request.account_id, list(request.contact_ids))
        return self._index.documents_of(request.account_id, family)

    def _erase_invoice(self, account_id: str, invoice_id: str, note_ids: list[str], erasure: "_Erasure") -> None:
        """A draft is deleted; an invoice issued (or issuing, or void) is kept, restricted, with its credit notes."""
        if self._shredded_already(invoice_id, erasure):
            return
        with self._uow() as uow:
            invoice = uow.invoices.find(account_id, invoice_id)
            if invoice is None:
                return
            if not invoice.deleted and invoice.stage != "draft":
                notes = _live(uow.credit_notes, account_id, note_ids)
                until = retain_until(invoice.fiscal_year, *(note.fiscal_year for note in notes if note.issued))
                today = self._clock().date()
                invoice.restrict_processing(until, LEGAL_BASIS, today)
                erasure.retain(f"invoice:{invoice.id}", until)
                for note in notes:
                    if note.issued:
                        note.restrict_processing(until, LEGAL_BASIS, today)
                        erasure.retain(f"credit_note:{note.id}", until)
                uow.commit()
                return
        self._delete(account_id, "invoices", invoice_id, lambda draft: draft.delete_draft(None), erasure)

    def _delete(self, account_id: str, repository: str, document_id: str, delete: Callable,
                erasure: "_Erasure") -> None:
        """Record the document's deletion (unless deleted already), then shred its key."""
        if self._shredded_already(document_id, erasure):
            return
        with self._uow() as uow:
            document = getattr(uow, repository).find(account_id, document_id)
            if document is None:
                return  # not this account's (the index lists only its own: a stale read model at most)
            if not document.deleted:
                delete(document)
                uow.commit()
        self._keys.shred(_key(document_id))
        erasure.destroyed(_key(document_id), now=True)

    def _shredded_already(self, document_id: str, erasure: "_Erasure") -> bool:
        if self._keys.is_erased(_key(document_id)):
            erasure.destroyed(_key(document_id), now=False)
            return True
        return False


class _Erasure:
    """What an erasure did, as its reply says it."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.retained: list[RetainedItem] = []
        self.items_erased = 0

    def destroyed(self, key: str, now: bool) -> None:
        if key not in self.keys:
            self.keys.append(key)
            self.items_erased += 1 if now else 0

    def retain(self, item: str, until: str) -> None:
        self.retained.append(RetainedItem(item, LEGAL_BASIS, until))

    def outcome(self) -> ErasureOutcome:
        outcome = RETAINED if self.retained else ERASED if self.keys else NOTHING_HELD
        return ErasureOutcome(outcome, self.keys, self.retained, self.items_erased)


def _live(repository, account_id: str, ids: list[str]) -> list:
    """The documents of these ids still readable (not deleted, key not shredded)."""
    found = (repository.find(account_id, document_id) for document_id in ids)
    return [document for document in found if document is not None and not document.deleted]


def _key(document_id: str) -> str:
    return DOCUMENT_SUBJECT.format(invoice_id=document_id)
