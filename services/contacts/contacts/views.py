"""Read-side queries on the `contacts` projection, always scoped to one account."""
from __future__ import annotations

from datetime import datetime, timezone

from pymongo.collection import Collection

from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.event_store import EventStore
from crm_platform.mongo import find_by_ids
from crm_platform.pagination import keyset_page
from crm_platform.personal_data import SubjectErased

from contacts.domain.errors import ContactNotFound
from contacts.domain.events import ContactDeleted
from contacts.domain.labels import label_order_id
from contacts.domain.option_lists import default_options, option_list_id
from contacts.domain.saved_views import query_from_pairs

VISIBLE = {"deleted": False}


def visible_contact(doc: dict | None, account_id: str, contact_id: str) -> dict:
    """The read-model document if it is a live contact of the account; ContactNotFound otherwise."""
    if doc is None or doc.get("account_id") != account_id:
        raise ContactNotFound(contact_id)
    if doc.get("deleted"):
        raise ContactNotFound(contact_id, merged_into=doc.get("merged_into"))
    return doc


def contact_items_page(items: Collection, account_id: str, contact_id: str, limit: int,
                       cursor: str | None) -> tuple[list[dict], str | None]:
    """A contact's notes or attachments (the read model `items`), newest first, one page at a time
    (the caller has checked the contact is live: views.visible_contact)."""
    return keyset_page(items, {"contact_id": contact_id, "account_id": account_id, "deleted": False},
                       sort="-created_at", field="created_at", limit=limit, cursor=cursor, dated=True)


def iso_date(moment: datetime) -> str:
    """A read model's date as the events write theirs (MongoDB gives them back without their zone: UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat(timespec="milliseconds")


def message_ids_of(messages: Collection, account_id: str, contact_id: str) -> list[str]:
    """The ids of the contact's messages the read model lists (their events say what they are now)."""
    return [d["_id"] for d in messages.find({"contact_id": contact_id, "account_id": account_id, "deleted": False},
                                            {"_id": 1})]


def attachment_ids_of(attachments: Collection, account_id: str, contact_id: str) -> list[str]:
    """The contact's file attachments (not its picture), for a merge to move them."""
    query = {"account_id": account_id, "contact_id": contact_id, "kind": "file", **VISIBLE}
    return [d["_id"] for d in attachments.find(query, {"_id": 1})]


def contact_history(store: EventStore, codec: EventCodec, account_id: str, contact_id: str) -> list[dict]:
    """Every change to a contact, newest first, read from its events: who, when, and each field's before/after."""
    history = store.load(contact_id)
    if not history or history[0].account_id != account_id:
        raise ContactNotFound(contact_id)
    return history_entries(codec, history)


def queued_messages_before(messages: Collection, before: datetime, limit: int = 200) -> list[tuple[str, str, str]]:
    """(account id, contact id, message id) of messages the read model shows queued since before `before`."""
    query = {"status": "queued", "created_at": {"$lt": before}, "deleted": False}
    docs = messages.find(query, {"account_id": 1, "contact_id": 1}).sort("created_at", 1).limit(limit)
    return [(d["account_id"], d["contact_id"], d["_id"]) for d in docs]


def message_entries(messages: Collection, account_id: str, contact_id: str) -> list[dict]:
    """The contact's messages as entries of its history (when each was queued, its delivery status now)."""
    query = {"contact_id": contact_id, "account_id": account_id, "deleted": False}
    return [{"revision": None, "event_type": "MessageQueued", "occurred_at": iso_date(d["created_at"]),
             "actor": None, "changes": {},
             "message": {"message_id": d["_id"], "subject": d["subject"], "to": d["to"], "marketing": d["marketing"],
                         "status": d["status"], "reason": d.get("reason"),
                         "finished_at": iso_date(d["finished_at"]) if d.get("finished_at") else None}}
            for d in messages.find(query).sort("created_at", -1)]


def with_messages(entries: list[dict], messages: list[dict]) -> list[dict]:
    """History entries and message entries together, newest first."""
    return sorted([*entries, *messages], key=lambda entry: entry["occurred_at"], reverse=True)


def history_entries(codec: EventCodec, history: list[EventEnvelope]) -> list[dict]:
    """contact_history's entries from a contact's stored events (read once by the caller); ContactNotFound once
    the contact's key is shredded."""
    contact_id = history[0].aggregate_id if history else ""
    entries, before = [], {}
    for envelope in history:
        try:
            event = codec.from_envelope(envelope)
        except SubjectErased:
            raise ContactNotFound(contact_id) from None
        after = {} if isinstance(event, ContactDeleted) else event.details
        changes = {
            name: {"from": before.get(name) or None, "to": after.get(name) or None}
            for name in sorted(set(before) | set(after))
            if (before.get(name) or None) != (after.get(name) or None)  # an empty list is no value either
        }
        entries.append({
            "revision": envelope.aggregate_version,
            "event_type": envelope.event_type,
            "occurred_at": envelope.occurred_at.isoformat(timespec="milliseconds"),
            "actor": envelope.actor,
            "changes": changes,
        })
        before = after
    return list(reversed(entries))


