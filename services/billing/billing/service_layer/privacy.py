"""Billing's part in privacy requests (issue 13): a person's documents exported, or erased as far as the law allows.

The person is the request's contact ids and every contact billing knows was merged with them (its projection of
contacts); their documents are those the read models list for any of them, found through `PersonDocumentsIndex`
(adapters/person_documents.py), and that are for one of them NOW, as the document itself says: a draft made for
them then moved to another contact (issued or not) is that contact's, neither exported nor erased with them.

Erasure, safe to repeat (a document whose key is shredded already counts as destroyed, nothing is recorded twice),
in this order: billing's copy of the contacts' details first (no new draft, generated invoice, issue or accepted
quote is made for them from then on), then recurring invoices and quotes (they make invoices), then invoices; the
documents are listed again until a round finds nothing new (ERASURE_ROUNDS at most, else no answer: the consumer
tries again), and each document's write is tried again when it loses a race (an API write, the issue sweep, the
scheduler: handlers.retried):
- drafts (invoices, quotes), every quote whatever its stage, and recurring invoices are deleted (an event saying
  so, then their document key `billing-document:<id>` shredded);
- billing's copy of the contacts' details (its projection of contacts.events) is dropped;
- issued (or issuing, or void) invoices and their credit notes are RETAINED: each records that its processing is
  restricted until 31 December of the tenth year after the latest issue year of the invoice and its credit notes
  (domain/retention.py), and stays readable, never changed again; the retention job shreds its key then
  (service_layer/retention.py).
What a retained document still serves: only what the accounting record needs (the buyer's name, company, VAT
number and address, lines, amounts, dates, numbers); its buyer's emails, notes and payment references are no
longer served by the API or an export (domain/retention.py). They cannot be removed early: the buyer snapshot is
sealed whole in the immutable InvoiceIssueStarted (notes, references in their events) under the document's one
key, with no finer key to shred; the sealed events keep them, unread, until the key is shredded at retention end.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ContextManager, Protocol

from crm_platform.contracts.privacy import ERASED, NOTHING_HELD, RETAINED, ErasureRequested, SubjectExportRequested
from crm_platform.privacy_exchange import ExportExchange, ExportFile
from crm_platform.privacy_participation import ErasureOutcome, ExportedPart, RetainedItem

from billing.domain.account_defaults import utc_now
from billing.domain.invoice_events import DOCUMENT_SUBJECT
from billing.domain.printed_documents import FINAL_QUOTE_STAGES, printed_credit_note, printed_invoice
from billing.domain.retention import LEGAL_BASIS, retain_until
from billing.service_layer import printing
from billing.service_layer.handlers import Clock, retried
from billing.service_layer.privacy_export import ABOUT, BillingExport

SERVICE_NAME = "billing"
ERASURE_ROUNDS = 5  # lists of the person's documents, until one finds nothing new (else no answer: tried again)


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

    def documents_of(self, account_id: str, contact_ids: list[str],
                     known: set[str] | frozenset[str] = frozenset()) -> PersonDocuments:
        """The documents of the account for any of these contacts; those `known` (handled already) listed as the
        read model lists them, not read again from their events."""

    def forget_contacts(self, account_id: str, contact_ids: list[str]) -> None:
        """Drop billing's copy of these contacts' details (its projection of contacts), as their erasure in
        contacts will (the copy is in clear, not under a key of billing's)."""


class DocumentKeys(Protocol):
    def shred(self, subject: str) -> bool: ...

    def is_erased(self, subject: str) -> bool: ...

    def keys_ready(self, subjects: list[str]) -> ContextManager:
        """A block in which these keys are read once, not once per event opened (PersonalDataCipher.keys_ready)."""


class ContactTimelines(Protocol):
    def forget_contact(self, account_id: str, contact_id: str) -> int:
        """Delete the contact's timeline entries (crm_platform.timeline.TimelineProjection)."""


class PdfStore(printing.PdfKeeper, Protocol):
    def discard(self, account_id: str, document_ids: list[str]) -> None:
        """Delete the kept PDFs of these documents (adapters/document_pdfs.py)."""


class BillingPrivacyParticipant:
    """crm_platform.privacy_participation.PrivacyParticipant for billing.

    With `pdfs` (and `render_pdf`), the PDFs of the documents it deletes are deleted with them, and an export holds
    the PDF of each issued invoice (a retained invoice keeps its PDF, unreadable once its key is shredded)."""

    def __init__(self, unit_of_work: Callable, index: PersonDocumentsIndex, keys: DocumentKeys,
                 clock: Clock = utc_now, pdfs: PdfStore | None = None,
                 render_pdf: printing.Renderer | None = None, e_invoice: printing.EInvoice | None = None,
                 timeline: ContactTimelines | None = None) -> None:
        self._uow = unit_of_work
        self._index = index
        self._keys = keys
        self._clock = clock
        self._pdfs = pdfs
        self._render_pdf = render_pdf
        self._e_invoice = e_invoice  # what printing an issued invoice embeds, as the API prints it
        self._timeline = timeline  # None: no timeline kept (unit tests of other things)

    def export(self, request: SubjectExportRequested, exchange: ExportExchange) -> ExportedPart:
        account_id, found = request.account_id, self._documents(request)
        export, files = BillingExport(), []
        documents = [*found.invoices, *found.quotes, *found.recurring_invoices]
        with self._uow() as uow, self._keys.keys_ready([_key(document_id) for document_id in documents]):
            defaults = uow.account_defaults.for_account(account_id)
            today, now = defaults.today(self._clock), self._clock()
            notes = _CreditNotes(uow.credit_notes, account_id, found)
            for invoice in _theirs(uow.invoices, account_id, found.invoices, found.contact_ids):
                export.add_invoice(invoice, today)
                files.extend(self._printed(account_id, invoice))
                for note in notes.of(invoice.id):
                    export.add_credit_note(note)
            for quote in _theirs(uow.quotes, account_id, found.quotes, found.contact_ids):
                export.add_quote(quote, now, defaults.time_zone)
            for recurring in _theirs(uow.recurring_invoices, account_id, found.recurring_invoices, found.contact_ids):
                export.add_recurring_invoice(recurring)
        if not export.item_count:
            return ExportedPart(None, 0)
        return ExportedPart(exchange.write_part(request.request_id, SERVICE_NAME, ABOUT, export.data(), files),
                            export.item_count)

    def _printed(self, account_id: str, invoice) -> list[ExportFile]:
        """The issued invoice's PDF (the one kept, rendered now if never asked for), as a file of the export."""
        document = printing.with_e_invoice(printed_invoice(invoice, {}), invoice, self._e_invoice)
        if self._pdfs is None or self._render_pdf is None or not document.final:
            return []
        pdf = printing.pdf(account_id, document, "fr", self._pdfs, self._render_pdf)
        return [ExportFile(f"invoices/{invoice.number}.pdf", "application/pdf", pdf)]

    def erase(self, request: ErasureRequested) -> ErasureOutcome:
        """Drop the contacts' details first (from then on no new draft, generated invoice, issue or accepted quote
        is made for them: live_customer refuses a deleted customer), then erase the documents that make others
        (recurring invoices, quotes) before invoices, and list again until a round finds nothing new."""
        account_id = request.account_id
        family = self._index.family(account_id, list(request.contact_ids))
        self._index.forget_contacts(account_id, family)
        self._forget_timelines(account_id, family)
        erasure, seen = _Erasure(), set()
        for _ in range(ERASURE_ROUNDS):
            found = self._index.documents_of(account_id, family, known=seen)
            listed = {*found.recurring_invoices, *found.quotes, *found.invoices,
                      *(note_id for notes in found.credit_notes.values() for note_id in notes)}
            if listed <= seen:
                return erasure.outcome()
            seen |= listed
            with self._keys.keys_ready([_key(document_id) for document_id in listed]):  # one read of the vault
                left = self._makers_in_bulk(account_id, found, family, erasure)
                for repository, document_id in left:
                    self._delete(account_id, repository, document_id, family, _ERASE[repository], erasure)
                for invoice_id in self._invoices_in_bulk(account_id, found, family, erasure):
                    self._erase_invoice(account_id, invoice_id, found.credit_notes.get(invoice_id, []), family,
                                        erasure)
        raise ErasureNotSettled(ERASURE_ROUNDS)

    def _forget_timelines(self, account_id: str, family: list[str]) -> None:
        """Their timeline entries deleted, the retained invoices' too: entries are kept in clear, outside any key.
        After `forget_contacts`: the timeline consumer makes no entry for a contact billing holds as erased, so a
        late or replayed event does not bring them back (crm_platform.timeline_follower)."""
        if self._timeline is not None:
            for contact_id in family:
                self._timeline.forget_contact(account_id, contact_id)

    def _makers_in_bulk(self, account_id: str, found: PersonDocuments, family: list[str],
                        erasure: "_Erasure") -> list[tuple[str, str]]:
        """The person's recurring invoices and quotes deleted in one unit of work, written with one bulk append per
        type, their keys shredded; those left to `_delete` one by one (key shredded already, or a write lost)."""
        left, deleted, printed = [], [], set()
        with self._uow() as uow:
            for repository, ids in (("recurring_invoices", found.recurring_invoices), ("quotes", found.quotes)):
                documents = getattr(uow, repository).find_each(account_id, ids)
                for document_id in ids:
                    document = documents.get(document_id)
                    if document is None:
                        left.append((repository, document_id))  # erased already, or not this account's: as before
                    elif document.contact_id in family:
                        if not document.deleted:
                            _ERASE[repository](document)
                        deleted.append((repository, document_id))
                        if repository == "quotes" and document.stage in FINAL_QUOTE_STAGES:
                            printed.add(document_id)  # a PDF is kept of a final document only (printing.pdf)
            lost = set(uow.commit_in_bulk())
        self._discard_pdfs(account_id, [document_id for document_id in printed if document_id not in lost])
        for repository, document_id in deleted:
            if document_id in lost:
                left.append((repository, document_id))
            else:
                self._keys.shred(_key(document_id))
                erasure.destroyed(_key(document_id), now=True)
        return left

    def _discard_pdfs(self, account_id: str, document_ids: list[str]) -> None:
        """The kept PDFs of documents deleted, before their keys are shredded (once a key is shredded, a retry
        would skip its document, and the PDF would stay, unreadable but stored)."""
        if self._pdfs is not None and document_ids:
            self._pdfs.discard(account_id, document_ids)

    def _discard_unrestricted_pdfs(self, account_id: str, kept: list[tuple]) -> None:
        """The PDFs kept of retained invoices and their credit notes (`kept`: (invoice, notes) pairs) before they were
        restricted (with the person's e-mails and notes) deleted now, not when the printing consumer sees the
        restriction (late, or never if that event is dead-lettered); the printing consumer's `discard_superseded`
        does the same again, harmlessly. All at once: which of them exist is one bulk read (issue 13)."""
        if self._pdfs is not None and kept:
            self._pdfs.discard_superseded(account_id, *(document for invoice, notes in kept for document in (
                printed_invoice(invoice, {}), *(printed_credit_note(note) for note in notes))))

    def _invoices_in_bulk(self, account_id: str, found: PersonDocuments, family: list[str],
                          erasure: "_Erasure") -> list[str]:
        """The person's drafts deleted (keys shredded) and issued invoices restricted with their credit notes, in one
        unit of work written with one bulk append per type (not a read of the settings, three statements of commit
        and more per invoice: issue 13); the invoices left to `_erase_invoice` one by one (key shredded already, or
        a write lost)."""
        left, drafts, kept = [], [], []
        with self._uow() as uow:
            today = uow.account_defaults.for_account(account_id).today(self._clock)
            invoices, credit_notes = uow.invoices.find_each(account_id, found.invoices), \
                _CreditNotes(uow.credit_notes, account_id, found)
            for invoice_id in found.invoices:
                invoice = invoices.get(invoice_id)
                if invoice is None:
                    left.append(invoice_id)  # erased already, or not this account's: as before
                elif invoice.contact_id not in family:
                    continue  # no longer the person's
                elif invoice.deleted or invoice.stage == "draft":
                    if not invoice.deleted:
                        invoice.delete_draft(None)
                    drafts.append(invoice_id)
                else:
                    notes = credit_notes.of(invoice_id)
                    until = retain_until(invoice.fiscal_year, *(note.fiscal_year for note in notes if note.issued))
                    invoice.restrict_processing(until, LEGAL_BASIS, today)
                    restricted = [note for note in notes if note.issued]
                    for note in restricted:
                        note.restrict_processing(until, LEGAL_BASIS, today)
                    kept.append((invoice, until, restricted))
            lost = set(uow.commit_in_bulk())
        # no PDF of a draft to discard: a PDF is kept of a final document only (printing.pdf), and only a draft is
        # ever deleted (8 reads each of forms never kept: issue 13)
        for invoice_id in drafts:
            if invoice_id in lost:
                left.append(invoice_id)
            else:
                self._keys.shred(_key(invoice_id))
                erasure.destroyed(_key(invoice_id), now=True)
        written = []
        for invoice, until, restricted in kept:
            if invoice.id in lost or any(note.id in lost for note in restricted):
                left.append(invoice.id)  # restricting again is harmless: nothing is recorded twice
            else:
                written.append((invoice, until, restricted))
        self._discard_unrestricted_pdfs(account_id, [(invoice, restricted) for invoice, _, restricted in written])
        for invoice, until, restricted in written:
            erasure.retain(f"invoice:{invoice.id}", until)
            for note in restricted:
                erasure.retain(f"credit_note:{note.id}", until)
        return left

    def _documents(self, request) -> PersonDocuments:
        family = self._index.family(request.account_id, list(request.contact_ids))
        return self._index.documents_of(request.account_id, family)

    def _erase_invoice(self, account_id: str, invoice_id: str, note_ids: list[str], family: list[str],
                       erasure: "_Erasure") -> None:
        """A draft is deleted; an invoice issued (or issuing, or void) is kept, restricted, with its credit notes.
        Only an invoice the person is for NOW: one moved to another contact since is that contact's."""
        if self._shredded_already(invoice_id, erasure):
            return

        def attempt() -> bool:  # whether it is a draft of the person, to delete
            with self._uow() as uow:
                invoice = uow.invoices.find(account_id, invoice_id)
                if invoice is None or invoice.contact_id not in family:
                    return False
                if invoice.deleted or invoice.stage == "draft":
                    return True  # deleted already: its key is shredded next (an erasure stopped in between)
                notes = _live(uow.credit_notes, account_id, note_ids)
                until = retain_until(invoice.fiscal_year, *(note.fiscal_year for note in notes if note.issued))
                today = uow.account_defaults.for_account(account_id).today(self._clock)
                invoice.restrict_processing(until, LEGAL_BASIS, today)
                restricted = [note for note in notes if note.issued]
                for note in restricted:
                    note.restrict_processing(until, LEGAL_BASIS, today)
                uow.commit()
            self._discard_unrestricted_pdfs(account_id, [(invoice, restricted)])
            erasure.retain(f"invoice:{invoice.id}", until)
            for note in restricted:
                erasure.retain(f"credit_note:{note.id}", until)
            return False

        if retried(attempt):
            self._delete(account_id, "invoices", invoice_id, family, lambda draft: draft.delete_draft(None), erasure)

    def _delete(self, account_id: str, repository: str, document_id: str, family: list[str], delete: Callable,
                erasure: "_Erasure") -> None:
        """Record the document's deletion (unless deleted already), then shred its key; a document the person is
        no longer for (moved to another contact) is left alone. A write lost to another (an API edit, the
        scheduler, the issue sweep) is tried again on what that one wrote."""
        if self._shredded_already(document_id, erasure):
            return

        def attempt() -> bool:
            with self._uow() as uow:
                document = getattr(uow, repository).find(account_id, document_id)
                if document is None or document.contact_id not in family:
                    return False  # not this account's (a stale read model at most), or no longer the person's
                if not document.deleted:
                    delete(document)
                    uow.commit()
                return True

        if retried(attempt):
            if self._pdfs is not None:  # before the key: once it is shredded, a retry would skip the document
                self._pdfs.discard(account_id, [document_id])
            self._keys.shred(_key(document_id))
            erasure.destroyed(_key(document_id), now=True)

    def _shredded_already(self, document_id: str, erasure: "_Erasure") -> bool:
        if self._keys.is_erased(_key(document_id)):
            erasure.destroyed(_key(document_id), now=False)
            return True
        return False


class ErasureNotSettled(RuntimeError):
    """New documents of the person kept turning up: the erasure is not answered (the consumer tries it again)."""

    def __init__(self, rounds: int) -> None:
        super().__init__(f"new documents still listed after {rounds} rounds")


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
        """Once per item (a later round of listing sees it again): the latest date."""
        kept = RetainedItem(item, LEGAL_BASIS, until)
        for index, earlier in enumerate(self.retained):
            if earlier.item == item:
                self.retained[index] = max(earlier, kept, key=lambda retained: retained.retain_until)
                return
        self.retained.append(kept)

    def outcome(self) -> ErasureOutcome:
        outcome = RETAINED if self.retained else ERASED if self.keys else NOTHING_HELD
        return ErasureOutcome(outcome, self.keys, self.retained, self.items_erased)


_ERASE = {"recurring_invoices": lambda recurring: recurring.erase(), "quotes": lambda quote: quote.erase(),
          "invoices": lambda draft: draft.delete_draft(None)}


def _live(repository, account_id: str, ids: list[str]) -> list:
    """The documents of these ids still readable (not deleted, key not shredded), read at once (find_each: not a
    round trip to the event store after the other per document, issue 13)."""
    found = repository.find_each(account_id, ids)
    return [found[document_id] for document_id in dict.fromkeys(ids)
            if document_id in found and not found[document_id].deleted]


class _CreditNotes:
    """The person's invoices' credit notes, read at once; those of one invoice still readable by `of`."""

    def __init__(self, repository, account_id: str, found: PersonDocuments) -> None:
        self._by_invoice = found.credit_notes
        self._notes = repository.find_each(account_id, [note_id for note_ids in found.credit_notes.values()
                                                        for note_id in note_ids])

    def of(self, invoice_id: str) -> list:
        notes = (self._notes.get(note_id) for note_id in self._by_invoice.get(invoice_id, []))
        return [note for note in notes if note is not None and not note.deleted]


def _theirs(repository, account_id: str, ids: list[str], family: list[str]) -> list:
    """The live documents of these ids that the person is for now (not those moved to another contact since)."""
    return [document for document in _live(repository, account_id, ids) if document.contact_id in family]


def _key(document_id: str) -> str:
    return DOCUMENT_SUBJECT.format(invoice_id=document_id)
