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

from concurrent.futures import ThreadPoolExecutor

from pymongo.collection import Collection

from crm_platform.event_store import EventStore

from billing import views
from billing.adapters.customers_projection import PERSONAL_FIELDS as CUSTOMER_PERSONAL_FIELDS
from billing.service_layer.privacy import PersonDocuments

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
        kinds = {"Invoice": self._invoices, "CreditNote": self._credit_notes, "Quote": self._quotes,
                 "RecurringInvoice": self._recurring}
        # the four read models compared with the event store at once: each is a pass over the account's commits
        # and documents of its type, which grows with the account (issue 13: 1.7 s each on an account of 20
        # people like this one, one after the other). BEFORE the read models are listed: a document the worker
        # projects between the two reads is then behind, or listed; listed first (as until 753b8b5), it could be
        # neither: likely how an e2e export once missed invoices made a moment before it
        with ThreadPoolExecutor(len(kinds), thread_name_prefix="person-documents") as pool:
            behind = dict(zip(kinds, pool.map(lambda kind: self._behind(kinds[kind], kind, account_id), kinds)))
        invoices = self._with_unprojected(_of_contacts(self._invoices, account_id, contact_ids), behind["Invoice"],
                                          account_id, contact_ids, known)
        credit_notes: dict[str, list[str]] = {}
        # the account's credit notes (an indexed equality: account_listing), far fewer than its invoices; an equality
        # per invoice was 50 statements, an `$in` over them reads every credit note of every account on FerretDB
        person_invoices = set(invoices)
        for doc in _oldest_first(self._credit_notes.find({"account_id": account_id}, {"invoice_id": 1,
                                                                                      "created_at": 1})):
            if doc.get("invoice_id") in person_invoices:
                credit_notes.setdefault(doc["invoice_id"], []).append(doc["_id"])
        for note_id, invoice_id in self._unprojected_credit_notes(behind["CreditNote"]):
            if invoice_id in invoices and note_id not in credit_notes.get(invoice_id, []):
                credit_notes.setdefault(invoice_id, []).append(note_id)
        quotes = self._with_unprojected(_of_contacts(self._quotes, account_id, contact_ids), behind["Quote"],
                                        account_id, contact_ids, known)
        recurring = self._with_unprojected(_of_contacts(self._recurring, account_id, contact_ids),
                                           behind["RecurringInvoice"], account_id, contact_ids, known)
        return PersonDocuments(list(contact_ids), invoices, credit_notes, quotes, recurring)

    def _behind(self, collection: Collection, aggregate_type: str, account_id: str) -> list[str]:
        """The account's documents of this type whose events the read model does not reflect yet (all of them)."""
        if self._store is None:
            return []
        heads = self._store.heads_of_type(account_id, aggregate_type)
        projected = {doc["_id"]: doc.get("version", 0)
                     for doc in collection.find({"account_id": account_id}, {"version": 1})}
        return [document_id for document_id, version in heads.items() if projected.get(document_id, 0) < version]

    def _with_unprojected(self, listed: list[str], behind: list[str], account_id: str, contact_ids: list[str],
                          known: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """`listed`, and the documents not projected yet (`behind`) that are for one of these contacts now, as their
        events say (the last `contact_id` recorded); a projected one moved away since is no longer theirs. The
        `known` ones (handled by the caller already) are not read again: an erasure's next round would otherwise
        load every document it has just written, all of them behind the read model then (issue 13)."""
        found = list(listed)
        for document_id in behind:
            if document_id in known:
                continue
            contact_id = _current_contact(self._store.load(document_id))
            if contact_id in contact_ids and document_id not in found:
                found.append(document_id)
            elif contact_id not in contact_ids and document_id in found:
                found.remove(document_id)
        return found

    def _unprojected_credit_notes(self, behind: list[str]) -> list[tuple[str, str]]:
        """(credit note id, invoice id) of the account's credit notes the read model does not reflect yet."""
        found = []
        for note_id in behind:
            history = self._store.load(note_id)
            if history and history[0].payload.get("invoice_id"):
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
