"""Erasing a person (the right to erasure): their contact, and every contact merged with it, forgotten for good.

A merge said that its contacts are one person, so erasing any of them erases
the family: the contact it was merged into (if it was), and every contact
merged into that one, recursively. For each contact of the family:

1. `ContactErased` is recorded: the contact is gone, and every read model
   drops what it kept of it, its notes and its files when it applies that
   event (at once, not when some later event of the contact would come);
2. every identity claim it holds (stale ones too) is deleted;
3. its key is shredded and the subject marked erased: nothing sealed for it
   (events, notes, files) opens again, and nothing new is ever sealed for it;
4. its files' blobs are deleted (unreadable already: this frees the space);
5. its timeline entries are forgotten (they are kept in clear: the read model forgets them again when it applies
   ContactErased, this does it at once).

Each step is safe to repeat, so running the command again finishes an
erasure that stopped midway. The merge links are read from the events' clear
fields (`merged_into`, `source_ids`), which stay readable after shredding.

What a run erased is told per contact (`ErasedContact`): which request recorded
its erasure (the causation id of its ContactErased event), whether this run
destroyed its key, and the files and notes that this run made unreadable, so
that a second request for a person erased long ago does not claim their keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from crm_platform import request_context
from crm_platform.envelope import EventEnvelope
from crm_platform.event_store import ConcurrencyConflict

from contacts.domain import commands
from contacts.domain.attachments import Attachment, picture_id
from contacts.domain.errors import ContactNotFound
from contacts.domain.events import ContactDeleted, ContactErased, ContactsMerged, data_subject
from contacts.domain.holdings import holdings_id
from contacts.domain.model import Contact
from contacts.service_layer.unit_of_work import UnitOfWork

ItemsOf = Callable[[str, str], list[str]]  # (account id, contact id) -> ids of its live items (read model)
NotesOf = Callable[[str, str], list[dict]]  # (account id, contact id) -> views.notes_of_contact's documents
ForgetTimeline = Callable[[str, str], int]  # (account id, contact id) -> its timeline entries deleted


@dataclass(frozen=True)
class ErasedContact:
    """One contact of the family, as this run left it."""

    contact_id: str
    erased_by: str | None  # causation id of its ContactErased event (None: no erasure recorded, not the account's)
    key_destroyed: bool  # this run shredded its key (False: shredded earlier)
    files: int = 0  # live files and picture this run made unreadable
    notes: int = 0  # live notes this run made unreadable


@dataclass(frozen=True)
class Erasure:
    contacts: list[ErasedContact]

    @property
    def contact_ids(self) -> list[str]:
        """The whole family (erased now or before)."""
        return [erased.contact_id for erased in self.contacts]


def erase_contact(cmd: commands.EraseContact, uow: UnitOfWork, attachment_ids_of: ItemsOf,
                  notes_shown: NotesOf, forget_timeline: ForgetTimeline | None = None) -> Erasure:
    """Erase the contact and its merge family; what was erased. ContactNotFound if it is not the account's."""
    erased = []
    for contact_id in merge_family(uow, cmd.account_id, cmd.contact_id):
        with uow:  # read once for its files and notes: a holdings of 380 notes is 380 commits
            held = uow.holdings.find_or_blank(cmd.account_id, holdings_id(contact_id))
        attachments = live_attachments(uow, cmd.account_id, contact_id, held.attachment_ids, attachment_ids_of)
        notes = _live_notes(uow, cmd.account_id, contact_id, held.note_ids, notes_shown)  # readable till shred
        erased_by = _record_erasure(uow, cmd.account_id, contact_id)
        uow.claims.release_all(contact_id)
        destroyed = uow.cipher.shred(data_subject(contact_id))
        if uow.files is not None:
            uow.files.discard([blob_id for attachment in attachments for blob_id in attachment.file.blob_ids])
        if forget_timeline is not None:
            forget_timeline(cmd.account_id, contact_id)
        erased.append(ErasedContact(contact_id, erased_by, destroyed, len(attachments) if destroyed else 0,
                                    notes if destroyed else 0))
    return Erasure(erased)


