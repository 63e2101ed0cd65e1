"""A person's documents, as billing's read models list them (the index service_layer/privacy.py reads), and
billing's copy of their contact details, dropped on erasure.

Merges come from billing's projection of contacts (`customers`: `merged_into`); documents from the invoices,
quotes and recurring invoices read models by the contact each is for NOW (`contact_id`: a draft moved to another
contact is that contact's, whoever it was made for first), and credit notes by their invoice.

Read models follow the event store by a moment (the worker projects each commit a little later). So billing's
event store notes, before each commit, whom the document is for (adapters/document_parties.py), and a listing adds
the documents noted for the person that the read models do not list under them, and checks those they list that
were ever noted for someone else (a draft moved): each is read from its events, whose `contact_id` is in clear (its
last one is the contact it is for now). What this reads grows with the person's documents, not the account's (the
read models were compared with every commit of the account until issue 13: 2.6 s of server time per erasure on an
account of 20 people). Noted before stored, read after listed: a document projected between the two reads is
listed, or noted and read from its events; never neither. The erasure lists again until a round finds nothing new
(service_layer/privacy.py), after `forget_contacts` has stopped new documents being made for the person.
"""
from __future__ import annotations

from pymongo.collection import Collection

from billing import views
from billing.adapters.document_parties import PartyNotingEventStore
from billing.adapters.customers_projection import PERSONAL_FIELDS as CUSTOMER_PERSONAL_FIELDS
from billing.service_layer.privacy import PersonDocuments

class MongoPersonDocuments:
    def __init__(self, customers: Collection, invoices: Collection, credit_notes: Collection, quotes: Collection,
                 recurring_invoices: Collection, store: PartyNotingEventStore | None = None) -> None:
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
        """The person's documents: those the read models list under their contacts, corrected by the documents
        noted for them (see the module). The `known` ones (handled by the caller already) are not read again from
        their events: an erasure's next round would otherwise load every document it has just written."""
        kinds = {"Invoice": self._invoices, "Quote": self._quotes, "RecurringInvoice": self._recurring}
        listed = {kind: _of_contacts(collection, account_id, contact_ids) for kind, collection in kinds.items()}
        # read AFTER the listings: a document projected in between is listed, or noted; never neither
        noted = self._store.documents_for(account_id, contact_ids) if self._store is not None else {}
        invoices, quotes, recurring = (self._corrected(listed[kind], noted.get(kind, set()), contact_ids, known)
                                       for kind in kinds)
        credit_notes: dict[str, list[str]] = {}
        # the account's credit notes (an indexed equality: account_listing), far fewer than its invoices; an equality
        # per invoice was 50 statements, an `$in` over them reads every credit note of every account on FerretDB
        person_invoices = set(invoices)
        listed_notes = set()
        for doc in _oldest_first(self._credit_notes.find({"account_id": account_id}, {"invoice_id": 1,
                                                                                      "created_at": 1})):
            listed_notes.add(doc["_id"])
            if doc.get("invoice_id") in person_invoices:
                credit_notes.setdefault(doc["invoice_id"], []).append(doc["_id"])
        for note_id, invoice_id in self._unlisted_credit_notes(account_id, invoices, listed_notes | set(known)):
            if invoice_id in person_invoices and note_id not in credit_notes.get(invoice_id, []):
                credit_notes.setdefault(invoice_id, []).append(note_id)
        return PersonDocuments(list(contact_ids), invoices, credit_notes, quotes, recurring)

    def _corrected(self, listed: list[str], noted: set[str], contact_ids: list[str],
                   known: set[str] | frozenset[str]) -> list[str]:
        """`listed` (what a read model lists under these contacts), with the documents noted for them it does not
        list, and without the listed ones ever noted for another party, as their events say (the last `contact_id`
        recorded): only those are read."""
        if self._store is None:
            return listed
        family = set(contact_ids)
        unlisted = [doc_id for doc_id in sorted(noted - set(listed)) if doc_id not in known]
        moved = [doc_id for doc_id, parties in self._store.parties_of([d for d in listed if d not in known]).items()
                 if parties - family]
        found = list(listed)
        for document_id, history in self._store.load_each(unlisted + moved).items():
            contact_id = _current_contact(history)
            if contact_id in family and document_id not in found:
                found.append(document_id)
            elif contact_id not in family and document_id in found:
                found.remove(document_id)
        return found

    def _unlisted_credit_notes(self, account_id: str, invoices: list[str], listed: set[str]) -> list[tuple[str, str]]:
        """(credit note id, invoice id) of the notes noted for these invoices that the read model does not list yet,
        as their first event says."""
        if self._store is None or not invoices:
            return []
        noted = self._store.documents_for(account_id, invoices).get("CreditNote", set())
        found = []
        for note_id, history in self._store.load_each(sorted(noted - listed)).items():
            if history[0].payload.get("invoice_id"):
                found.append((note_id, history[0].payload["invoice_id"]))
        return found

    def forget_contacts(self, account_id: str, contact_ids: list[str]) -> None:
        """Tombstone the customers as the projection does for an erased contact (its version unchanged). A later
        event of the contact, even one sent before the erasure and still readable (contacts may shred the key after
        billing answers), never brings them back: the projection keeps an erased customer erased (`keep_erased`)."""
        for contact_id in contact_ids:  # by `_id` equality: an `$in` reads every customer on FerretDB
            self._customers.update_one({"_id": contact_id, "account_id": account_id},
                                       {"$set": {"deleted": True, "erased": True},
                                        "$unset": {name: "" for name in CUSTOMER_PERSONAL_FIELDS}})


def _current_contact(history: list) -> str | None:
    """The contact a document is for now: the `contact_id` of its latest event that records one (in clear)."""
    for envelope in reversed(history):
        if envelope.payload.get("contact_id"):
            return envelope.payload["contact_id"]
    return None


def _of_contacts(collection: Collection, account_id: str, contact_ids: list[str]) -> list[str]:
    """The ids of the account's documents for these contacts, oldest first: an indexed equality per contact
    (account_contact), not one `$in`, which FerretDB answers by reading every document of the read model."""
    return [doc["_id"] for doc in _oldest_first(
        doc for contact_id in dict.fromkeys(contact_ids)
        for doc in collection.find({"account_id": account_id, "contact_id": contact_id}, {"created_at": 1}))]


def _oldest_first(docs) -> list[dict]:
    """Oldest first (created_at, then _id), as the read models list them."""
    return sorted(docs, key=lambda doc: (doc.get("created_at") is not None, doc.get("created_at") or 0, doc["_id"]))
