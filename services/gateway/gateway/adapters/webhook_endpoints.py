"""Webhook endpoints in the gateway's database (`webhook_endpoints`), always read and written per account.

Every statement names the account next to the id: an id of another account finds nothing, as an unknown one.
The secrets are stored in clear: signing needs them (docs/webhooks.md, Secrets).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database

from crm_platform.mongo import find_by_ids, find_each

from gateway.domain.webhook_endpoints import SigningSecret


@dataclass(frozen=True)
class Endpoint:
    id: str
    account_id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    secrets: list[SigningSecret]
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    failing_since: datetime | None = None
    failed_deliveries: int = 0
    enabled_since: datetime | None = None  # when registered or last enabled again (None before it is stored)
    disabled_notice_pending: bool = False  # disabled, and its notice not yet queued (domain.webhook_endpoint_notices)

    def public(self) -> dict:
        """What the API shows of it (never a secret)."""
        return {"id": self.id, "url": self.url, "events": self.events, "description": self.description,
                "enabled": self.enabled, "disabled_reason": self.disabled_reason,
                "disabled_at": _iso(self.disabled_at), "created_at": _iso(self.created_at),
                "updated_at": _iso(self.updated_at)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _endpoint(doc: dict) -> Endpoint:
    return Endpoint(
        id=doc["_id"], account_id=doc["account_id"], url=doc["url"], events=list(doc["events"]),
        description=doc.get("description", ""), enabled=doc["enabled"], created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        secrets=[SigningSecret(kept["secret"], kept.get("expires_at")) for kept in doc["secrets"]],
        disabled_reason=doc.get("disabled_reason"), disabled_at=doc.get("disabled_at"),
        failing_since=doc.get("failing_since"), failed_deliveries=doc.get("failed_deliveries", 0),
        # endpoints stored before these fields: enabled since they were registered, no notice owed
        enabled_since=doc.get("enabled_since", doc["created_at"]),
        disabled_notice_pending=doc.get("disabled_notice_pending", False))


def _secrets(kept: list[SigningSecret]) -> list[dict]:
    return [{"secret": secret.secret, "expires_at": secret.expires_at} for secret in kept]


class MongoWebhookEndpoints:
    def __init__(self, db: Database) -> None:
        self._endpoints = db["webhook_endpoints"]

    def ensure_indexes(self) -> None:
        self._endpoints.create_index([("account_id", ASCENDING), ("created_at", ASCENDING)])
        self._endpoints.create_index([("disabled_notice_pending", ASCENDING)])

    def add(self, endpoint: Endpoint) -> None:
        self._endpoints.insert_one({
            "_id": endpoint.id, "account_id": endpoint.account_id, "url": endpoint.url, "events": endpoint.events,
            "description": endpoint.description, "enabled": endpoint.enabled, "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at, "secrets": _secrets(endpoint.secrets), "failing_since": None,
            "failed_deliveries": 0, "enabled_since": endpoint.enabled_since or endpoint.created_at,
            "disabled_notice_pending": False})

    def get(self, account_id: str, endpoint_id: str) -> Endpoint | None:
        doc = self._endpoints.find_one({"_id": endpoint_id, "account_id": account_id})
        return _endpoint(doc) if doc else None

    def of_account(self, account_id: str) -> list[Endpoint]:
        """The account's endpoints, oldest first (an account has a handful: no pages)."""
        return [_endpoint(doc) for doc in self._endpoints.find({"account_id": account_id}).sort(
            [("created_at", ASCENDING), ("_id", ASCENDING)])]

    def update(self, account_id: str, endpoint_id: str, changes: dict) -> Endpoint | None:
        """Set these fields (url, events, description, enabled...); the endpoint after, None if there is none."""
        doc = self._endpoints.find_one_and_update({"_id": endpoint_id, "account_id": account_id}, {"$set": changes},
                                                  return_document=ReturnDocument.AFTER)
        return _endpoint(doc) if doc else None

    def replace_secrets(self, before: Endpoint, kept: list[SigningSecret], now: datetime) -> bool:
        """Store a rotation made from `before`; False if the endpoint changed (its updated_at) or went meanwhile."""
        found = self._endpoints.update_one(
            {"_id": before.id, "account_id": before.account_id, "updated_at": before.updated_at},
            {"$set": {"secrets": _secrets(kept), "updated_at": now}})
        return found.matched_count == 1

    def remove(self, account_id: str, endpoint_id: str) -> bool:
        return self._endpoints.delete_one({"_id": endpoint_id, "account_id": account_id}).deleted_count == 1

    # What deliveries tell of an endpoint's health

    def note_success(self, endpoint_id: str) -> None:
        self._endpoints.update_one({"_id": endpoint_id, "$or": [{"failing_since": {"$ne": None}},
                                                                {"failed_deliveries": {"$ne": 0}}]},
                                   {"$set": {"failing_since": None, "failed_deliveries": 0}})

    def note_failure(self, endpoint_id: str, now: datetime, delivery_failed: bool,
                     failing_already: bool) -> Endpoint | None:
        """Record a failed attempt (failing since `now` unless it was already) and, if `delivery_failed`, one more
        failed delivery; the endpoint after, None if it is gone. The update returns it (no read after it: on
        FerretDB each is a statement of its own), in one statement when `failing_already` guesses right."""
        counted = {"$inc": {"failed_deliveries": 1 if delivery_failed else 0}}
        starts = ({"_id": endpoint_id, "failing_since": None}, {"$set": {"failing_since": now}, **counted})
        goes_on = ({"_id": endpoint_id, "failing_since": {"$ne": None}}, counted)
        while True:
            for match, change in (goes_on, starts) if failing_already else (starts, goes_on):
                doc = self._endpoints.find_one_and_update(match, change, return_document=ReturnDocument.AFTER)
                if doc is not None:
                    return _endpoint(doc)
            # neither matched: deleted, or a success reset it between the two (then this one's failure counts)
            if self._endpoints.find_one({"_id": endpoint_id}, {"_id": 1}) is None:
                return None

    def disable(self, endpoint_id: str, reason: str, now: datetime) -> bool:
        """Disable an enabled endpoint, its notice owed in the same write; False if it was not (deleted, or disabled
        already)."""
        found = self._endpoints.update_one({"_id": endpoint_id, "enabled": True}, {"$set": {
            "enabled": False, "disabled_reason": reason, "disabled_at": now, "updated_at": now,
            "disabled_notice_pending": True}})
        return found.modified_count == 1

    def notice_queued(self, endpoint_id: str, disabled_at: datetime) -> None:
        """The notice of the disabling at `disabled_at` is queued: no longer owed (a later disabling's still is)."""
        self._endpoints.update_one({"_id": endpoint_id, "disabled_notice_pending": True, "disabled_at": disabled_at},
                                   {"$set": {"disabled_notice_pending": False}})

    def owing_a_notice(self) -> list[Endpoint]:
        """The endpoints disabled whose notice was not queued (its worker stopped in between), of every account."""
        return [_endpoint(doc) for doc in self._endpoints.find({"disabled_notice_pending": True})]

    def by_ids(self, endpoint_ids: set[str]) -> dict[str, Endpoint]:
        """For the delivery worker: the endpoints of a round, by id (a deleted one is absent), an `_id` equality
        each: FerretDB answers one `$in` by reading every account's endpoints."""
        return {doc["_id"]: _endpoint(doc) for doc in find_by_ids(self._endpoints, sorted(endpoint_ids))}

    def enabled_of_account(self, account_id: str) -> list[Endpoint]:
        return [endpoint for endpoint in self.of_account(account_id) if endpoint.enabled]

    def enabled_of_accounts(self, account_ids: set[str]) -> dict[str, list[Endpoint]]:
        """For the fan-out (every event of every service): the enabled endpoints of each of these accounts, oldest
        first (an account without any is absent). An `account_id` equality each, the index's first field: one
        `$in` made FerretDB read every account's endpoints for every batch."""
        docs = find_each(self._endpoints, "account_id", sorted(account_ids))
        found: dict[str, list[Endpoint]] = {}
        for doc in sorted((doc for doc in docs if doc.get("enabled")), key=lambda doc: (doc["created_at"], doc["_id"])):
            found.setdefault(doc["account_id"], []).append(_endpoint(doc))
        return found
