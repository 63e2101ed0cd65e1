"""`billing.events`, produced by the billing service: the account's billing settings, invoices and credit notes.

The seller's legal identity (a business, not a data subject) travels in clear. A buyer's snapshot
and a document's notes travel in `personal`, sealed with the key `billing-subject:<contact id>`:
not the contact's own key, so that erasing the person can keep issued invoices for their legal
retention (the privacy service decides when that key is shredded).
"""
from __future__ import annotations

from marshmallow import fields

from crm_platform.contracts import EventContract, PayloadSchema, Topic


class BillingSettingsChangedPayload(PayloadSchema):
    """The account's whole billing settings after the change (the latest event is the state)."""

    settings = fields.Dict(required=True, metadata={
        "description": "seller (legal identity), default_currency, time_zone, numbering, payment_term, notes, "
                       "legal_terms"})
    changed = fields.List(fields.String(), required=True, metadata={"description": "top-level keys that changed"})


BILLING_EVENTS = Topic("billing.events", producer="billing", events=(
    EventContract("BillingSettingsChanged", BillingSettingsChangedPayload),
))
