"""The domain side of the event-sourcing kernel: events and aggregates (stdlib only).

A domain event is a frozen dataclass subclassing `DomainEvent`; its class name
is its published event type. A few class attributes, usually set once on an
aggregate's own event base class, tell the codec (event_codec.py) how it is
stored: which field is the aggregate id, which fields are personal data sealed
under which data subject's key.

An aggregate subclasses `Aggregate`, names its type and events, and writes one
`_apply(event)` that changes its state; `_record(event)` applies and keeps a
new event for the unit of work to save.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar, Iterable, TypeVar

from crm_platform.errors import NotFound

A = TypeVar("A", bound="Aggregate")


class DomainEvent:
    """Base of domain events (subclasses are frozen dataclasses named in the past tense)."""

    # The field holding the aggregate's id: it travels as the envelope's aggregate_id, not in the payload.
    aggregate_id_field: ClassVar[str | None] = None
    # Fields sealed under the data subject's key: "text" seals a field, "details.first_name" one key of a dict field.
    personal_fields: ClassVar[tuple[str, ...]] = ()
    # The data subject's key name, formatted with the event's fields, e.g. "contact:{contact_id}".
    data_subject: ClassVar[str] = ""
    # Version of the payload's published schema (see crm_platform.contracts).
    schema_version: ClassVar[int] = 1
    # account_id travels in the envelope; an event that publishes it in its payload too says so.
    account_id_in_payload: ClassVar[bool] = False
    # Fields stored in another shape than the domain holds them: name -> (to stored, from stored) functions,
    # e.g. a dict whose keys MongoDB refuses as field names stored as a list of pairs.
    stored_as: ClassVar[dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]] = {}

    @classmethod
    def event_type(cls) -> str:
        """The published name of this event."""
        return cls.__name__

    def subject(self) -> str:
        """The data subject whose key seals this event's personal fields."""
        return self.data_subject.format(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})


class Aggregate:
    """Base of event-sourced aggregates: state changes only by applying events, which are kept until saved."""

    aggregate_type: ClassVar[str]  # the envelope's aggregate_type, e.g. "Contact"
    event_classes: ClassVar[tuple[type[DomainEvent], ...]]  # every event this aggregate records
    # Every event holds the whole state: loading replays the newest alone (older ones may be sealed for a
    # data subject since erased, such as the contact an attachment was moved away from).
    latest_event_is_state: ClassVar[bool] = False
    # What `get` raises for a missing or gone aggregate, given its id (the domain's own not-found error).
    not_found_error: ClassVar[Callable[[str], Exception] | None] = None

    def __init__(self, aggregate_id: str, account_id: str) -> None:
        self.id = aggregate_id
        self.account_id = account_id
        self.revision = 0
        self.pending: list[DomainEvent] = []
        self.deleted = False

    @property
    def gone(self) -> bool:
        """Deleted (or otherwise ended): a repository's `get` then answers not-found."""
        return self.deleted

    @classmethod
    def not_found(cls, aggregate_id: str) -> Exception:
        """The error `get` raises for a missing or gone aggregate."""
        if cls.not_found_error is not None:
            return cls.not_found_error(aggregate_id)
        return NotFound(f"{cls.aggregate_type} {aggregate_id} does not exist in this account")

    @classmethod
    def blank(cls: type[A], aggregate_id: str, account_id: str) -> A:
        """The aggregate before its first event (override when the constructor takes other arguments)."""
        return cls(aggregate_id, account_id)

    @classmethod
    def from_history(cls: type[A], aggregate_id: str, account_id: str, history: Iterable[DomainEvent]) -> A:
        """The aggregate rebuilt by replaying its stored events, oldest first."""
        aggregate = cls.blank(aggregate_id, account_id)
        for event in history:
            aggregate._apply(event)
            aggregate.revision += 1
        return aggregate

    def _record(self, event: DomainEvent) -> None:
        """Apply a new event and keep it for the unit of work to save."""
        self._apply(event)
        self.revision += 1
        self.pending.append(event)

    def _apply(self, event: DomainEvent) -> None:
        raise NotImplementedError
