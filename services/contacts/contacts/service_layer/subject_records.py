"""What contacts holds of a person, read for their export (issue 13, GDPR Art. 15 and 20).

For each contact of the person's merge families (the ids asked for, the contacts they were merged into and
every contact merged into those): the contact as it is now (a merged or deleted one as it last was), its
labels and custom values by name, its history, its notes, its files and picture, and the messages sent to it
(from the read model's list, each read from its events). Everything is read from
the event store (the read models may lag), but the notes: the read model's in one query where it shows their
newest version, from their events otherwise, each note once. A contact's files are its
holdings' and the read model's (items added before holdings were kept are only there), as erasure.py finds them.

An id that is not a contact of the account, and a contact erased already, hold nothing. The top-level lists of
`data` hold flat rows (each becomes a CSV of the export); the contacts themselves, nested, are a mapping.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from crm_platform.envelope import EventEnvelope

from contacts.domain.errors import ContactNotFound
from contacts.domain.events import ContactErased, data_subject
from contacts.domain.holdings import holdings_id
from contacts.domain.model import EDITABLE_FIELDS, OPTION_FIELDS, Contact
from contacts.service_layer.account_names import AccountNames
from contacts.service_layer.erasure import ItemsOf, live_attachments, merge_family
from contacts.service_layer.unit_of_work import UnitOfWork
from contacts.views import iso_date

HistoryOf = Callable[[list[EventEnvelope]], list[dict]]  # a contact's stored events -> views.history_entries
NotesOf = Callable[[str, str], list[dict]]  # (account id, contact id) -> views.notes_of_contact's documents


@dataclass(frozen=True)
class HeldFile:
    """A file of the person to copy into the export: where it lies, and its name there."""

    contact_id: str
    blob_id: str
    name: str
    content_type: str


@dataclass
class SubjectRecords:
    contact_ids: list[str] = field(default_factory=list)  # the contacts read (merge families, erased ones left out)
    data: dict = field(default_factory=dict)
    files: list[HeldFile] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        """Contacts, notes, files and messages."""
        return len(self.contact_ids) + len(self.data.get("notes", [])) + len(self.files) + \
            len(self.data.get("messages", []))


def families(uow: UnitOfWork, account_id: str, contact_ids: list[str]) -> list[list[str]]:
    """The merge family of each id that is a contact of the account (each family once)."""
    found: list[list[str]] = []
    for contact_id in dict.fromkeys(contact_ids):
        if any(contact_id in family for family in found):
            continue
        try:
            found.append(merge_family(uow, account_id, contact_id))
        except ContactNotFound:
            continue  # not the account's: nothing held
    return found


def read_records(uow: UnitOfWork, account_id: str, contact_ids: list[str], notes_of: NotesOf,
                 attachment_ids_of: ItemsOf, history_of: HistoryOf, messages_of: ItemsOf) -> SubjectRecords:
    """Everything readable of these contacts and their merge families."""
    records = SubjectRecords(data={"contacts": {}, "labels": [], "custom_fields": [], "history": [], "notes": [],
                                   "files": [], "messages": []})
    names = AccountNames(uow, account_id)
    exported: set[str] = set()  # note ids: a note moved by a merge may still show on the contact it left
    for family in families(uow, account_id, contact_ids):
        with uow.cipher.keys_ready([data_subject(contact_id) for contact_id in family]):  # one read of the vault
            for contact_id in family:
                with uow:
                    stored = uow.contacts.history(account_id, contact_id)  # read once, for all that follows
                    contact = uow.contacts.rebuilt(account_id, contact_id, stored)  # None once its key is shredded
                if contact is None or _erasure_recorded(stored):
                    continue
                records.contact_ids.append(contact_id)
                _add_contact(records.data, contact, names)
                records.data["history"] += _history_rows(contact_id, readable_history(history_of, stored), names)
                held = holdings_of(uow, account_id, contact_id)
                records.data["notes"] += _notes(uow, account_id, contact_id, held.note_ids, notes_of, exported)
                _add_files(records, uow, account_id, contact_id, held.attachment_ids, attachment_ids_of)
                records.data["messages"] += _messages(uow, account_id, contact_id, messages_of)
    return records


def _erasure_recorded(history: list) -> bool:
    """An erasure stopped before its key was shredded: what is left is the erasure's to finish, not to export."""
    return any(envelope.event_type == ContactErased.event_type() for envelope in history)


def _add_contact(data: dict, contact: Contact, names: AccountNames) -> None:
    details = contact.details
    fields = {name: details.get(name) for name in EDITABLE_FIELDS if name not in OPTION_FIELDS}
    fields.update({name: names.option(name, details[name]) for name in OPTION_FIELDS if details.get(name)})
    custom = {names.custom_field(key): value for key, value in (details.get("custom_fields") or {}).items()}
    labels = [names.label(key) for key in details.get("labels", [])]
    status = "merged" if contact.merged_into_id else "deleted" if contact.deleted else "live"
    data["contacts"][contact.id] = {
        "status": status, "merged_into": contact.merged_into_id, "created_at": contact.created_at,
        "updated_at": contact.updated_at or None, **fields, "custom_fields": custom, "labels": labels}
    data["labels"] += [{"contact_id": contact.id, "label": name} for name in labels]
    data["custom_fields"] += [{"contact_id": contact.id, "field": name, "value": _cell(value)}
                              for name, value in custom.items()]


