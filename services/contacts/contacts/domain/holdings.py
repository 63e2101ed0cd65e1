"""Which notes and files a contact holds, kept in the event store: a merge moves them without waiting for the
read models, which learn of a new note only after the relay and the consumer.

One small aggregate per contact (`holdings-<contact id>`). A note or file is stored first, then filed here:
two commits, as there are no multi-document transactions. When the contact is merged, its holdings are
handed over to the target once everything filed has moved, and only if nothing was filed since they were
read (the hand-over is based on that revision). A note filed after the hand-over finds them handed over
and follows to the target itself. So whatever was added before or during a merge ends on the target.

An id stays listed once its note or file is moved or deleted: the list says where to look, the item's own
events say where it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from crm_platform.aggregates import Aggregate, DomainEvent

PREFIX = "holdings-"


def holdings_id(contact_id: str) -> str:
    return f"{PREFIX}{contact_id}"


@dataclass(frozen=True)
class ItemsFiled(DomainEvent):
    """Notes and files (ids) now held by the contact, besides those filed before."""

    contact_id: str
    account_id: str
    note_ids: list = field(default_factory=list)
    attachment_ids: list = field(default_factory=list)


@dataclass(frozen=True)
class HoldingsHandedOver(DomainEvent):
    """The contact was merged into `to_contact_id` and what it held has moved there; later items follow."""

    contact_id: str
    account_id: str
    to_contact_id: str


class ContactHoldings(Aggregate):
    aggregate_type = "ContactHoldings"
    event_classes = (ItemsFiled, HoldingsHandedOver)

    def __init__(self, aggregate_id: str, account_id: str) -> None:
        super().__init__(aggregate_id, account_id)
        self.contact_id = aggregate_id.removeprefix(PREFIX)
        self.note_ids: list[str] = []
        self.attachment_ids: list[str] = []
        self.handed_over_to: str | None = None

    def file(self, note_ids=(), attachment_ids=()) -> None:
        """List these notes and files (no event for those listed already); the caller checks `handed_over_to`."""
        if self.handed_over_to is not None:
            raise ValueError(f"the holdings of contact {self.contact_id} were handed over; file on the new contact")
        notes = [i for i in dict.fromkeys(note_ids) if i not in self.note_ids]
        attachments = [i for i in dict.fromkeys(attachment_ids) if i not in self.attachment_ids]
        if notes or attachments:
            self._record(ItemsFiled(self.contact_id, self.account_id, notes, attachments))

    def hand_over(self, to_contact_id: str) -> None:
        if self.handed_over_to is None:
            self._record(HoldingsHandedOver(self.contact_id, self.account_id, to_contact_id))

    def _apply(self, event: ItemsFiled | HoldingsHandedOver) -> None:
        if isinstance(event, ItemsFiled):
            self.note_ids.extend(event.note_ids)
            self.attachment_ids.extend(event.attachment_ids)
        else:
            self.handed_over_to = event.to_contact_id
