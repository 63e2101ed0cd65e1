"""The unit of work over a service's repositories: one command's boundary.

A service subclasses it and lists its aggregate types once, by attribute name:

    class ContactsUnitOfWork(UnitOfWork):
        aggregates = {"contacts": Contact, "labels": Label}
        contacts: Repository[Contact]
        labels: Repository[Label]

Entering gives fresh repositories; `commit()` saves what they recorded (one
atomic commit per aggregate); leaving without a commit drops it.
"""
from __future__ import annotations

from typing import Callable, ClassVar, TypeVar

from crm_platform.aggregates import Aggregate
from crm_platform.event_codec import EventCodec
from crm_platform.event_store import ConcurrencyConflict, EventStore
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.repository import Repository

T = TypeVar("T")


def retried(attempt: Callable[[], T], attempts: int) -> T:
    """`attempt()` (one unit of work, read to commit), run again on what the other wrote when its commit lost a
    race (ConcurrencyConflict), at most `attempts` times in all; the last conflict is raised."""
    for attempts_left in reversed(range(attempts)):
        try:
            return attempt()
        except ConcurrencyConflict:
            if not attempts_left:
                raise
    raise ValueError("attempts must be at least 1")


class UnitOfWork:
    aggregates: ClassVar[dict[str, type[Aggregate]]] = {}

    def __init__(self, store: EventStore, cipher: PersonalDataCipher | None = None) -> None:
        self._store = store
        self.codec = self.event_codec(cipher)
        self._repositories: list[Repository] = []

    @classmethod
    def aggregates_event_classes(cls) -> list[type]:
        """Every event class the service's aggregates record (what it publishes)."""
        return [event for aggregate in cls.aggregates.values() for event in aggregate.event_classes]

    @classmethod
    def event_codec(cls, cipher: PersonalDataCipher | None = None) -> EventCodec:
        """The codec of every event of the service's aggregates (read models and consumers decode with it)."""
        return EventCodec(cls.aggregates_event_classes(), cipher, own_events=True)

    def __enter__(self):
        self._repositories = []
        for name, aggregate_class in self.aggregates.items():
            repository = Repository(self._store, self.codec, aggregate_class)
            setattr(self, name, repository)
            self._repositories.append(repository)
        return self

    def __exit__(self, *exc_info) -> None:
        for repository in self._repositories:
            repository.discard()  # uncommitted events are dropped

    def commit(self) -> None:
        """Save every tracked aggregate's new events."""
        for repository in self._repositories:
            repository.save_pending()

    def commit_in_bulk(self) -> list[str]:
        """Save every tracked aggregate's new events with one bulk append per repository (a command that changes
        many aggregates: a person's cards, invoices), not a statement or three per aggregate; the ids of the
        aggregates whose write lost a race (their events dropped: read them again). No atomicity across them."""
        return [aggregate_id for repository in self._repositories for aggregate_id in repository.save_pending_in_bulk()]
