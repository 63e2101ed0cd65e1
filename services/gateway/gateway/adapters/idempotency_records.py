"""Where the gateway keeps idempotency records: one document per account and key, no transaction needed.

The record's `_id` is the HMAC of account and key, so the primary key decides which of two
simultaneous first requests runs. Every later change is a compare-and-set on the owner (the
attempt running the request) and the state, so a request that lost its record to a takeover
cannot overwrite the one that took it. A takeover first inserts a claim `takeover:<id>:<owner>:<state>` (in `<collection>_takeovers`):
the primary key again decides which of simultaneous takeovers goes on (a compare-and-set alone
is not atomic on FerretDB 1.24). No TTL index (FerretDB has none): reads treat an
expired record as absent, and the gateway worker deletes expired ones hourly.
"""
from __future__ import annotations

import abc
from datetime import datetime

from bson import Binary
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from gateway.domain.idempotency import Record, State
from gateway.domain.replay import KeptResponse, Replay


class IdempotencyRecords(abc.ABC):
    @abc.abstractmethod
    def add(self, record: Record) -> bool:
        """Store a new record; False if the account's key has one already."""

    @abc.abstractmethod
    def get(self, record_id: str) -> Record | None:
        """The stored record, expired or not, or None."""

    @abc.abstractmethod
    def replace(self, stored: Record, fresh: Record) -> bool:
        """Put `fresh` in the place of `stored`; False if the stored record changed since it was read."""

    @abc.abstractmethod
    def complete(self, record: Record, response: KeptResponse) -> bool:
        """Record the answer of `record`'s request; False if its owner lost the record meanwhile."""

    @abc.abstractmethod
    def release(self, record: Record) -> None:
        """Forget an in-flight record whose request is not to be replayed (its owner's only)."""

    @abc.abstractmethod
    def delete_expired(self, now: datetime) -> int:
        """Delete every record expired at `now` in one statement per collection (service_layer/expiry_sweep.py);
        how many records."""


class MongoIdempotencyRecords(IdempotencyRecords):
    def __init__(self, collection: Collection) -> None:
        self._records = collection
        self._takeovers = collection.database[f"{collection.name}_takeovers"]  # claims, swept with the records

    def ensure_indexes(self) -> None:
        self._records.create_index([("expires_at", ASCENDING)], name="expires_at")  # the sweep; not a TTL index
        self._takeovers.create_index([("expires_at", ASCENDING)], name="expires_at")

    def add(self, record: Record) -> bool:
        try:
            self._records.insert_one(_document(record))
            return True
        except DuplicateKeyError:
            return False

    def get(self, record_id: str) -> Record | None:
        document = self._records.find_one({"_id": record_id})
        return None if document is None else _record(document)

    def replace(self, stored: Record, fresh: Record) -> bool:
        # Claim the takeover of this very version of the record first, by inserting a unique _id: of retries
        # taking it over at once, one wins, where the compare-and-set alone lets several on FerretDB 1.24.
        try:
            self._takeovers.insert_one({"_id": _takeover_id(stored), "expires_at": fresh.expires_at})
        except DuplicateKeyError:
            return False
        return self._records.replace_one(_as_read(stored), _document(fresh)).matched_count == 1

    def complete(self, record: Record, response: KeptResponse) -> bool:
        return self._records.update_one(
            _as_read(record), {"$set": {"state": State.COMPLETED.value, "response": _response_document(response)}}
        ).matched_count == 1

    def release(self, record: Record) -> None:
        self._records.delete_one(_as_read(record))

    def delete_expired(self, now: datetime) -> int:
        self._takeovers.delete_many({"expires_at": {"$lte": now}})
        return self._records.delete_many({"expires_at": {"$lte": now}}).deleted_count


def _as_read(record: Record) -> dict:
    """The filter matching the record only as long as nobody changed it."""
    return {"_id": record.id, "owner": record.owner, "state": record.state.value}


def _takeover_id(stored: Record) -> str:
    """One per version of a record (each change changes its owner or its state); swept when it expires."""
    return f"takeover:{stored.id}:{stored.owner}:{stored.state.value}"


def _document(record: Record) -> dict:
    document = {"_id": record.id, "account_id": record.account_id, "fingerprint": record.fingerprint,
                "owner": record.owner, "state": record.state.value, "created_at": record.created_at,
                "expires_at": record.expires_at}
    if record.response is not None:
        document["response"] = _response_document(record.response)
    return document


def _response_document(response: KeptResponse) -> dict:
    # a list, not a document: a header name may hold a "." or start with "$" (and FerretDB stores no nested arrays)
    return {"status": response.status, "replay": response.replay.value, "body": Binary(response.body),
            "headers": [{"name": name, "value": value} for name, value in response.headers.items()]}


def _record(document: dict) -> Record:
    kept = document.get("response")
    response = None if kept is None else KeptResponse(
        kept["status"], Replay(kept["replay"]), {header["name"]: header["value"] for header in kept["headers"]}, bytes(kept["body"]))
    return Record(document["_id"], document["account_id"], document["fingerprint"], State(document["state"]),
                  document["created_at"], document["expires_at"], document["owner"], response)