def list_labels(labels: Collection, label_orders: Collection, account_id: str) -> list[dict]:
    """The live labels in the account's chosen order; those it did not place follow by name."""
    docs = labels.find({"account_id": account_id, "deleted": False}).sort("name_folded", 1)
    order = (label_orders.find_one({"_id": label_order_id(account_id)}) or {}).get("keys", [])
    rank = {key: i for i, key in enumerate(order)}
    ranked = sorted(docs, key=lambda d: rank.get(d["key"], len(rank)))  # stable: by name within the rest
    return [{"key": d["key"], "name": d["name"]} for d in ranked]


def label_key_by_name(labels: Collection, account_id: str, name: str) -> str | None:
    doc = labels.find_one({"account_id": account_id, "name_folded": name.casefold(), "deleted": False})
    return None if doc is None else doc["key"]


def list_saved_views(saved_views: Collection, account_id: str) -> list[dict]:
    docs = saved_views.find({"account_id": account_id, "deleted": False}).sort("name", 1)
    return [{"id": d["_id"], "name": d["name"], "query": query_from_pairs(d["query"]), "revision": d["version"]} for d in docs]


def list_custom_fields(definitions: Collection, account_id: str) -> list[dict]:
    docs = definitions.find({"account_id": account_id, "deleted": False}).sort("position", 1)
    return [{"key": d["key"], "name": d["name"], "type": d["type"]} for d in docs]


def custom_field_types(definitions: Collection, account_id: str) -> dict[str, str]:
    """The account's custom fields: key -> type (to type the values of `cf.<key>.<op>` conditions)."""
    return {d["key"]: d["type"] for d in list_custom_fields(definitions, account_id)}


def contact_ids_with_custom_value(contacts: Collection, account_id: str, key: str) -> list[str]:
    query = {"account_id": account_id, f"custom_fields.{key}": {"$exists": True}, **VISIBLE}
    return [d["_id"] for d in contacts.find(query, {"_id": 1})]


def contact_ids_with_label(contacts: Collection, account_id: str, key: str) -> list[str]:
    return [d["_id"] for d in contacts.find({"account_id": account_id, "labels": key, **VISIBLE}, {"_id": 1})]


def list_options(option_lists: Collection, account_id: str, kind: str) -> list[dict]:
    """The account's list of this kind in order; the defaults while it has never changed it."""
    return options_of(option_lists.find_one({"_id": option_list_id(account_id, kind)}), kind)


def options_of(doc: dict | None, kind: str) -> list[dict]:
    """The options of a list's read-model document (None: the account never changed the list of this kind)."""
    pairs = doc["options"] if doc else [{"key": k, "name": n} for k, n in default_options(kind)]
    return [{"key": o["key"], "name": o["name"], "position": i} for i, o in enumerate(pairs)]


def contact_ids_using_option(contacts: Collection, account_id: str, field: str, key: str) -> list[str]:
    path = "addresses.country" if field == "country" else field
    return [d["_id"] for d in contacts.find({"account_id": account_id, path: key, **VISIBLE}, {"_id": 1})]


def note_ids_of(notes: Collection, account_id: str, contact_id: str) -> list[str]:
    return [d["_id"] for d in notes.find({"contact_id": contact_id, "account_id": account_id, "deleted": False}, {"_id": 1})]


def notes_of_contact(notes: Collection, account_id: str, contact_id: str) -> list[dict]:
    """The contact's live notes as the read model has them: `_id`, `kind`, `text`, `created_at` and the note's
    `version` they reflect (one query)."""
    query = {"contact_id": contact_id, "account_id": account_id, "deleted": False}
    return list(notes.find(query, {"kind": 1, "text": 1, "created_at": 1, "version": 1}))


def contact_has_note(notes: Collection, account_id: str, contact_id: str, text: str) -> bool:
    """Whether the contact has a live note with exactly this text (a file imported again brings it again)."""
    query = {"contact_id": contact_id, "account_id": account_id, "deleted": False, "text": text}
    return notes.find_one(query, {"_id": 1}) is not None


def deleted_contact_ids(contacts: Collection, account_id: str, contact_ids: list[str]) -> set[str]:
    """Which of these contacts the read model shows deleted (a tombstone; a contact not projected yet is not).

    By `_id` each (find_by_ids): an import batch asks for up to 500, and FerretDB reads the whole collection
    for one `$in`."""
    return {d["_id"] for d in find_by_ids(contacts, list(contact_ids), {"account_id": 1, "deleted": 1})
            if d.get("account_id") == account_id and d.get("deleted") is True}
