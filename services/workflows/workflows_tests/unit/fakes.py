"""Fakes of the workflows ports for unit tests: always up to date with the in-memory event store."""
from __future__ import annotations

from crm_platform.event_codec import EventCodec
from crm_platform.testing.in_memory_event_store import InMemoryEventStore

from workflows.adapters.cards_projection import card_state
from workflows.adapters.task_reminders_projection import reminder_doc_id
from workflows.adapters.tasks_projection import task_state
from workflows.domain.cards import OPEN, Card
from workflows.domain.tasks import Task
from workflows.service_layer.ports import (CardsIndex, ContactsDirectory, DueReminder, DueReminders,
                                           ReminderMailer, TasksIndex)


class InMemoryCardsIndex(CardsIndex):
    def __init__(self, store: InMemoryEventStore, codec: EventCodec) -> None:
        self._store, self._codec = store, codec

    def _cards(self) -> list:
        latest = {}
        for envelope in self._store.all_events:
            if envelope.aggregate_type == Card.aggregate_type:
                latest[envelope.aggregate_id] = envelope
        return [card_state(self._codec, envelope) for envelope in latest.values()]  # as the read model does

    def _stage(self, account_id: str, stage_id: str, excluding: str | None = None) -> list:
        return sorted(((c.position, c.card_id) for c in self._cards() if c.account_id == account_id
                       and c.stage_id == stage_id and c.status == OPEN and c.card_id != excluding))

    def ordered_ids(self, account_id, stage_id):
        return [card_id for _, card_id in self._stage(account_id, stage_id)]

    def last_position(self, account_id, stage_id, excluding=None):
        stage = self._stage(account_id, stage_id, excluding)
        return stage[-1][0] if stage else None

    def position_after(self, account_id, stage_id, position, card_id, excluding):
        return next((p for p, c in self._stage(account_id, stage_id, excluding) if (p, c) > (position, card_id)), None)

    def position_before(self, account_id, stage_id, position, card_id, excluding):
        return next((p for p, c in reversed(self._stage(account_id, stage_id, excluding))
                     if (p, c) < (position, card_id)), None)

    def of_contact(self, account_id, contact_id):
        return [c.card_id for c in self._cards() if c.account_id == account_id
                and contact_id in (c.contact_id, *c.other_contact_ids)]


class InMemoryContactsDirectory(ContactsDirectory):
    def __init__(self) -> None:
        self.existing: set[tuple[str, str]] = set()
        self.gone: set[tuple[str, str]] = set()
        self.merged_into: dict[tuple[str, str], str] = {}

    def unknown(self, account_id, contact_ids):
        return {c for c in contact_ids if (account_id, c) not in self.existing or (account_id, c) in self.gone}

    def record_existing(self, account_id, contact_id):
        self.existing.add((account_id, contact_id))

    def record_gone(self, account_id, contact_id):
        self.gone.add((account_id, contact_id))

    def record_merged(self, account_id, source_id, survivor_id):
        self.record_gone(account_id, source_id)
        self.merged_into[(account_id, source_id)] = survivor_id

    def survivor(self, account_id, contact_id):
        while (account_id, contact_id) in self.merged_into:
            contact_id = self.merged_into[(account_id, contact_id)]
        return contact_id

    def merge_family(self, account_id, contact_ids):
        heard = {c for a, c in self.existing | self.gone if a == account_id}
        links = [(source, into) for (a, source), into in self.merged_into.items() if a == account_id]
        family, waiting = [], list(dict.fromkeys(contact_ids))
        while waiting:
            current = waiting.pop(0)
            if current in family or (current not in heard and all(into != current for _, into in links)):
                continue
            family.append(current)
            waiting += [into for source, into in links if source == current]
            waiting += [source for source, into in links if into == current]
        return family


class InMemoryDueReminders(DueReminders):
    """The reminders read model as the projection keeps it, from the tasks' latest events."""

    def __init__(self, store: InMemoryEventStore, codec: EventCodec) -> None:
        self._store, self._codec = store, codec
        self.handled: set[str] = set()
        self.put_off_until: dict[str, tuple[str, int]] = {}  # id: (retry_at, failures)

    def due(self, now, limit):
        latest = {}
        for envelope in self._store.all_events:
            if envelope.aggregate_type == Task.aggregate_type:
                latest[envelope.aggregate_id] = envelope
        found = []
        for envelope in latest.values():
            state = task_state(self._codec, envelope)
            task = Task.from_history(state.task_id, state.account_id, [state])
            scheduled = [(r["before"], r["at"]) for r in task.pending_reminders()]
            scheduled += [tuple(key.split("@", 1)) for key in state.fired]
            for before, at in scheduled:
                doc_id = reminder_doc_id(state.task_id, before, at)
                retry_at, failures = self.put_off_until.get(doc_id, (at, 0))
                if at <= now and retry_at <= now and doc_id not in self.handled:
                    found.append(DueReminder(doc_id, state.account_id, state.task_id, before, at, failures))
        return sorted(found, key=lambda r: (r.remind_at, r.id))[:limit]

    def mark_handled(self, reminder_id):
        self.handled.add(reminder_id)

    def put_off(self, reminder_id, until):
        self.put_off_until[reminder_id] = (until, self.put_off_until.get(reminder_id, ("", 0))[1] + 1)


class FakeMailer(ReminderMailer):
    def __init__(self) -> None:
        self.queued: dict[str, dict] = {}

    def queue(self, mail_id, account_id, subject_key, to, subject, text, reference, about_contact_id=None):
        if mail_id in self.queued:
            return False
        self.queued[mail_id] = {"account_id": account_id, "subject_key": subject_key, "to": to, "subject": subject,
                                "text": text, "reference": reference, "about_contact_id": about_contact_id}
        return True


class HeldLease:
    def __init__(self, held: bool = True) -> None:
        self.held = held

    def acquire_or_renew(self) -> bool:
        return self.held


class InMemoryTasksIndex(TasksIndex):
    def __init__(self, store: InMemoryEventStore, codec: EventCodec) -> None:
        self._store, self._codec = store, codec

    def of_contact(self, account_id, contact_id):
        latest = {}
        for envelope in self._store.all_events:
            if envelope.aggregate_type == Task.aggregate_type:
                latest[envelope.aggregate_id] = envelope
        states = [task_state(self._codec, envelope) for envelope in latest.values()]
        return [s.task_id for s in states if s.account_id == account_id and s.contact_id == contact_id]


class ForgottenTimelines:
    """ContactTimelines and MergingTimelines: which contacts' timeline entries were forgotten or moved (the entries
    themselves: integration tests)."""

    def __init__(self) -> None:
        self.forgotten: list[tuple[str, str]] = []
        self.moved: list[tuple[str, str, str]] = []

    def move_contact(self, account_id, from_contact_id, to_contact_id):
        self.moved.append((account_id, from_contact_id, to_contact_id))
        return 0

    def forget_contact(self, account_id, contact_id):
        self.forgotten.append((account_id, contact_id))
        return 0
