"""Webhook deliveries in the gateway's database (`webhook_deliveries`): one document per event and endpoint.

Its `_id` is made from the event's id and the endpoint's (domain.webhook_deliveries.delivery_id): inserting it is
what makes the fan-out idempotent, an insert of a given `_id` being exclusive on every server (FerretDB 1.24
included). The body is stored as the exact text that is signed and sent: thin, with no personal data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crm_platform.id_guards import filter_by_id
from crm_platform.pagination import keyset_page

from gateway.domain.webhook_deliveries import CANCELLED, DELIVERED, FAILED, PENDING, Outcome

MAX_SHOWN_ATTEMPTS = 50  # the latest attempts a delivery's log shows


@dataclass(frozen=True)
class Delivery:
    id: str
    account_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    body: str
    state: str
    attempts: int
    series_attempts: int
    series_started_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime
    last_status_code: int | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None

    def public(self, log: list[dict] | None = None) -> dict:
        shown = {"id": self.id, "event_id": self.event_id, "event_type": self.event_type, "state": self.state,
                 "attempts": self.attempts, "last_status_code": self.last_status_code, "last_error": self.last_error,
                 "last_attempt_at": _iso(self.last_attempt_at), "next_attempt_at": _iso(self.next_attempt_at),
                 "created_at": _iso(self.created_at)}
        return shown if log is None else {**shown, "log": log}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _delivery(doc: dict) -> Delivery:
    return Delivery(
        id=doc["_id"], account_id=doc["account_id"], endpoint_id=doc["endpoint_id"], event_id=doc["event_id"],
        event_type=doc["event_type"], body=doc["body"], state=doc["state"], attempts=doc["attempts"],
        series_attempts=doc.get("series_attempts", 0), series_started_at=doc.get("series_started_at"),
        next_attempt_at=doc.get("next_attempt_at"), created_at=doc["created_at"],
        last_status_code=doc.get("last_status_code"), last_error=doc.get("last_error"),
        last_attempt_at=doc.get("last_attempt_at"))


class MongoWebhookDeliveries:
    def __init__(self, db: Database) -> None:
        self._deliveries = db["webhook_deliveries"]
        # one document per attempt (`<delivery id>:<attempt>`): inserts only, where a $push with $slice into the
        # delivery would need an update operator FerretDB may not have
        self._attempts = db["webhook_attempts"]

    def ensure_indexes(self) -> None:
        self._deliveries.create_index([("state", ASCENDING), ("next_attempt_at", ASCENDING)])
        self._deliveries.create_index([("endpoint_id", ASCENDING), ("created_at", DESCENDING)])
        self._attempts.create_index([("delivery_id", ASCENDING), ("at", DESCENDING)])

    def add(self, delivery_id: str, *, account_id: str, endpoint_id: str, event_id: str, event_type: str, body: str,
            now: datetime) -> bool:
        """Insert a pending delivery, due now; False if this event was fanned out to this endpoint already."""
        try:
            self._deliveries.insert_one({
                "_id": delivery_id, "account_id": account_id, "endpoint_id": endpoint_id, "event_id": event_id,
                "event_type": event_type, "body": body, "state": PENDING, "attempts": 0, "series_attempts": 0,
                "series_started_at": None, "next_attempt_at": now, "created_at": now})
            return True
        except DuplicateKeyError:
            return False

    def due(self, now: datetime, limit: int, but_for: frozenset[str] = frozenset()) -> list[Delivery]:
        """Pending deliveries whose next attempt is due, the most overdue first (none of the endpoints `but_for`)."""
        query = {"state": PENDING, "next_attempt_at": {"$lte": now}}
        if but_for:
            query["endpoint_id"] = {"$nin": sorted(but_for)}
        docs = self._deliveries.find(query).sort(
            [("next_attempt_at", ASCENDING)]).limit(limit)
        return [_delivery(doc) for doc in docs]

    def get(self, account_id: str, endpoint_id: str, delivery_id: str) -> tuple[Delivery, list[dict]] | None:
        """The delivery and its latest attempts, newest first."""
        delivery = self._find(account_id, endpoint_id, delivery_id)
        if delivery is None:
            return None
        attempts = self._attempts.find({"delivery_id": delivery_id}).sort([("at", DESCENDING)]).limit(MAX_SHOWN_ATTEMPTS)
        return delivery, [_shown(entry) for entry in attempts]

    def _find(self, account_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None:
        doc = self._deliveries.find_one({"_id": delivery_id, "account_id": account_id, "endpoint_id": endpoint_id})
        return _delivery(doc) if doc else None

    def page(self, account_id: str, endpoint_id: str, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
        """The endpoint's deliveries, newest first."""
        docs, next_cursor = keyset_page(self._deliveries, {"account_id": account_id, "endpoint_id": endpoint_id},
                                        sort="-created_at", field="created_at", limit=limit, cursor=cursor, dated=True)
        return [_delivery(doc) for doc in docs], next_cursor

    def record_attempt(self, delivery: Delivery, outcome: Outcome, now: datetime, *, state: str,
                       next_attempt_at: datetime | None) -> None:
        """One attempt's outcome, and what follows it (delivered, retried at next_attempt_at, failed)."""
        try:
            self._attempts.insert_one({"_id": f"{delivery.id}:{delivery.attempts + 1}", "delivery_id": delivery.id,
                                       "at": now, "status_code": outcome.status_code, "error": outcome.error,
                                       "duration_ms": outcome.duration_ms})
        except DuplicateKeyError:  # recorded by a holder of the lease that lost it meanwhile: once is enough
            pass
        self._while_pending(delivery.id, {
            "$set": {"state": state, "next_attempt_at": next_attempt_at, "last_status_code": outcome.status_code,
                     "last_error": outcome.error, "last_attempt_at": now,
                     "series_started_at": delivery.series_started_at or now},
            "$inc": {"attempts": 1, "series_attempts": 1}})

    def cancel(self, delivery: Delivery, why: str, now: datetime) -> None:
        self._while_pending(delivery.id, {
            "$set": {"state": CANCELLED, "next_attempt_at": None, "last_error": why, "last_attempt_at": now}})

    def _while_pending(self, delivery_id: str, update: dict) -> None:
        """`update` the delivery if it is still pending (by `_id` alone where the server would scan for the
        state: crm_platform.id_guards)."""
        where = filter_by_id(self._deliveries, delivery_id, {"state": PENDING})
        if where is not None:
            self._deliveries.update_one(where, update)

    def cancel_pending_of(self, endpoint_id: str, why: str, now: datetime) -> int:
        found = self._deliveries.update_many({"endpoint_id": endpoint_id, "state": PENDING}, {
            "$set": {"state": CANCELLED, "next_attempt_at": None, "last_error": why}})
        return found.modified_count

    def delete_finished_before(self, cutoff: datetime) -> int:
        """Forget deliveries made before `cutoff` that are no longer pending, and attempts made before it (one
        statement each: on FerretDB a range reads the whole collection whatever is asked); how many deliveries."""
        deleted = self._deliveries.delete_many({"created_at": {"$lt": cutoff}, "state": {"$ne": PENDING}})
        self._attempts.delete_many({"at": {"$lt": cutoff}})
        return deleted.deleted_count

    def redeliver(self, account_id: str, endpoint_id: str, delivery_id: str, now: datetime) -> Delivery | None:
        """Start a new series of attempts of a delivery that is not pending, due now; None if there is no such
        delivery; the delivery unchanged if it is pending already."""
        self._deliveries.update_one(
            {"_id": delivery_id, "account_id": account_id, "endpoint_id": endpoint_id,
             "state": {"$in": [DELIVERED, FAILED, CANCELLED]}},
            {"$set": {"state": PENDING, "next_attempt_at": now, "series_attempts": 0, "series_started_at": None}})
        return self._find(account_id, endpoint_id, delivery_id)  # not its attempts: the answer shows none


def _shown(entry: dict) -> dict:
    return {"at": _iso(entry["at"]), "status_code": entry.get("status_code"), "error": entry.get("error"),
            "duration_ms": entry.get("duration_ms")}
