"""A person's documents, as billing's read models list them (the index service_layer/privacy.py reads), and
billing's copy of their contact details, dropped on erasure.

Merges come from billing's projection of contacts (`customers`: `merged_into`); documents from the invoices,
quotes and recurring invoices read models by the contact each is for NOW (`contact_id`: a draft moved to another
contact is that contact's, whoever it was made for first), and credit notes by their invoice.

Read models follow the event store by a moment (the worker projects each commit a little later). So billing's
event store notes, before each commit, whom the document is for (adapters/document_parties.py), and a listing adds
the documents noted for the person that the read models do not list under them, each read from its events, whose
`contact_id` is in clear (its last one is the contact it is for now). What this reads grows with the person's
documents, not the account's. Noted before stored, read after listed: a document projected between the two reads is
listed, or noted and read from its events; never neither. The erasure lists again until a round finds nothing new
(service_layer/privacy.py), after `forget_contacts` has stopped new documents being made for the person.

A document the read models still list under the person after it was moved to another contact (a draft edited a
moment ago) is listed: the participant reads each document before acting and leaves one the person is no longer
for alone (service_layer/privacy.py: `_theirs`, and the erasure's `contact_id in family`).

Until the backfill of the entries has completed (`every_document_noted`), documents stored before the store noted
them have none, so the listing compares the read models with every commit of the account instead
(`_compared_with_the_store`: what it was until issue 13, 2.6 s of server time per erasure on an account of 20
people).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
        """The person's documents: those the read models list under their contacts, and those noted for them that
        the read models miss (see the module). The `known` ones (handled by the caller already) are not read again
        from their events: an erasure's next round would otherwise load every document it has just written."""
        if self._store is not None and not self._store.every_document_noted():
            return self._compared_with_the_store(account_id, contact_ids, known)
        kinds = {"Invoice": self._invoices, "Quote": self._quotes, "RecurringInvoice": self._recurring}
        listed = {kind: _of_contacts(collection, account_id, contact_ids) for kind, collection in kinds.items()}
        listed_notes = _credit_notes_of(self._credit_notes, account_id)
        # read AFTER the listings: a document projected in between is listed, or noted; never neither
        noted: dict[str, dict[str, str | None]] = {}
        for entry in self._store.noted_for(account_id, contact_ids) if self._store is not None else []:
            noted.setdefault(entry["aggregate_type"], {})[entry["document_id"]] = entry.get("invoice_id")
        invoices, quotes, recurring = (self._with_noted(listed[kind], noted.get(kind, {}), contact_ids, known)
                                       for kind in kinds)
        person_invoices = set(invoices)
        credit_notes: dict[str, list[str]] = {}
        for note_id, invoice_id in [*listed_notes, *noted.get("CreditNote", {}).items()]:
            if invoice_id in person_invoices and note_id not in credit_notes.get(invoice_id, []):
                credit_notes.setdefault(invoice_id, []).append(note_id)
        return PersonDocuments(list(contact_ids), invoices, credit_notes, quotes, recurring)

    def _with_noted(self, listed: list[str], noted: dict, contact_ids: list[str],
                    known: set[str] | frozenset[str]) -> list[str]:
        """`listed` (what a read model lists under these contacts), and the documents noted for them it does not
        list that are for one of them now, as their events say (the last `contact_id` recorded)."""
        unlisted = [doc_id for doc_id in sorted(set(noted) - set(listed)) if doc_id not in known]
        if not unlisted:
            return listed
        return listed + [document_id for document_id, history in self._store.load_each(unlisted).items()
                         if _current_contact(history) in contact_ids]

    def _compared_with_the_store(self, account_id: str, contact_ids: list[str],
                                 known: set[str] | frozenset[str]) -> PersonDocuments:
        """The listing of before the entries (see the module): the read models, and the account's documents they
        do not reflect yet (`_behind`) read from their events."""
        kinds = {"Invoice": self._invoices, "CreditNote": self._credit_notes, "Quote": self._quotes,
                 "RecurringInvoice": self._recurring}
        # BEFORE the read models are listed: a document the worker projects between the two reads is then behind,
        # or listed; listed first (as until 753b8b5), it could be neither. The four at once (1.7 s each on an
        # account of 20 people, one after the other)
        with ThreadPoolExecutor(len(kinds), thread_name_prefix="person-documents") as pool:
            behind = dict(zip(kinds, pool.map(lambda kind: self._behind(kinds[kind], kind, account_id), kinds)))
        invoices, quotes, recurring = (
            self._with_unprojected(_of_contacts(kinds[kind], account_id, contact_ids), behind[kind], contact_ids,
                                   known) for kind in ("Invoice", "Quote", "RecurringInvoice"))
        person_invoices = set(invoices)
        credit_notes: dict[str, list[str]] = {}
        unprojected = [(note_id, history[0].payload.get("invoice_id"))
                       for note_id, history in self._store.load_each(behind["CreditNote"]).items()]
        for note_id, invoice_id in [*_credit_notes_of(self._credit_notes, account_id), *unprojected]:
            if invoice_id in person_invoices and note_id not in credit_notes.get(invoice_id, []):
                credit_notes.setdefault(invoice_id, []).append(note_id)
        return PersonDocuments(list(contact_ids), invoices, credit_notes, quotes, recurring)

    def _behind(self, collection: Collection, aggregate_type: str, account_id: str) -> list[str]:
        """The account's documents of this type whose events the read model does not reflect yet (all of them)."""
        heads = self._store.heads_of_type(account_id, aggregate_type)
        projected = {doc["_id"]: doc.get("version", 0)
                     for doc in collection.find({"account_id": account_id}, {"version": 1})}
        return [document_id for document_id, version in heads.items() if projected.get(document_id, 0) < version]

    def _with_unprojected(self, listed: list[str], behind: list[str], contact_ids: list[str],
                          known: set[str] | frozenset[str]) -> list[str]:
        """`listed`, and the documents not projected yet (`behind`) that are for one of these contacts now, as their
        events say; a projected one moved away since is no longer theirs. The `known` ones are not read again."""
        found = list(listed)
        for document_id, history in self._store.load_each([d for d in behind if d not in known]).items():
            contact_id = _current_contact(history)
            if contact_id in contact_ids and document_id not in found:
                found.append(document_id)
            elif contact_id not in contact_ids and document_id in found:
                found.remove(document_id)
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


def _credit_notes_of(collection: Collection, account_id: str) -> list[tuple[str, str | None]]:
    """(credit note id, invoice id) of the account's credit notes, oldest first: an indexed equality
    (account_listing), far fewer than its invoices; an equality per invoice was 50 statements, an `$in` over them
    reads every credit note of every account on FerretDB."""
    return [(doc["_id"], doc.get("invoice_id")) for doc in _oldest_first(
        collection.find({"account_id": account_id}, {"invoice_id": 1, "created_at": 1}))]


def _of_contacts(collection: Collection, account_id: str, contact_ids: list[str]) -> list[str]:
    """The ids of the account's documents for these contacts, oldest first: an indexed equality per contact
    (account_contact), not one `$in`, which FerretDB answers by reading every document of the read model."""
    return [doc["_id"] for doc in _oldest_first(
        doc for contact_id in dict.fromkeys(contact_ids)
        for doc in collection.find({"account_id": account_id, "contact_id": contact_id}, {"created_at": 1}))]


def _oldest_first(docs) -> list[dict]:
    """Oldest first (created_at, then _id), as the read models list them."""
    return sorted(docs, key=lambda doc: (doc.get("created_at") is not None, doc.get("created_at") or 0, doc["_id"]))
