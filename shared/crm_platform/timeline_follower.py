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

Idempotent as the projection is: an entry is upserted by its id, a pure function of its event.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable

from crm_platform.aggregates import DomainEvent
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import SubjectErased
from crm_platform.timeline import TimelineEntry, TimelineProjection

# (event, its event id, when it occurred) -> [(contact id, entry)]: the entries it makes, each for one contact
EntriesOf = Callable[[DomainEvent, str, datetime], list[tuple[str, TimelineEntry]]]
# (account id, contact ids) -> those of them the service holds as erased
ErasedContacts = Callable[[str, list[str]], set[str]]


class TimelineFollower:
    """An EventConsumer handler (and a rebuild's): one of the service's own events to its timeline entries."""

    def __init__(self, projection: TimelineProjection, codec: EventCodec, entries_of: EntriesOf,
                 erased: ErasedContacts, event_classes: Iterable[type[DomainEvent]]) -> None:
        self._projection = projection
        self._codec = codec
        self._entries_of = entries_of
        self._erased = erased
        self._wanted = {cls.event_type() for cls in event_classes if codec.knows(cls.event_type())}

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        """Record the entries the event makes; True if it made any (a rebuild writes them the same way)."""
        if envelope.event_type not in self._wanted:
            return False
        try:
            event = self._codec.from_envelope(envelope)
        except SubjectErased:
            return False
        entries = self._entries_of(event, envelope.event_id, envelope.occurred_at)
        contact_ids = list(dict.fromkeys(contact_id for contact_id, _ in entries))
        if not contact_ids:
            return False
        account_id = envelope.account_id
        erased = self._erased(account_id, contact_ids)
        kept = [(contact_id, entry) for contact_id, entry in entries if contact_id not in erased]
        for contact_id, entry in kept:
            self._projection.record(account_id, contact_id, entry)
        written = list(dict.fromkeys(contact_id for contact_id, _ in kept))
        for contact_id in self._erased(account_id, written) if written else ():
            self._projection.forget_contact(account_id, contact_id)  # erased meanwhile: forgotten again
        return bool(kept)
