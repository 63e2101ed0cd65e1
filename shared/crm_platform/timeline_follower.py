"""A service's timeline entries kept from its own events: the follower every service's timeline consumer runs.

The service says, without I/O, which entries an event makes and for which contacts (`EntriesOf`, its
`timeline_entries.py`) and which event classes make any; the follower decodes only those (the others are passed
over unread: no key read to open personal fields), writes the entries, and keeps erased contacts out of the
projection:
- an event whose personal fields can no longer be opened (SubjectErased) makes no entry: its key was shredded
  because the person it is about was erased, and their entries with them;
- a contact the service holds as erased (`erased`, its own record of it) gets no entry, so a late, re-delivered or
  replayed event does not bring back what the erasure forgot; asked again after the write, so an erasure between
  the check and the write is forgotten again (as billing's customers read model keeps an erased customer erased).

A merge (contacts' `ContactsMerged`: the sources are one person with the survivor now) moves the sources' entries
to the survivor (`move_contact`, from the service's merge handling). An event that still names a merged-away contact
when it comes later (a late delivery, a replay) is recorded under the contact it was merged into, when the service
keeps its merges (`survivor`: its own record of them, followed through later merges); without one, such an entry
stays under the old id, which no timeline reads.

Idempotent as the projection is: an entry is upserted by its id, a pure function of its event.

The check, the write and the check again are `record_unless_erased` (an event's entries) and
`record_batch_unless_erased` (a polled batch's, in one insert), a merge's move `move_unless_erased`: a read model
that decodes its events itself (contacts' timeline) keeps erased contacts out with them too. It may name contacts
it knows were not erased a moment before the write (their event's personal fields just opened under their key):
they are asked after the write only, which is the check that matters (an erasure forgets the timeline after it
shreds the key).
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable, Protocol

from crm_platform.aggregates import DomainEvent
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import SubjectErased
from crm_platform.timeline import TimelineEntry, TimelineProjection

# (event, its event id, when it occurred) -> [(contact id, entry)]: the entries it makes, each for one contact
EntriesOf = Callable[[DomainEvent, str, datetime], list[tuple[str, TimelineEntry]]]
# (account id, contact ids) -> those of them the service holds as erased
ErasedContacts = Callable[[str, list[str]], set[str]]
# (account id, contact id) -> the contact it is now: the one it was merged into (through later merges), or itself
SurvivorOf = Callable[[str, str], str]


def unmerged(account_id: str, contact_id: str) -> str:
    """The SurvivorOf of a service that keeps no merges: every contact is its own."""
    return contact_id


class MergingTimelines(Protocol):
    """The timeline follower (TimelineFollower), as a service's merge handling needs it."""

    def move_contact(self, account_id: str, from_contact_id: str, to_contact_id: str) -> int:
        """The merged contact's entries now the survivor's (none for an erased survivor); how many moved."""


class TimelineFollower:
    """An EventConsumer handler (and a rebuild's): one of the service's own events to its timeline entries."""

    def __init__(self, projection: TimelineProjection, codec: EventCodec, entries_of: EntriesOf,
                 erased: ErasedContacts, event_classes: Iterable[type[DomainEvent]],
                 survivor: SurvivorOf | None = None) -> None:
        self._projection = projection
        self._codec = codec
        self._entries_of = entries_of
        self._erased = erased
        self._survivor = survivor or unmerged
        self._wanted = {cls.event_type() for cls in event_classes if codec.knows(cls.event_type())}

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        """Record the entries the event makes; True if it made any (a rebuild writes them the same way)."""
        if envelope.event_type not in self._wanted:
            return False
        try:
            event = self._codec.from_envelope(envelope)
        except SubjectErased:
            return False
        account_id = envelope.account_id
        made = self._entries_of(event, envelope.event_id, envelope.occurred_at)
        survivors = {contact_id: self._survivor(account_id, contact_id) for contact_id in _unique(c for c, _ in made)}
        entries = [(survivors[contact_id], entry) for contact_id, entry in made]
        return record_unless_erased(self._projection, self._erased, account_id, entries, survivor=self._survivor)

    def move_contact(self, account_id: str, from_contact_id: str, to_contact_id: str) -> int:
        """The entries of a contact merged into another now the survivor's; how many moved. The survivor is followed
        through its own later merges. A survivor the service holds as erased gets none: the merged contact was the
        same person, so its entries are forgotten, as they would have been had the merge come before the erasure
        (and asked again after the move, as `apply` does). Idempotent: nothing is left to move or forget."""
        return move_unless_erased(self._projection, self._erased, account_id, from_contact_id,
                                  self._survivor(account_id, to_contact_id))


