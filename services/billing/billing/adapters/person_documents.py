"""A person's documents, as billing's read models list them (the index service_layer/privacy.py reads), and
billing's copy of their contact details, dropped on erasure.

Merges come from billing's projection of contacts (`customers`: `merged_into`); documents from the invoices,
quotes and recurring invoices read models by the contact each is for NOW (`contact_id`: a draft moved to another
contact is that contact's, whoever it was made for first), and credit notes by their invoice.

Read models follow the event store by a moment (the worker projects each commit a little later). So the event store
is asked too: its heads of the account's documents (`heads_of_type`: two indexed equalities, versions only) against
the versions the read models hold; a document the read models miss or hold at an older version is read from its
events, whose `contact_id` is in clear (its last one is the contact it is for now). The cost is one pass over the
account's commit heads and read-model versions per type and listing: fine for an erasure, which is rare. The
erasure lists again until a round finds nothing new (service_layer/privacy.py), after `forget_contacts` has
stopped new documents being made for the person.
"""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.event_store import EventStore

from billing import views
from billing.adapters.customers_projection import PERSONAL_FIELDS as CUSTOMER_PERSONAL_FIELDS
from billing.service_layer.privacy import PersonDocuments

ORDER = [("created_at", ASCENDING), ("_id", ASCENDING)]


class MongoPersonDocuments:
    def __init__(self, customers: Collection, invoices: Collection, credit_notes: Collection, quotes: Collection,
                 recurring_invoices: Collection, store: EventStore | None = None) -> None:
        self._store = store  # None: the read models only (they may miss what was written a moment ago)
        self._customers = customers
        self._invoices = invoices
        self._credit_notes = credit_notes
        self._quotes = quotes
        self._recurring = recurring_invoices

    def family(self, account_id: str, contact_ids: list[str]) -> list[str]:
        """Each contact's survivor (the contact it was merged into, through later merges), and every contact
        merged into that one, however many merges ago."""
        family: list[str] = []
        for contact_id in contact_ids:
            survivor = views.current_customer(self._customers, account_id, contact_id)
            for member in [contact_id, *views.contact_and_merged(self._customers, account_id,
                                                                 survivor["_id"] if survivor else contact_id)]:
                if member not in family:
                    family.append(member)
        return family

    def documents_of(self, account_id: str, contact_ids: list[str],
                     known: set[str] | frozenset[str] = frozenset()) -> PersonDocuments:
        person = {"account_id": account_id, "contact_id": {"$in": contact_ids}}
        invoices = self._with_unprojected(_ids(self._invoices, person), self._invoices, "Invoice", account_id,
                                          contact_ids, known)
        credit_notes: dict[str, list[str]] = {}
        for doc in self._credit_notes.find({"account_id": account_id, "invoice_id": {"$in": invoices}},
                                           {"invoice_id": 1}).sort(ORDER):
            credit_notes.setdefault(doc["invoice_id"], []).append(doc["_id"])
        for note_id, invoice_id in self._unprojected_credit_notes(account_id):
            if invoice_id in invoices and note_id not in credit_notes.get(invoice_id, []):
                credit_notes.setdefault(invoice_id, []).append(note_id)
        quotes = self._with_unprojected(_ids(self._quotes, person), self._quotes, "Quote", account_id, contact_ids,
                                        known)
        recurring = self._with_unprojected(_ids(self._recurring, person), self._recurring, "RecurringInvoice",
                                           account_id, contact_ids, known)
        return PersonDocuments(list(contact_ids), invoices, credit_notes, quotes, recurring)

    def _behind(self, collection: Collection, aggregate_type: str, account_id: str) -> list[str]:
        """The account's documents of this type whose events the read model does not reflect yet (all of them)."""
        if self._store is None:
            return []
        heads = self._store.heads_of_type(account_id, aggregate_type)
        projected = {doc["_id"]: doc.get("version", 0)
                     for doc in collection.find({"account_id": account_id}, {"version": 1})}
        return [document_id for document_id, version in heads.items() if projected.get(document_id, 0) < version]

    def _with_unprojected(self, listed: list[str], collection: Collection, aggregate_type: str, account_id: str,
                          contact_ids: list[str], known: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """`listed`, and the documents not projected yet that are for one of these contacts now, as their events
        say (the last `contact_id` recorded); a projected one moved away since is no longer theirs. The `known`
        ones (handled by the caller already) are not read again: an erasure's next round would otherwise load
        every document it has just written, all of them behind the read model then (issue 13)."""
        found = list(listed)
        for document_id in self._behind(collection, aggregate_type, account_id):
            if document_id in known:
                continue
            contact_id = _current_contact(self._store.load(document_id))
            if contact_id in contact_ids and document_id not in found:
                found.append(document_id)
            elif contact_id not in contact_ids and document_id in found:
                found.remove(document_id)
        return found

    def _unprojected_credit_notes(self, account_id: str) -> list[tuple[str, str]]:
        """(credit note id, invoice id) of the account's credit notes the read model does not reflect yet."""
        behind = []
        for note_id in self._behind(self._credit_notes, "CreditNote", account_id):
            history = self._store.load(note_id)
            if history and history[0].payload.get("invoice_id"):
                behind.append((note_id, history[0].payload["invoice_id"]))
        return behind

    def forget_contacts(self, account_id: str, contact_ids: list[str]) -> None:
        """Tombstone the customers as the projection does for an erased contact (its version unchanged). A later
        event of the contact, even one sent before the erasure and still readable (contacts may shred the key after
        billing answers), never brings them back: the projection keeps an erased customer erased (`keep_erased`)."""
        self._customers.update_many({"account_id": account_id, "_id": {"$in": contact_ids}},
                                    {"$set": {"deleted": True, "erased": True},
                                     "$unset": {name: "" for name in CUSTOMER_PERSONAL_FIELDS}})


def _current_contact(history: list) -> str | None:
    """The contact a document is for now: the `contact_id` of its latest event that records one (in clear)."""
    for envelope in reversed(history):
        if envelope.payload.get("contact_id"):
            return envelope.payload["contact_id"]
    return None


def _ids(collection: Collection, mongo_filter: dict) -> list[str]:
    return [doc["_id"] for doc in collection.find(mongo_filter, {"_id": 1}).sort(ORDER)]
