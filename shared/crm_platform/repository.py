"""One event-sourced repository for every aggregate type: load from events, save what was recorded."""
from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Generic, TypeVar

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.event_store import EventStore, recorded_by
from crm_platform.personal_data import SubjectErased

A = TypeVar("A", bound=Aggregate)


class Repository(Generic[A]):
    """Aggregates of one type, scoped to an account; `seen` holds those the unit of work will save."""

    def __init__(self, store: EventStore, codec: EventCodec, aggregate_class: type[A]) -> None:
        self._store = store
        self._codec = codec
        self._class = aggregate_class
        self.seen: dict[str, A] = {}

    def add(self, aggregate: A) -> None:
        """Track a new aggregate, so that the commit saves its events."""
        self.seen[aggregate.id] = aggregate

    def find(self, account_id: str, aggregate_id: str) -> A | None:
        """The aggregate rebuilt from its events; None if it has none, is another account's, or was erased."""
        return self.rebuilt(account_id, aggregate_id, self.history(account_id, aggregate_id))

    def find_each(self, account_id: str, aggregate_ids: list[str]) -> dict[str, A]:
        """Those of these aggregates that `find` gives, by id, their histories read at once (`histories`: an indexed
        equality each, overlapping, not a round trip after the other); the missing, other accounts' and erased left
        out."""
        aggregate_ids = list(dict.fromkeys(aggregate_ids))
        histories = self.histories(account_id, aggregate_ids)
        found = {}
        for aggregate_id in aggregate_ids:
            aggregate = self.rebuilt(account_id, aggregate_id, histories.get(aggregate_id, []))
            if aggregate is not None:
                found[aggregate_id] = aggregate
        return found

    def rebuilt(self, account_id: str, aggregate_id: str, history: list[EventEnvelope]) -> A | None:
        """The aggregate rebuilt from the stored events `history` gave (for a caller that reads them too); None if
        there are none or its key was shredded."""
        aggregate = self._replayed(account_id, aggregate_id, history)
        if aggregate is not None:
            self.seen[aggregate.id] = aggregate
        return aggregate

    def as_of(self, account_id: str, aggregate_id: str, moment: datetime,
              history: list[EventEnvelope] | None = None) -> A | None:
        """The aggregate as its events recorded at or before `moment` left it (time travel; never tracked for
        saving: a past state is only read); None if it had no event by then, is another account's or of another
        type, or its key was shredded. `history`: its stored events, for a caller that has read them already."""
        history = self.history(account_id, aggregate_id) if history is None else history
        return self._replayed(account_id, aggregate_id, recorded_by(history, moment))

    def _replayed(self, account_id: str, aggregate_id: str, history: list[EventEnvelope]) -> A | None:
        if not history:
            return None
        replayed = history[-1:] if self._class.latest_event_is_state else history
        try:
            events = [self._codec.from_envelope(envelope) for envelope in replayed]
        except SubjectErased:
            return None
        aggregate = self._class.from_history(aggregate_id, account_id, events)
        aggregate.revision = history[-1].aggregate_version
        return aggregate

    def get(self, account_id: str, aggregate_id: str) -> A:
        """The live aggregate; the aggregate class's not-found error if it is missing, gone or another account's."""
        aggregate = self.find(account_id, aggregate_id)
        if aggregate is None or aggregate.gone:
            raise self._class.not_found(aggregate_id)
        return aggregate

    def find_or_blank(self, account_id: str, aggregate_id: str) -> A:
        """The aggregate, or a blank one when it has no event yet (per-account settings and lists)."""
        aggregate = self.find(account_id, aggregate_id) or self._class.blank(aggregate_id, account_id)
        self.seen[aggregate.id] = aggregate
        return aggregate

    def latest_event(self, account_id: str, aggregate_id: str) -> tuple[DomainEvent, int] | None:
        """The newest event and its version (for aggregates whose every event holds their whole state)."""
        history = self.history(account_id, aggregate_id)
        if not history:
            return None
        try:
            return self._codec.from_envelope(history[-1]), history[-1].aggregate_version
        except SubjectErased:
            return None

    def has_events(self, aggregate_id: str) -> bool:
        """Whether any event is stored under this id, of any type or account: one primary-key read, a quick no before
        a `find` of an id that is usually new (an equality on aggregate_id costs an index scan on FerretDB)."""
        return self._store.written_after(aggregate_id, 0)

    def written_since_read(self, aggregate: A) -> bool:
        """Whether another write added events to the aggregate since it was read or last committed here (one read of
        the store, not its history): what a command that keeps an aggregate across units of work checks before
        acting on it."""
        return self._store.written_after(aggregate.id, aggregate.revision - len(aggregate.pending))

    def versions(self, account_id: str, aggregate_ids: list[str]) -> dict[str, int]:
        """The newest version of each of these aggregates of this type and account (one read of the heads)."""
        return {aggregate_id: head.version for aggregate_id, head in self._store.heads(aggregate_ids).items()
                if head.account_id == account_id and head.aggregate_type == self._class.aggregate_type}

    def ids_in_account(self, account_id: str) -> list[str]:
        """Every aggregate of this type the account ever had, deleted ones too (one indexed read of the versions:
        for per-account settings such as labels, which are few)."""
        return list(self._store.heads_of_type(account_id, self._class.aggregate_type))

    def ever_existed(self, aggregate_id: str) -> bool:
        """Whether an aggregate of this type has any stored event under this id (it may since be deleted or erased)."""
        head = self._store.head(aggregate_id)  # one indexed read, not the history
        return head is not None and head.aggregate_type == self._class.aggregate_type

    def save_pending(self) -> None:
        """Append each tracked aggregate's new events as one atomic commit, numbered after its stored ones (the
        subject keys of a commit of several events read or created in one query, not one or two per event)."""
        for aggregate in self.seen.values():
            if aggregate.pending:
                first = aggregate.revision - len(aggregate.pending) + 1
                with self._codec.sealing(aggregate.pending) if len(aggregate.pending) > 1 else contextlib.nullcontext():
                    envelopes = self._envelopes(aggregate, first)
                self._store.append(envelopes)
                aggregate.pending.clear()

    def save_pending_in_bulk(self) -> list[str]:
        """Append every tracked aggregate's new events with one bulk append (their subject keys read in one go); the
        ids of those refused because another write took their revision meanwhile (ConcurrencyConflict), whose
        events are forgotten: the caller reads them again. The others are saved, each an atomic commit of its own."""
        changed = [aggregate for aggregate in self.seen.values() if aggregate.pending]
        if not changed:
            return []
        with self._codec.sealing(event for aggregate in changed for event in aggregate.pending):
            commits = [self._envelopes(aggregate, aggregate.revision - len(aggregate.pending) + 1)
                       for aggregate in changed]
        refused = self._store.append_many(commits)
        for aggregate in changed:
            aggregate.pending.clear()
        return [changed[index].id for index in refused]

    def add_new_in_bulk(self, aggregates: list[A]) -> list[int]:
        """Store NEW aggregates with one bulk append (not part of a commit); the indexes refused as taken ids.

        Every aggregate's pending events are forgotten, stored or not.
        """
        with self._codec.sealing(event for aggregate in aggregates for event in aggregate.pending):
            commits = [self._envelopes(aggregate, 1) for aggregate in aggregates]
        refused = self._store.append_many(commits)
        for aggregate in aggregates:
            aggregate.pending.clear()
        return refused

    def discard(self) -> None:
        """Forget what was tracked, with any events not saved."""
        self.seen.clear()

    def history(self, account_id: str, aggregate_id: str) -> list[EventEnvelope]:
        """The aggregate's stored events, still sealed (readable once its key is shredded), if it is of this repository's type and account (a note's id given as a contact's
        is no contact: one event store holds every type, and the codec could decode the note's events)."""
        history = self._store.load(aggregate_id)
        if not history or history[0].account_id != account_id or history[0].aggregate_type != self._class.aggregate_type:
            return []
        return history

    def histories(self, account_id: str, aggregate_ids: list[str]) -> dict[str, list[EventEnvelope]]:
        """The stored events of each of these aggregates that is of this type and account (a bulk `history`)."""
        return {aggregate_id: history for aggregate_id, history in self._store.load_each(aggregate_ids).items()
                if history[0].account_id == account_id and history[0].aggregate_type == self._class.aggregate_type}

    def _envelopes(self, aggregate: A, first_version: int) -> list[EventEnvelope]:
        return [self._codec.to_envelope(event, self._class.aggregate_type, aggregate.id, first_version + i,
                                        aggregate.account_id)
                for i, event in enumerate(aggregate.pending)]
