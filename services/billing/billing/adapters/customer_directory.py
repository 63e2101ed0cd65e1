"""Who a billing document is for, read from billing's customers read model (the CustomerDirectory port)."""
from __future__ import annotations

from pymongo.collection import Collection

from billing import views
from billing.domain.customers import Customer, CustomerDirectory

BUYER_FIELDS = ("name", "company", "vat_number", "emails")


class MongoCustomerDirectory(CustomerDirectory):
    def __init__(self, customers: Collection) -> None:
        self._customers = customers

    def find(self, account_id: str, contact_id: str) -> Customer | None:
        """The contact, or the survivor of the merges it went through; None if billing never heard of it."""
        doc = views.current_customer(self._customers, account_id, contact_id)
        if doc is None:
            return None
        buyer = {name: doc[name] for name in BUYER_FIELDS if doc.get(name)}
        if doc.get("billing_address"):
            buyer["address"] = doc["billing_address"]
        return Customer(doc["_id"], buyer, bool(doc.get("deleted")), tuple(doc.get("bounced_emails") or ()))
