"""A contact, its notes and the account's labels as they were at a moment (`?as_of=`), replayed from the event
store (issue 14, time travel): the events recorded at or before that moment go through the aggregates' own
`apply`, as a load does.

An erased person stays unreadable at every date: a contact whose history holds `ContactErased` is not found, even
as it was before (its events, sealed under a shredded key, could not be opened anyway; the check also covers the
moment between the erasure being recorded and the key being shredded). A deleted contact reads as it was before
its deletion, a merged-away one as it was before the merge. A moment in the future gives the contact as it is now.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from crm_platform.event_store import recorded_by

from contacts.domain.errors import ContactNotFound
from contacts.domain.events import ContactErased, data_subject
from contacts.domain.holdings import holdings_id
from contacts.domain.labels import Label, label_order_id
from contacts.domain.model import Contact
from contacts.domain.notes import Note
from contacts.service_layer.unit_of_work import UnitOfWork

NoteIdsOf = Callable[[str, str], list[str]]  # (account id, contact id) -> the read model's notes of the contact


@dataclass(frozen=True)
class PastNote:
    note: Note
    updated_at: datetime  # when its latest event up to the moment was recorded


def contact_as_of(uow: UnitOfWork, account_id: str, contact_id: str, moment: datetime) -> Contact:
    """The contact as it was at `moment` (its `updated_at` that of its latest event by then); ContactNotFound if it
    did not exist yet, was deleted or merged away by then, is another account's, or its person was ever erased."""
    with uow, uow.cipher.keys_ready([data_subject(contact_id)]):  # one key read, not one per event opened
        history = uow.contacts.history(account_id, contact_id)
        if any(envelope.event_type == ContactErased.event_type() for envelope in history):
            raise ContactNotFound(contact_id)
        past = recorded_by(history, moment)
        contact = uow.contacts.as_of(account_id, contact_id, moment, past)
    if contact is None:
        raise ContactNotFound(contact_id)
    if contact.deleted:
        raise ContactNotFound(contact_id, merged_into=contact.merged_into_id)
    contact.updated_at = past[-1].occurred_at.isoformat(timespec="milliseconds")
    return contact


def notes_as_of(uow: UnitOfWork, account_id: str, contact_id: str, moment: datetime,
                note_ids_of: NoteIdsOf) -> list[PastNote]:
    """The notes the contact had at `moment` (added by then, not deleted by then, on this contact then), with the
    text they had, newest first; ContactNotFound as contact_as_of says.

    The notes to look at are those its holdings ever listed (a note moved away on a merge stays listed) and those
    the read model shows (notes added before contacts had holdings); each is replayed from its own events, all
    read in one bulk load and opened with one key read (the events a note had on a contact merged into this one
    are sealed under that contact's key: one key read each)."""
    contact_as_of(uow, account_id, contact_id, moment)
    with uow:
        held = uow.holdings.find_or_blank(account_id, holdings_id(contact_id)).note_ids
        histories = uow.notes.histories(account_id, [*held, *note_ids_of(account_id, contact_id)])
        found = []
        with uow.cipher.keys_ready([data_subject(contact_id)]):
            for note_id, history in histories.items():
                past = recorded_by(history, moment)
                note = uow.notes.as_of(account_id, note_id, moment, past)
                if note is not None and not note.deleted and note.contact_id == contact_id:
                    found.append(PastNote(note, past[-1].occurred_at))
    return sorted(found, key=lambda past: (past.note.created_at, past.note.id), reverse=True)


def labels_as_of(uow: UnitOfWork, account_id: str, moment: datetime) -> list[Label]:
    """The account's labels that were live at `moment`, with the names they had, in the order the account had
    chosen by then (those it had not placed follow by name, as views.list_labels lists them now)."""
    with uow:  # the labels' events in one bulk load (overlapping round trips past a few), not a load each
        histories = uow.labels.histories(account_id, uow.labels.ids_in_account(account_id))
        labels = [uow.labels.as_of(account_id, aggregate_id, moment, history)
                  for aggregate_id, history in histories.items()]
        order = uow.label_order.as_of(account_id, label_order_id(account_id), moment)
    live = sorted((label for label in labels if label is not None and not label.deleted),
                  key=lambda label: label.name.casefold())
    rank = {key: i for i, key in enumerate(order.keys if order is not None else [])}
    return sorted(live, key=lambda label: rank.get(label.key, len(rank)))  # stable: by name within the rest