def live_attachments(uow: UnitOfWork, account_id: str, contact_id: str, filed: list[str],
                     attachment_ids_of: ItemsOf) -> list[Attachment]:
    """The contact's live files and picture: those `filed` in its holdings (the caller read them: not projected
    yet too), those the read model lists (items added before holdings were kept are only there). Their histories
    read at once (the repository's find_each), not one load after the other."""
    with uow:
        listed = attachment_ids_of(account_id, contact_id)
        found = uow.attachments.find_each(account_id, [*filed, *listed, picture_id(contact_id)])
    return [attachment for attachment in found.values() if attachment.live and attachment.contact_id == contact_id]


def _live_notes(uow: UnitOfWork, account_id: str, contact_id: str, held: list[str], notes_shown: NotesOf) -> int:
    """How many live notes the contact has (holdings and read model), for the count of what is erased: those the
    read model shows at their newest version counted from it (one query, one read of the heads), only the others
    read from their events (filed and not projected yet, or changed since). Not one read per note: a person with
    380 notes cost 380 note loads and as many key reads for a count (issue 13)."""
    with uow:
        shown = {doc["_id"]: doc.get("version") for doc in notes_shown(account_id, contact_id)}
        note_ids = list(dict.fromkeys([*held, *shown]))
        newest = uow.notes.versions(account_id, note_ids) if note_ids else {}
        stale = [note_id for note_id in note_ids if note_id in newest and shown.get(note_id) != newest[note_id]]
        notes = uow.notes.find_each(account_id, stale).values()
    live = sum(1 for note in notes if not note.deleted and note.contact_id == contact_id)
    return live + sum(1 for note_id in note_ids if note_id in newest and shown.get(note_id) == newest[note_id])


def merge_family(uow: UnitOfWork, account_id: str, contact_id: str) -> list[str]:
    """The contact that absorbed this one (or itself), then every contact merged into it, recursively (each
    history read once)."""
    histories: dict[str, list[EventEnvelope]] = {}

    def history_of(member: str) -> list[EventEnvelope]:
        if member not in histories:
            histories[member] = _history(uow, account_id, member)
        return histories[member]

    history = history_of(contact_id)
    if not history:
        raise ContactNotFound(contact_id)
    survivor, seen = contact_id, {contact_id}
    while (into := _merged_into(history)) and into not in seen:
        seen.add(into)
        history = history_of(into)
        if not history:
            break
        survivor = into
    family: list[str] = []
    waiting = [survivor]
    while waiting:
        current = waiting.pop(0)
        if current in family:
            continue
        family.append(current)
        waiting += [source for envelope in history_of(current)
                    if envelope.event_type == ContactsMerged.event_type()
                    for source in envelope.payload.get("source_ids", [])]
    return family


def _record_erasure(uow: UnitOfWork, account_id: str, contact_id: str, attempts: int = 3) -> str | None:
    """Record ContactErased unless it is already; the causation id it carries (None: not the account's)."""
    for attempt in range(attempts):
        history = _history(uow, account_id, contact_id)
        if not history:
            return None  # not a contact of this account (a merge link gone astray)
        recorded = [envelope for envelope in history if envelope.event_type == ContactErased.event_type()]
        if recorded:
            return recorded[0].causation_id  # erased already (by an earlier request, or this one before a crash)
        try:
            with uow:
                contact = Contact.to_erase(contact_id, account_id, history[-1].aggregate_version)
                contact.erase()
                uow.contacts.add(contact)
                uow.commit()
            trace = request_context.current()
            return trace.causation_id or trace.request_id  # as crm_platform.envelope.new_envelope stamps it
        except ConcurrencyConflict:  # written meanwhile: record it after that write
            if attempt == attempts - 1:
                raise


def _history(uow: UnitOfWork, account_id: str, contact_id: str) -> list[EventEnvelope]:
    with uow:  # the envelopes: merge links stay readable after shredding
        return uow.contacts.history(account_id, contact_id)


def _merged_into(history: list[EventEnvelope]) -> str | None:
    deleted = [e for e in history if e.event_type == ContactDeleted.event_type() and e.payload.get("merged_into")]
    return deleted[-1].payload["merged_into"] if deleted else None
