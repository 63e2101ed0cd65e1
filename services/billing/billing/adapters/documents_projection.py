"""The read models of invoices (`invoices`) and credit notes (`credit_notes`), for lists and filters.

An invoice's events are small (a payment, a credit), so instead of folding each into the document,
every event makes the read model rewrite the whole document from the aggregate as the service's
own event store holds it, at the aggregate's revision: a re-delivered, late or replayed event finds
the document at that revision or later and changes nothing, whatever the order. The worker's consumer gives
a polled batch at once (`apply_batch`): each document computed once from its history, the keys read together,
the documents written in bulk; the rebuild and whatever the batch could not write go event by event. A document whose
document key was shredded keeps its amounts and dates and loses its personal fields. An invoice's
document lists `subject_key` (the key sealing it and its credit notes), `contact_id` (the contact it is for now:
how a person's erasure or export finds it, adapters/person_documents.py) and `contacts_ever` (every contact it was
ever for: not the person's documents, only a history); `retain_until`, once its person
asked for erasure and the law keeps it read only (what the retention job asks for when the date has passed).

The buyer's name, the one personal field of these lists, is kept SEALED under the document's key
(`buyer_name`: {"sealed"...}) and opened when a page is read (`opened`: one key read per page), not
kept in clear and unset on erasure: a document changes only when one of its own events arrives, and
its key may be shredded with no event of it ever coming (erasing the contact shreds the keys listed by
`subject_key`), so a clear copy would outlive the erasure. Sealed, it is unreadable the moment the key
is gone, without the read model hearing of it; and no other path (ContactErased) has to be relied on.
Documents projected before this kept the name in clear: rebuild the read models (cli.py) to seal them.
"""
from __future__ import annotations

import contextlib
import logging
from decimal import Decimal

from pymongo import ASCENDING, DESCENDING

from crm_platform.aggregates import Aggregate
from crm_platform.envelope import EventEnvelope
from crm_platform.event_store import EventStore
from crm_platform.outages import is_transient
from crm_platform.personal_data import PersonalDataCipher, SubjectErased, is_sealed
from crm_platform.projection_batches import BatchingProjection
from crm_platform.projections import DocumentChange, versioned_upsert
from crm_platform.repository import Repository
from crm_platform.versioned_documents import MongoVersionedDocuments, write_forward

from billing.adapters import retry_backoff
from billing.domain.credit_notes import CreditNote
from billing.domain.invoices import Invoice
from billing.domain.money import money_text, round_money

PERSONAL_FIELDS = ("buyer_name",)

log = logging.getLogger(__name__)


class AggregateStateProjection(BatchingProjection):
    """A read model whose document is a function of the aggregate's whole state (`fields_of`)."""

    aggregate_class: type[Aggregate]
    # events after which a document whose key is shredded is gone from lists (deleted), not only unreadable
    deleting_events: tuple[str, ...] = ()

    def __init__(self, collection, codec, store: EventStore, cipher: PersonalDataCipher | None = None) -> None:
        super().__init__(collection, codec)
        self.store = store
        self.cipher = cipher

    def opened(self, docs: list[dict]) -> list[dict]:
        """The listed documents with their buyer's name opened (None once the document's key is shredded)."""
        subjects = sorted({doc["buyer_name"]["subject"] for doc in docs if is_sealed(doc.get("buyer_name"))})
        if not subjects:
            return docs
        with self.cipher.keys_ready(subjects):
            return [{**doc, "buyer_name": self._open_name(doc["buyer_name"])} if is_sealed(doc.get("buyer_name"))
                    else doc for doc in docs]

    def _open_name(self, sealed: dict) -> str | None:
        try:
            return self.cipher.open(sealed).get("name")
        except SubjectErased:
            return None

    def sealed_buyer_name(self, aggregate, name: str | None) -> dict | None:
        """The buyer's name sealed under the document's own key (see the module docstring)."""
        return None if name is None else self.cipher.seal(self.personal_subject(aggregate), {"name": name})

    def personal_subject(self, aggregate) -> str:
        """The key sealing the document's personal data (shredded on erasure)."""
        return aggregate.subject_key

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type != self.aggregate_type:
            return False
        history = self._repository().history(envelope.account_id, envelope.aggregate_id)
        with self._keys_opening([history]):
            written = self.written(envelope.account_id, envelope.aggregate_id, history)
        if written is None:
            return False
        version, change = written
        return versioned_upsert(self.collection, envelope.aggregate_id, version, change.set, change.unset,
                                replace_same_version=rebuilding)

    def apply_batch(self, envelopes: list[EventEnvelope]) -> set[str]:
        """A polled batch at once: each document's history read once (an indexed equality each, overlapping), the
        keys opening them read in one query, each document computed once at its newest version whatever the number
        of its events here, and written in bulk, only ever forward (crm_platform.versioned_documents). The ids of the
        events so applied (or found applied); the others (a document refused or found behind) go one by one."""
        mine = [e for e in envelopes if e.aggregate_type == self.aggregate_type]
        if not mine:
            return set()
        histories = self.store.load_each([e.aggregate_id for e in mine])
        by_document: dict[str, tuple[int, DocumentChange]] = {}
        with self._keys_opening(histories.values()):
            for envelope in mine:
                if envelope.aggregate_id in by_document:
                    continue
                history = self._of_account(envelope.account_id, histories.get(envelope.aggregate_id, []))
                try:
                    written = self.written(envelope.account_id, envelope.aggregate_id, history)
                except Exception as exc:  # noqa: BLE001 - the one-by-one path retries and dead-letters its events
                    if is_transient(exc):
                        raise
                    log.warning("a document could not be computed; its events go one by one",
                                extra={"event_id": envelope.event_id, "error": type(exc).__name__})
                    continue
                if written is not None:
                    by_document[envelope.aggregate_id] = written
        left = write_forward(MongoVersionedDocuments(self.collection), by_document,
                             new={e.aggregate_id for e in mine if e.aggregate_version == 1})
        return {e.event_id for e in mine if e.aggregate_id in by_document and e.aggregate_id not in left}

    def written(self, account_id: str, aggregate_id: str,
                history: list[EventEnvelope]) -> tuple[int, DocumentChange] | None:
        """The document's version (its aggregate's newest) and what to write of it, from its stored events; None if
        there are none (of this account and type)."""
        if not history:
            return None
        stamp = {"account_id": account_id, "created_at": history[0].occurred_at, "updated_at": history[-1].occurred_at}
        try:
            aggregate = self._repository().rebuilt(account_id, aggregate_id, history)
        except SubjectErased:
            aggregate = None
        version = history[-1].aggregate_version
        if aggregate is None:  # its personal data was shredded: keep what is not personal, as it was
            deleted = {"deleted": True} if any(e.event_type in self.deleting_events for e in history) else {}
            return version, DocumentChange({**stamp, "erased": True, **deleted}, PERSONAL_FIELDS)
        if aggregate.deleted:
            return version, DocumentChange({**stamp, "deleted": True}, (*PERSONAL_FIELDS, "total", "amount_due"))
        # changed: no backoff (retry_backoff)
        return version, DocumentChange({**stamp, **self.fields_of(aggregate), "deleted": False},
                                       tuple(retry_backoff.FIELDS))

    def _keys_opening(self, histories):
        """A block in which the keys sealing these stored events are read in one query, not one per event (and the
        document's own key with them: it seals the buyer's name)."""
        subjects = sorted({e.payload["personal"]["subject"] for history in histories for e in history
                           if isinstance(e.payload.get("personal"), dict) and e.payload["personal"].get("subject")})
        return self.cipher.keys_ready(subjects) if self.cipher is not None and subjects else contextlib.nullcontext()

    def _repository(self) -> Repository:
        return Repository(self.store, self.codec, self.aggregate_class)

    def _of_account(self, account_id: str, history: list[EventEnvelope]) -> list[EventEnvelope]:
        """What `Repository.history` gives: none of another account's or type's (one store holds every type)."""
        if not history or history[0].account_id != account_id or history[0].aggregate_type != self.aggregate_type:
            return []
        return history

    def project(self, envelope, event, rebuilding):  # apply does the work: no event decoding of its own
        raise NotImplementedError

    def fields_of(self, aggregate) -> dict:
        raise NotImplementedError