def move_unless_erased(projection: TimelineProjection, erased: ErasedContacts, account_id: str,
                       from_contact_id: str, survivor_id: str) -> int:
    """Move the entries of a contact merged into `survivor_id` (the survivor through later merges) to it; how many
    moved. A survivor held as erased gets none: the merged contact's entries are forgotten instead, and asked again
    after the move (an erasure meanwhile forgets the survivor again). Idempotent: nothing is left to move."""
    if erased(account_id, [survivor_id]):
        projection.forget_contact(account_id, from_contact_id)
        return 0
    moved = projection.move_contact(account_id, from_contact_id, survivor_id)
    if erased(account_id, [survivor_id]):  # erased meanwhile: forgotten again
        projection.forget_contact(account_id, survivor_id)
    return moved


def record_unless_erased(projection: TimelineProjection, erased: ErasedContacts, account_id: str,
                         entries: list[tuple[str, TimelineEntry]], unerased: Iterable[str] = (),
                         survivor: SurvivorOf | None = None) -> bool:
    """Record the (contact id, entry) of the account's contacts that are not erased, and forget again a contact
    erased while its entry was written; True if any entry was kept. Contacts `unerased` (known not erased
    before this call) are asked after the write only. With `survivor`, a contact merged away while its entry was
    written (its survivor read before the merge moved its entries) gives them to its survivor after the write."""
    contact_ids = _unique(contact_id for contact_id, _ in entries)
    if not contact_ids:
        return False
    known = set(unerased)
    unknown = [contact_id for contact_id in contact_ids if contact_id not in known]
    gone = erased(account_id, unknown) if unknown else set()
    kept = [(contact_id, entry) for contact_id, entry in entries if contact_id not in gone]
    for contact_id, entry in kept:
        projection.record(account_id, contact_id, entry)
    written = [(account_id, contact_id, entry) for contact_id, entry in kept]
    _forget_erased_meanwhile(projection, erased, written)
    if survivor is not None:
        _follow_merges_meanwhile(projection, erased, survivor, written)
    return bool(kept)


def record_batch_unless_erased(projection: TimelineProjection, erased: ErasedContacts,
                               rows: list[tuple[str, str, TimelineEntry]],
                               unerased: Iterable[tuple[str, str]] = (), survivor: SurvivorOf | None = None,
                               merged_meanwhile: Iterable[tuple[str, str]] = ()) -> set[str]:
    """Record the (account id, contact id, entry) of a polled batch in one insert, but those of erased contacts,
    and forget again a contact erased while it was written; the ids of the entries the server refused (record
    those one by one). An entry left out for its erased contact is not refused: it is done with. The (account
    id, contact id) `unerased` (known not erased before this call) are asked after the write only. With
    `survivor`, the (account id, contact id) `merged_meanwhile` (those whose survivor was read for the batch) are
    asked again after the write, as record_unless_erased asks."""
    known = set(unerased)
    unknown = [row for row in rows if (row[0], row[1]) not in known]
    gone = {(account_id, contact_id) for account_id, contact_ids in _contacts_by_account(unknown).items()
            for contact_id in erased(account_id, contact_ids)}
    kept = [row for row in rows if (row[0], row[1]) not in gone]
    refused = projection.record_batch(kept) if kept else set()
    written = [row for row in kept if row[2].id not in refused]
    _forget_erased_meanwhile(projection, erased, written)
    if survivor is not None:
        asked = set(merged_meanwhile)
        _follow_merges_meanwhile(projection, erased, survivor, [row for row in written if (row[0], row[1]) in asked])
    return refused


def _forget_erased_meanwhile(projection: TimelineProjection, erased: ErasedContacts,
                             written: list[tuple[str, str, TimelineEntry]]) -> None:
    """Asked again after the write: an erasure between the check and the write forgets the contact again."""
    for account_id, contact_ids in _contacts_by_account(written).items():
        for contact_id in erased(account_id, contact_ids):
            projection.forget_contact(account_id, contact_id)


def _follow_merges_meanwhile(projection: TimelineProjection, erased: ErasedContacts, survivor: SurvivorOf,
                             written: list[tuple[str, str, TimelineEntry]]) -> None:
    """Asked again after the write: a contact merged away between the survivor's read and the write has had its
    entries moved already, but not the one just written; they go to its survivor now (none to an erased one)."""
    for account_id, contact_ids in _contacts_by_account(written).items():
        for contact_id in contact_ids:
            now = survivor(account_id, contact_id)
            if now != contact_id:
                move_unless_erased(projection, erased, account_id, contact_id, now)


def _contacts_by_account(rows: list[tuple[str, str, TimelineEntry]]) -> dict[str, list[str]]:
    by_account: dict[str, list[str]] = {}
    for account_id, contact_id, _ in rows:
        by_account.setdefault(account_id, []).append(contact_id)
    return {account_id: _unique(contact_ids) for account_id, contact_ids in by_account.items()}


def _unique(contact_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(contact_ids))
