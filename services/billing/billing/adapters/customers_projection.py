"""Billing's own read model of the account's contacts (`customers`), from `contacts.events`.

One document per contact: what a document needs of its buyer (name, company, VAT number, billing
address, emails) while it is a draft, and whether the contact still exists. Every contact event
carries the whole contact, so each event's change is the whole document (or a tombstone); the
version kept with it makes re-delivery and out-of-order delivery harmless. As in contacts' own
read model, personal fields are kept in clear here and dropped when the contact is deleted or its
person erased (an event whose key is shredded is read as the erasure). An erased customer stays erased whatever
arrives later (`keep_erased`).
"""
from __future__ import annotations

from pymongo import ASCENDING

from crm_platform import merges
from crm_platform.contracts.contacts import (
    CONTACT_AGGREGATE_TYPE, ContactDeleted, ContactErased, ContactLifecycleEvent,
)
from crm_platform.envelope import EventEnvelope
from crm_platform.id_guards import filters_by_id
from crm_platform.mongo import find_each, update_by_ids
from crm_platform.personal_data import SubjectErased
from crm_platform.projections import DocumentChange, FoldingProjection
from crm_platform.query_plans import server_scans_for

PERSONAL_FIELDS = ("name", "first_name", "last_name", "company", "vat_number", "billing_address", "emails",
                   "bounced_emails")
ADDRESS_PREFERENCE = ("billing", "work")  # the address invoices go to: tagged billing, else work, else the first
ADDRESS_FIELDS = ("street", "postal_code", "city", "region", "country")


def customer_fields(details: dict) -> dict:
    """What billing keeps of a live contact's details."""
    first, last, company = details.get("first_name"), details.get("last_name"), details.get("company")
    person = " ".join(part for part in (first, last) if part)
    emails = sorted(details.get("emails") or [], key=lambda email: not email.get("primary"))
    return {
        "name": person or company or "",
        "first_name": first, "last_name": last, "company": company,
        "vat_number": details.get("vat_number"),
        "billing_address": _billing_address(details.get("addresses") or []),
        "emails": [email["address"] for email in emails if email.get("address")],
        # what a document is not mailed to (contacts marks an address bounced when a server refused it for good)
        "bounced_emails": [email["address"] for email in emails
                           if email.get("address") and email.get("deliverability") == "bounced"],
    }


def _billing_address(addresses: list[dict]) -> dict | None:
    if not addresses:
        return None
    ranked = sorted(addresses, key=lambda a: ADDRESS_PREFERENCE.index(a["tag"]) if a.get("tag") in ADDRESS_PREFERENCE
                    else len(ADDRESS_PREFERENCE))
    return {name: ranked[0].get(name) for name in ADDRESS_FIELDS if ranked[0].get(name)}


class CustomersProjection(FoldingProjection):
    aggregate_type = CONTACT_AGGREGATE_TYPE

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("merged_into", ASCENDING)], name="account_merged")
        # keep_erased asks for the erased among a batch's contacts after every write: FerretDB pushes `erased`
        # down but not the `$in`, and without an index PostgreSQL read every customer for it (156 ms each with
        # 122,000 customers: at 20 contact writes a second, more than the 2 cores of make run)
        self.collection.create_index([("erased", ASCENDING)], name="erased")

    def erased(self, account_id: str, contact_ids: list[str]) -> set[str]:
        """Those of these contacts of the account whose person was erased (what billing must not bring back). Read
        on every event the timeline consumer takes: an `_id` equality each (find_each), never an `$in`."""
        found = find_each(self.collection, "_id", list(contact_ids), {"account_id": 1, "erased": 1})
        return {doc["_id"] for doc in found if doc.get("account_id") == account_id and doc.get("erased")}

    def survivor(self, account_id: str, contact_id: str) -> str:
        """The contact this one was merged into, followed through later merges (crm_platform.merges); itself if it
        was not merged (or billing never heard of it). Asked on every event the timeline consumer takes."""
        return merges.survivor(self.collection, account_id, contact_id)

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type != self.aggregate_type or not self.codec.knows(envelope.event_type):
            return False  # notes, files, labels...: nothing billing keeps
        if (self.collection.find_one({"_id": envelope.aggregate_id}, {"erased": 1}) or {}).get("erased"):
            return False  # erased: whatever arrives later (an event sent before the erasure) changes nothing
        applied = super().apply(envelope, rebuilding)
        if applied:
            self.keep_erased([envelope])  # erased between the check and the write: forgotten again
        return applied

    def keep_erased(self, envelopes: list[EventEnvelope]) -> None:
        """An erased customer stays erased: the contacts of these events, if erased (by ContactErased, or by billing
        for a privacy request, adapters/person_documents.py: possibly before contacts shreds the key, so that a
        contact event sent before the erasure is still readable), lose again any personal field an event of
        theirs wrote back (an update never unsets `erased`). After a batch written in bulk, and after each event."""
        contact_ids = sorted({e.aggregate_id for e in envelopes if e.aggregate_type == self.aggregate_type})
        if not contact_ids:
            return
        forget = {"$set": {"deleted": True}, "$unset": {name: "" for name in PERSONAL_FIELDS}}
        # one statement where the server keeps `erased` in it; where it would read every customer for this
        # (FerretDB over SQLite), each is read by `_id`, then the erased updated by `_id` (filters_by_id): no
        # atomicity lost, as `erased` is never unset
        if server_scans_for(self.collection, {"_id": contact_ids[0], "erased": True}):
            wheres = filters_by_id(self.collection, {contact_id: {"erased": True} for contact_id in contact_ids})
            update_by_ids(self.collection, [contact_id for contact_id, where in wheres.items() if where], forget)
        else:
            self.collection.update_many({"_id": {"$in": contact_ids}, "erased": True}, forget)

    def event_of(self, envelope: EventEnvelope) -> ContactLifecycleEvent:
        try:
            return self.codec.from_envelope(envelope)
        except SubjectErased:  # the person was erased: keep nothing but the tombstone
            return ContactErased(envelope.aggregate_id, envelope.account_id)

    def change_for(self, envelope: EventEnvelope, event: ContactLifecycleEvent) -> DocumentChange:
        stamp = {"account_id": envelope.account_id}
        if isinstance(event, ContactErased):
            return DocumentChange({**stamp, "deleted": True, "erased": True}, PERSONAL_FIELDS)
        if isinstance(event, ContactDeleted):
            merged = {"merged_into": event.merged_into} if event.merged_into else {}
            return DocumentChange({**stamp, "deleted": True, **merged}, PERSONAL_FIELDS)
        return DocumentChange({**stamp, **customer_fields(event.details), "deleted": False})
