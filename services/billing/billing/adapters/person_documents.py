"""A person's documents, as billing's read models list them (the index service_layer/privacy.py reads), and
billing's copy of their contact details, dropped on erasure.

Merges come from billing's projection of contacts (`customers`: `merged_into`); documents from the invoices,
quotes and recurring invoices read models by the contact each is for NOW (`contact_id`: a draft moved to another
contact is that contact's, whoever it was made for first), and credit notes by their invoice. Read models follow
the event store by a moment: the erasure lists again until a round finds nothing new (service_layer/privacy.py),
after `forget_contacts` has stopped new documents being made for the person; a document made in the moment
before and not yet projected when the last round lists may still be missed (privacy's verification scan
would tell).
"""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.collection import Collection

from billing import views
from billing.adapters.customers_projection import PERSONAL_FIELDS as CUSTOMER_PERSONAL_FIELDS
from billing.service_layer.privacy import PersonDocuments

ORDER = [("created_at", ASCENDING), ("_id", ASCENDING)]


class MongoPersonDocuments:
    def __init__(self, customers: Collection, invoices: Collection, credit_notes: Collection, quotes: Collection,
                 recurring_invoices: Collection) -> None:
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

    def documents_of(self, account_id: str, contact_ids: list[str]) -> PersonDocuments:
        invoices = _ids(self._invoices, {"account_id": account_id, "contact_id": {"$in": contact_ids}})
        credit_notes: dict[str, list[str]] = {}
        for doc in self._credit_notes.find({"account_id": account_id, "invoice_id": {"$in": invoices}},
                                           {"invoice_id": 1}).sort(ORDER):
            credit_notes.setdefault(doc["invoice_id"], []).append(doc["_id"])
        person = {"account_id": account_id, "contact_id": {"$in": contact_ids}}
        return PersonDocuments(list(contact_ids), invoices, credit_notes, _ids(self._quotes, person),
                               _ids(self._recurring, person))

    def forget_contacts(self, account_id: str, contact_ids: list[str]) -> None:
        """Tombstone the customers as the projection does for an erased contact (its version unchanged). A later
        event of the contact, even one sent before the erasure and still readable (contacts may shred the key after
        billing answers), never brings them back: the projection keeps an erased customer erased (`keep_erased`)."""
        self._customers.update_many({"account_id": account_id, "_id": {"$in": contact_ids}},
                                    {"$set": {"deleted": True, "erased": True},
                                     "$unset": {name: "" for name in CUSTOMER_PERSONAL_FIELDS}})


def _ids(collection: Collection, mongo_filter: dict) -> list[str]:
    return [doc["_id"] for doc in collection.find(mongo_filter, {"_id": 1}).sort(ORDER)]
