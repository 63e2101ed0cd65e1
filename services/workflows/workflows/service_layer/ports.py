"""What handlers ask of the read side (bootstrap injects the real adapters, unit tests the fakes)."""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Protocol


class CardsIndex(abc.ABC):
    """The cards read model, as handlers need it: open cards of a stage in order, cards of a contact.

    Eventually consistent: a card written a moment ago may not be in it yet.
    """

    @abc.abstractmethod
    def ordered_ids(self, account_id: str, stage_id: str) -> list[str]:
        """The stage's open cards, first to last."""

    @abc.abstractmethod
    def last_position(self, account_id: str, stage_id: str, excluding: str | None = None) -> str | None:
        """The last open card's position in the stage (None when it is empty)."""

    @abc.abstractmethod
    def position_after(self, account_id: str, stage_id: str, position: str, card_id: str,
                       excluding: str) -> str | None:
        """The position of the open card right after `card_id`, at `position`, in stage order (position, then id:
        a card sharing its key comes after it if its id is greater); None at the end."""

    @abc.abstractmethod
    def position_before(self, account_id: str, stage_id: str, position: str, card_id: str,
                        excluding: str) -> str | None:
        """The position of the open card right before `card_id`, at `position`, in stage order; None at the start."""

    @abc.abstractmethod
    def of_contact(self, account_id: str, contact_id: str) -> list[str]:
        """Cards linking the contact, main or other, whatever their status."""


class ContactTimelines(Protocol):
    """Workflows' entries of its contacts' timelines (crm_platform.timeline.TimelineProjection)."""

    def forget_contact(self, account_id: str, contact_id: str) -> int:
        """Delete every entry about the contact (its erasure); how many there were."""


class TasksIndex(abc.ABC):
    """The tasks read model, as handlers need it (eventually consistent, like CardsIndex)."""

    @abc.abstractmethod
    def of_contact(self, account_id: str, contact_id: str) -> list[str]:
        """Tasks about the contact (linked to it, or to a card of theirs when linked), deleted or not."""


class ContactsDirectory(abc.ABC):
    """The contacts that exist, as workflows learns them from `contacts.events`.

    Idempotent and order-proof: a contact once gone stays gone, whatever arrives after.
    """

    @abc.abstractmethod
    def unknown(self, account_id: str, contact_ids: list[str]) -> set[str]:
        """Those of `contact_ids` that do not exist in the account (never created, deleted, erased)."""

    @abc.abstractmethod
    def record_existing(self, account_id: str, contact_id: str) -> None:
        """The contact exists (unless it is already known gone)."""

    @abc.abstractmethod
    def record_gone(self, account_id: str, contact_id: str) -> None:
        """The contact was deleted, merged away or erased: for good."""

    @abc.abstractmethod
    def record_merged(self, account_id: str, source_id: str, survivor_id: str) -> None:
        """The contact was merged into `survivor_id`: gone for good, and one person with it."""

    @abc.abstractmethod
    def survivor(self, account_id: str, contact_id: str) -> str:
        """The contact it was merged into, followed through later merges; itself if it was not merged."""

    @abc.abstractmethod
    def merge_family(self, account_id: str, contact_ids: list[str]) -> list[str]:
        """Those of `contact_ids` heard of in the account, with every contact merged with them (into, or from),
        recursively: the requested ones first."""


@dataclass(frozen=True)
class DueReminder:
    id: str  # (task, reminder, instant): the read model's document
    account_id: str
    task_id: str
    before: str
    remind_at: str
    failures: int = 0  # how many times firing it failed


class DueReminders(abc.ABC):
    """The reminders read model, as the scheduler needs it (eventually consistent: the task decides)."""

    @abc.abstractmethod
    def due(self, now: str, limit: int) -> list[DueReminder]:
        """Reminders not handled yet whose instant is `now` or before, earliest first (those put off until
        after `now` left out)."""

    @abc.abstractmethod
    def mark_handled(self, reminder_id: str) -> None:
        """Fired and its e-mail queued, found not scheduled any more, or given up: not to be looked at again."""

    @abc.abstractmethod
    def put_off(self, reminder_id: str, until: str) -> None:
        """Firing it failed once more: not due again before `until` (UTC text, as `due` takes `now`)."""


class ReminderMailer(abc.ABC):
    """Queues the e-mail of a reminder that fired (the kernel's mail outbox, behind this port)."""

    @abc.abstractmethod
    def queue(self, mail_id: str, account_id: str, subject_key: str, to: str, subject: str, text: str,
              reference: dict, about_contact_id: str | None = None) -> bool:
        """Queue it once, sealed under `subject_key`: a `mail_id` already queued changes nothing (False). When it
        goes, it is sent without the task's details if `about_contact_id` restricted processing by then."""