def readable_history(history_of: HistoryOf, stored: list[EventEnvelope]) -> list[dict]:
    """The contact's history entries from its stored events; none once its key is shredded."""
    try:
        return history_of(stored)
    except ContactNotFound:  # erased meanwhile
        return []


def _history_rows(contact_id: str, entries: list[dict], names: AccountNames) -> list[dict]:
    """One row per field an event changed (one without a field for an event that changed none), oldest first;
    labels and custom fields by name."""
    rows = []
    for entry in reversed(entries):
        row = {"contact_id": contact_id, "revision": entry["revision"], "event_type": entry["event_type"],
               "occurred_at": entry["occurred_at"]}
        changes = entry["changes"] or {"": {"from": None, "to": None}}
        rows += [{**row, "field": name, "before": _cell(names.of_value(name, change["from"])),
                  "after": _cell(names.of_value(name, change["to"]))}
                 for name, change in changes.items()]
    return rows


def holdings_of(uow: UnitOfWork, account_id: str, contact_id: str):
    with uow:
        return uow.holdings.find_or_blank(account_id, holdings_id(contact_id))


def _notes(uow: UnitOfWork, account_id: str, contact_id: str, filed: list[str], projected: NotesOf,
           exported: set[str]) -> list[dict]:
    """The contact's live notes not `exported` yet (for another contact of the family): the read model's (one
    query) where it shows a note's newest version (one read of the heads), else the note from its events (edited
    since: its new text; moved or deleted since: left out); and those filed in its holdings it does not show yet."""
    shown = {doc["_id"]: doc for doc in projected(account_id, contact_id)}
    note_ids = [note_id for note_id in dict.fromkeys([*shown, *filed]) if note_id not in exported]
    rows = {}
    with uow:
        newest = uow.notes.versions(account_id, note_ids)
        current = {note_id for note_id in note_ids
                   if note_id in shown and note_id in newest and shown[note_id].get("version") == newest[note_id]}
        read = uow.notes.find_each(account_id, [note_id for note_id in note_ids
                                                if note_id in newest and note_id not in current])
        for note_id in note_ids:
            if note_id in current:
                doc = shown[note_id]
                rows[note_id] = _note_row(contact_id, note_id, doc["kind"], iso_date(doc["created_at"]), doc["text"])
                continue
            note = read.get(note_id)
            if note is not None and not note.deleted and note.contact_id == contact_id:
                rows[note_id] = _note_row(contact_id, note_id, note.kind, note.created_at, note.text)
    exported.update(rows)
    return sorted(rows.values(), key=lambda row: (row["created_at"], row["note_id"]))


def _note_row(contact_id: str, note_id: str, kind: str, created_at: str, text: str) -> dict:
    return {"contact_id": contact_id, "note_id": note_id, "kind": kind, "created_at": created_at, "text": text}


def _messages(uow: UnitOfWork, account_id: str, contact_id: str, messages_of: ItemsOf) -> list[dict]:
    """The messages sent to the contact (those the read model lists), each as its events have it now: what it said,
    where it went, its delivery status and dates; oldest first."""
    rows = []
    with uow:
        found = uow.messages.find_each(account_id, messages_of(account_id, contact_id))
        for message in found.values():
            if message.gone or message.contact_id != contact_id:
                continue
            state = message.state
            rows.append({"contact_id": contact_id, "message_id": message.id, "to": state.to,
                         "subject": state.subject_line, "body": state.body, "marketing": state.marketing,
                         "status": state.status, "reason": state.reason, "created_at": state.created_at,
                         "finished_at": state.finished_at, "attachments": _cell(
                             [a["file_name"] for a in state.attachments]) if state.attachments else None})
    return sorted(rows, key=lambda row: (row["created_at"], row["message_id"]))


def _add_files(records: SubjectRecords, uow: UnitOfWork, account_id: str, contact_id: str, filed: list[str],
               attachment_ids_of: ItemsOf) -> None:
    for attachment in live_attachments(uow, account_id, contact_id, filed, attachment_ids_of):
        file = attachment.file
        name = f"attachments/{attachment.id}-{_safe(file.file_name)}"
        records.files.append(HeldFile(contact_id, file.blob_id, name, file.content_type))
        records.data["files"].append({
            "contact_id": contact_id, "attachment_id": attachment.id, "kind": attachment.kind,
            "file_name": file.file_name, "content_type": file.content_type, "size": file.size,
            "sha256": file.sha256, "created_at": attachment.created_at, "exported_as": name})


def _cell(value) -> str | int | float | bool | None:
    """A value as one CSV cell: lists and mappings as JSON."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


def _safe(file_name: str) -> str:
    """A file name that stays in its folder of the export."""
    cleaned = "".join("_" if c in '/\\\0' else c for c in file_name).strip(". ")
    return cleaned or "file"
