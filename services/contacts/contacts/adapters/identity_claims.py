"""The identities a contact claims in its account (normalised email, E.164 phone): the duplicate check's keys.

Claiming them is crm_platform.identity_claims; which claim is stale is
decided by service_layer/duplicates.py against the event store.
"""
from __future__ import annotations

# Contacts stored its claims with the owner under this name before claims were shared; kept so they stay valid.
OWNER_FIELD = "contact_id"
# The key-vault subject of an account's secret: claims are stored under an HMAC of the identity with it.
CLAIMS_SECRET = "identity-claims:{account_id}"


def identities(account_id: str, details: dict) -> list[tuple[str, str]]:
    """(claim id, what matched) for each email and phone of a contact, emails first."""
    emails = [("email", e["address"].casefold()) for e in details.get("emails") or []]
    phones = [("phone", p["e164"]) for p in details.get("phones") or [] if p.get("e164")]
    return [(f"{account_id}|{kind}|{value}", value) for kind, value in emails + phones]
