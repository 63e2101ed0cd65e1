"""The contact aggregate: the rules a contact obeys, and the events that record its changes."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from contacts.domain.errors import ContactNotFound, InvalidContact, StaleContactRevision
from contacts.domain.events import ContactCreated, ContactDeleted, ContactEvent, ContactUpdated

MAX_EMAILS = 50
MAX_PHONES = 50
EDITABLE_FIELDS = ("first_name", "last_name", "company", "emails", "phones")
IDENTIFYING_FIELDS = EDITABLE_FIELDS


class Contact:
    """A person or organisation an account works with, rebuilt from its events."""

    def __init__(self, contact_id: str, account_id: str) -> None:
        self.id = contact_id
        self.account_id = account_id
        self.revision = 0
        self.details: dict = {}
        self.created_at = ""
        self.updated_at = ""
        self.deleted = False
        self.pending: list[ContactEvent] = []

    @classmethod
    def create(cls, account_id: str, details: dict, contact_id: str | None = None) -> "Contact":
        contact = cls(contact_id or str(uuid.uuid4()), account_id)
        normalized = normalize_details(details)
        contact._record(ContactCreated(contact.id, account_id, normalized, _now()))
        return contact

    @classmethod
    def from_history(cls, contact_id: str, account_id: str, history: list[ContactEvent]) -> "Contact":
        contact = cls(contact_id, account_id)
        for event in history:
            contact._apply(event)
        return contact

    def update(self, revision: int, changes: dict) -> None:
        self._check_current(revision)
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise InvalidContact("unknown fields", errors={name: ["unknown field"] for name in sorted(unknown)})
        merged = normalize_details({**self.details, **changes})
        changed = [name for name in EDITABLE_FIELDS if merged.get(name) != self.details.get(name)]
        if changed:
            self._record(ContactUpdated(self.id, self.account_id, merged, changed, self.created_at))

    def delete(self, revision: int | None) -> None:
        if revision is not None:
            self._check_current(revision)
        elif self.deleted:
            raise ContactNotFound(self.id)
        self._record(ContactDeleted(self.id, self.account_id))

    def _check_current(self, revision: int) -> None:
        if self.deleted:
            raise ContactNotFound(self.id)
        if revision != self.revision:
            raise StaleContactRevision(self.id, revision, self.revision)

    def _record(self, event: ContactEvent) -> None:
        self._apply(event)
        self.updated_at = self.created_at if isinstance(event, ContactCreated) else _now()
        self.pending.append(event)

    def _apply(self, event: ContactEvent) -> None:
        self.revision += 1
        if isinstance(event, ContactCreated):
            self.details, self.created_at = dict(event.details), event.created_at
        elif isinstance(event, ContactUpdated):
            self.details = dict(event.details)
        elif isinstance(event, ContactDeleted):
            self.deleted = True


def normalize_details(details: dict) -> dict:
    """Trim text, drop empty values, settle the primary email/phone, and enforce the contact rules."""
    out: dict = {}
    for name in ("first_name", "last_name", "company"):
        value = (details.get(name) or "").strip()
        if value:
            out[name] = value
    out["emails"] = _primary_first_flagged(
        [{**e, "address": e["address"].strip()} for e in details.get("emails") or []], "address", MAX_EMAILS, "emails"
    )
    out["phones"] = _primary_first_flagged(
        [{**p, "number": p["number"].strip()} for p in details.get("phones") or []], "number", MAX_PHONES, "phones"
    )
    if not any(out.get(name) for name in IDENTIFYING_FIELDS):
        raise InvalidContact(
            "a contact needs at least a name, a company, an email or a phone",
            errors={"_schema": ["give at least one of first_name, last_name, company, emails, phones"]},
        )
    return out


def _primary_first_flagged(items: list[dict], key: str, limit: int, field: str) -> list[dict]:
    if len(items) > limit:
        raise InvalidContact(f"at most {limit} {field} per contact", errors={field: [f"at most {limit} entries"]})
    seen: set[str] = set()
    for item in items:
        folded = item[key].casefold()
        if folded in seen:
            raise InvalidContact(f"{item[key]} is listed twice", errors={field: [f"{item[key]} is listed twice"]})
        seen.add(folded)
    primaries = [i for i, item in enumerate(items) if item.get("primary")]
    if len(primaries) > 1:
        raise InvalidContact(f"only one of the {field} can be primary", errors={field: ["only one can be primary"]})
    chosen = primaries[0] if primaries else 0
    return [{**item, "tag": item.get("tag") or "main", "primary": i == chosen} for i, item in enumerate(items)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