class InvoicesProjection(AggregateStateProjection):
    aggregate_type = Invoice.aggregate_type
    aggregate_class = Invoice
    deleting_events = ("InvoiceDraftDeleted",)

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("deleted", ASCENDING), ("created_at", DESCENDING),
                                      ("_id", DESCENDING)], name="account_listing")
        self.collection.create_index([("account_id", ASCENDING), ("contact_id", ASCENDING), ("created_at", DESCENDING)],
                                     name="account_contact")
        self.collection.create_index([("stage", ASCENDING), ("updated_at", ASCENDING)], name="interrupted_issues")
        self.collection.create_index([("retain_until", ASCENDING)], name="retention")

    def fields_of(self, invoice: Invoice) -> dict:
        fields = invoice_fields(invoice)
        return {**fields, "buyer_name": self.sealed_buyer_name(invoice, fields["buyer_name"])}


class CreditNotesProjection(AggregateStateProjection):
    aggregate_type = CreditNote.aggregate_type
    aggregate_class = CreditNote

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                                     name="account_listing")
        self.collection.create_index([("issued", ASCENDING), ("updated_at", ASCENDING)], name="interrupted_issues")

    def fields_of(self, note: CreditNote) -> dict:
        started = note.started
        return {
            "contact_id": started.contact_id, "invoice_id": started.invoice_id,
            "invoice_number": started.invoice_number, "number": note.number, "issued": note.issued,
            "abandoned": note.abandoned, "status": note.status,
            "issued_on": started.issued_on, "currency": started.currency, "total": money_text(note.totals.total),
            "buyer_name": self.sealed_buyer_name(note, started.buyer.get("name") or started.buyer.get("company")),
            "retain_until": note.retain_until,
        }

    def personal_subject(self, note: CreditNote) -> str:
        return note.started.subject()  # its invoice's document key


def invoice_fields(invoice: Invoice) -> dict:
    """What the read model keeps of an invoice (no I/O)."""
    totals, currency = invoice.totals, invoice.currency

    def amount(value: Decimal) -> str:
        return money_text(round_money(value, currency))

    return {
        "contact_id": invoice.contact_id, "contacts_ever": list(invoice.contacts_ever),
        "subject_key": invoice.subject_key, "stage": invoice.stage, "number": invoice.number,
        "currency": invoice.currency, "issued_on": invoice.issued_on, "due_on": invoice.due_on,
        "total": amount(totals.total), "amount_paid": amount(invoice.amount_paid),
        "amount_credited": amount(invoice.amount_credited), "amount_due": amount(invoice.amount_due),
        "settled": invoice.stage == "issued" and invoice.amount_due <= Decimal(0),
        "has_payments": bool(invoice.payments), "paid_on": invoice.paid_on,
        "buyer_name": invoice.buyer.get("name") or invoice.buyer.get("company"),
        "retain_until": invoice.retain_until,  # restricted (kept for the law only) until then, see domain/retention.py
    }
