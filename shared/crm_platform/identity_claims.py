"""Claims on unique identities: at most one owner per identity, race-free without transactions.

An identity is any key that must stay unique, e.g. a contact's email in an
account ("<account>|email|<address>"); its owner is what holds it (a contact
id). A claim is a document whose `_id` is the identity, so the primary key
makes claiming race-free on every MongoDB-protocol server. A claim can outlive
its owner (deleted, changed, or a writer that died before committing): the
caller checks the owner against its own records and takes a stale claim over.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime, timezone

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.mongo import insert_all_new


@dataclass(frozen=True)
class Claim:
    owner: str
    claimed_at: datetime


class IdentityClaims(abc.ABC):
    @abc.abstractmethod
    def claim(self, identity: str, owner: str) -> Claim | None:
        """Claim for `owner`; None if done (or already theirs), else the current owner's claim."""

    def claim_new(self, claims: list[tuple[str, str]]) -> set[str]:
        """Claim many (identity, owner) pairs at once; the identities that were held already (by anyone).

        Only what is free is claimed here: the caller settles the held ones with `claim`.
        """
        return {identity for identity, owner in claims if self.holder(identity) is not None or
                self.claim(identity, owner) is not None}

    @abc.abstractmethod
    def holder(self, identity: str) -> Claim | None:
        """The identity's current claim, or None if it is free."""

    @abc.abstractmethod
    def take_over(self, identity: str, stale_owner: str, owner: str) -> bool:
        """Move a stale claim to `owner`; False if someone else moved it first."""

    @abc.abstractmethod
    def release(self, identity: str, owner: str) -> None:
        """Drop the claim if `owner` holds it."""

    @abc.abstractmethod
    def release_all(self, owner: str) -> int:
        """Drop every claim `owner` holds, stale ones too (the owner was erased); how many were dropped."""


class MongoIdentityClaims(IdentityClaims):
    """Claims as documents `{_id: identity, <owner_field>: owner, claimed_at}` of one collection."""

    def __init__(self, collection: Collection, owner_field: str = "owner") -> None:
        self._claims = collection
        self._owner = owner_field  # contacts stored its claims as `contact_id` before this was shared

    def claim(self, identity: str, owner: str) -> Claim | None:
        try:
            self._claims.insert_one({"_id": identity, self._owner: owner, "claimed_at": _now()})
            return None
        except DuplicateKeyError:
            held = self.holder(identity)
            if held is None:
                return self.claim(identity, owner)  # released meanwhile
            return None if held.owner == owner else held

    def claim_new(self, claims: list[tuple[str, str]]) -> set[str]:
        """One bulk insert (imports); what collided is reported, not looked at."""
        now = _now()
        refused = insert_all_new(self._claims, [{"_id": identity, self._owner: owner, "claimed_at": now}
                                                for identity, owner in claims])
        return {claims[index][0] for index in refused}

    def holder(self, identity: str) -> Claim | None:
        doc = self._claims.find_one({"_id": identity})
        return None if doc is None else Claim(doc[self._owner], doc["claimed_at"])

    def take_over(self, identity: str, stale_owner: str, owner: str) -> bool:
        result = self._claims.update_one(
            {"_id": identity, self._owner: stale_owner}, {"$set": {self._owner: owner, "claimed_at": _now()}}
        )
        return result.matched_count == 1

    def release(self, identity: str, owner: str) -> None:
        held = self.holder(identity)
        if held is not None and held.owner == owner:
            self._claims.delete_one({"_id": identity, self._owner: owner})

    def release_all(self, owner: str) -> int:
        # Not indexed by owner: an erasure is rare, and this is its only query by owner.
        return self._claims.delete_many({self._owner: owner}).deleted_count


def _now() -> datetime:
    return datetime.now(timezone.utc)
