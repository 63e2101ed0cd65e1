"""Claims on unique identities: at most one owner per identity, race-free without transactions.

An identity is any key that must stay unique, e.g. a contact's email in an
account ("<account>|email|<address>"); its owner is what holds it (a contact
id). A claim is a document whose `_id` is the identity (or, through
KeyedIdentityClaims, a keyed hash of it, so that no email or phone is stored),
so the primary key makes claiming race-free on every MongoDB-protocol server. A claim can outlive
its owner (deleted, changed, or a writer that died before committing): the
caller checks the owner against its own records and takes a stale claim over.
"""
from __future__ import annotations

import abc
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crm_platform.mongo import DUPLICATE_KEY, insert_all_new


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

    def claim_in_order(self, claims: list[tuple[str, str]]) -> int:
        """Claim these (identity, owner) pairs in order while each is free; how many were claimed (the index of the
        first one held already, by anyone: it and those after it are left to the caller, who settles them with
        `claim`, in that order). Claimers that take the same identities in the same order never each hold a part of
        them (contacts sorts them: duplicates.claim_identities). An import's `claim_new` is unordered: an import and
        a creation of the same contact at that moment can still both be refused."""
        for index, (identity, owner) in enumerate(claims):
            if self.holder(identity) is not None or self.claim(identity, owner) is not None:
                return index
        return len(claims)

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

    def claim_in_order(self, claims: list[tuple[str, str]]) -> int:
        """One ordered bulk insert, which stops at the first identity held already (a new contact's email and phone:
        one statement). Any error but that one raises, as `claim` does."""
        if not claims:
            return 0
        now = _now()
        try:
            self._claims.insert_many([{"_id": identity, self._owner: owner, "claimed_at": now}
                                      for identity, owner in claims], ordered=True)
            return len(claims)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if len(errors) != 1 or errors[0].get("code") != DUPLICATE_KEY or exc.details.get("writeConcernErrors"):
                raise
            return errors[0]["index"]

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


KEYED = "|hmac:"  # what a stored claim id has after its scope when it is a keyed hash


class KeyedIdentityClaims(IdentityClaims):
    """Claims stored under a keyed hash of the identity, never under the identity itself.

    An identity is "<scope>|<kind>|<value>" (the scope is an account). It is
    stored as "<scope>|hmac:<HMAC-SHA256 of the identity under the scope's
    secret>", so the claims collection, and the database's log of duplicate
    keys, hold no email or phone number. A plain hash would not do: phone
    numbers are few enough to hash them all. `secret_of(scope)` gives the
    scope's secret (a key of the key vault, wrapped by the master key); each
    is asked once per instance, and an instance lives for one unit of work
    (contacts' cipher keeps the secret for the process: a lasting secret,
    never shredded; PersonalDataCipher).
    """

    def __init__(self, stored: IdentityClaims, secret_of: Callable[[str], bytes]) -> None:
        self._stored = stored
        self._secret_of = secret_of
        self._secrets: dict[str, bytes] = {}

    def stored_id(self, identity: str) -> str:
        scope = identity.split("|", 1)[0]
        if scope not in self._secrets:
            self._secrets[scope] = self._secret_of(scope)
        return f"{scope}{KEYED}{hmac.new(self._secrets[scope], identity.encode(), hashlib.sha256).hexdigest()}"

    def claim(self, identity: str, owner: str) -> Claim | None:
        return self._stored.claim(self.stored_id(identity), owner)

    def claim_new(self, claims: list[tuple[str, str]]) -> set[str]:
        plain = {self.stored_id(identity): identity for identity, _ in claims}
        return {plain[held] for held in self._stored.claim_new([(self.stored_id(i), owner) for i, owner in claims])}

    def claim_in_order(self, claims: list[tuple[str, str]]) -> int:
        return self._stored.claim_in_order([(self.stored_id(identity), owner) for identity, owner in claims])

    def holder(self, identity: str) -> Claim | None:
        return self._stored.holder(self.stored_id(identity))

    def take_over(self, identity: str, stale_owner: str, owner: str) -> bool:
        return self._stored.take_over(self.stored_id(identity), stale_owner, owner)

    def release(self, identity: str, owner: str) -> None:
        self._stored.release(self.stored_id(identity), owner)

    def release_all(self, owner: str) -> int:
        return self._stored.release_all(owner)


def rekey_plain_claims(collection: Collection, keyed: KeyedIdentityClaims, owner_field: str = "owner") -> int:
    """Move claims stored under the plain identity (before KeyedIdentityClaims) to their keyed id; how many moved.

    Safe to repeat and on a live system: a keyed claim taken meanwhile wins, the plain one is dropped.
    """
    moved = 0
    for doc in collection.find({}, {"_id": 1}):  # no regex: FerretDB servers differ in what they accept
        identity = doc["_id"]
        if not isinstance(identity, str) or KEYED in identity:
            continue
        plain = collection.find_one({"_id": identity})
        if plain is None:
            continue
        insert_all_new(collection, [{"_id": keyed.stored_id(identity), owner_field: plain[owner_field],
                                     "claimed_at": plain["claimed_at"]}])
        collection.delete_one({"_id": identity})
        moved += 1
    return moved


def _now() -> datetime:
    return datetime.now(timezone.utc)
