"""Claims on contact identities (normalised email, E.164 phone) per account: the duplicate check.

A claim is a document whose `_id` is the identity ("<account>|email|<address>"),
so the primary key makes claiming race-free on every server, without
transactions. A claim can outlive its contact (deleted, changed, or a writer
that died before committing): the owner is then checked against the event
store and a stale claim is taken over.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime, timezone

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.mongo import insert_all_new


def identities(account_id: str, details: dict) -> list[tuple[str, str]]:
    """(claim id, what matched) for each email and phone of a contact, emails first."""
    emails = [("email", e["address"].casefold()) for e in details.get("emails") or []]
    phones = [("phone", p["e164"]) for p in details.get("phones") or [] if p.get("e164")]
    return [(f"{account_id}|{kind}|{value}", value) for kind, value in emails + phones]


@dataclass(frozen=True)
class Claim:
    owner: str
    claimed_at: datetime


class IdentityClaims(abc.ABC):
    @abc.abstractmethod
    def claim(self, identity: str, contact_id: str) -> Claim | None:
        """Claim for `contact_id`; None if done (or already ours), else the current owner's claim."""

    def claim_new(self, claims: list[tuple[str, str]]) -> set[str]:
        """Claim many (identity, contact id) pairs at once; the identities that were taken already.

        Only what is free is claimed here: the caller settles the taken ones with `claim`.
        """
        return {identity for identity, contact_id in claims if self.claim(identity, contact_id) is not None}

    @abc.abstractmethod
    def take_over(self, identity: str, stale_owner: str, contact_id: str) -> bool:
        """Move a stale claim to `contact_id`; False if someone else moved it first."""

    @abc.abstractmethod
    def release(self, identity: str, contact_id: str) -> None:
        """Drop the claim if `contact_id` holds it."""


class MongoIdentityClaims(IdentityClaims):
    def __init__(self, collection: Collection) -> None:
        self._claims = collection

    def claim(self, identity: str, contact_id: str) -> Claim | None:
        try:
            self._claims.insert_one({"_id": identity, "contact_id": contact_id, "claimed_at": _now()})
            return None
        except DuplicateKeyError:
            doc = self._claims.find_one({"_id": identity})
            if doc is None:
                return self.claim(identity, contact_id)  # released meanwhile
            return None if doc["contact_id"] == contact_id else Claim(doc["contact_id"], doc["claimed_at"])

    def claim_new(self, claims: list[tuple[str, str]]) -> set[str]:
        """One bulk insert (imports); what collided is reported, not looked at."""
        now = _now()
        refused = insert_all_new(self._claims, [{"_id": identity, "contact_id": contact_id, "claimed_at": now}
                                                for identity, contact_id in claims])
        return {claims[index][0] for index in refused}

    def take_over(self, identity: str, stale_owner: str, contact_id: str) -> bool:
        result = self._claims.update_one(
            {"_id": identity, "contact_id": stale_owner}, {"$set": {"contact_id": contact_id, "claimed_at": _now()}}
        )
        return result.matched_count == 1

    def release(self, identity: str, contact_id: str) -> None:
        doc = self._claims.find_one({"_id": identity})
        if doc is not None and doc["contact_id"] == contact_id:
            self._claims.delete_one({"_id": identity, "contact_id": contact_id})


class InMemoryIdentityClaims(IdentityClaims):
    """A fake for unit tests."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.claimed_at: dict[str, datetime] = {}

    def claim(self, identity: str, contact_id: str) -> Claim | None:
        owner = self.owners.setdefault(identity, contact_id)
        self.claimed_at.setdefault(identity, _now())
        return None if owner == contact_id else Claim(owner, self.claimed_at[identity])

    def take_over(self, identity: str, stale_owner: str, contact_id: str) -> bool:
        if self.owners.get(identity) != stale_owner:
            return False
        self.owners[identity], self.claimed_at[identity] = contact_id, _now()
        return True

    def release(self, identity: str, contact_id: str) -> None:
        if self.owners.get(identity) == contact_id:
            del self.owners[identity]


def _now() -> datetime:
    return datetime.now(timezone.utc)
