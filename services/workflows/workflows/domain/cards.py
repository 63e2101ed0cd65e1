"""Cards: one deal or project on a board, in a stage, about a main contact and up to 10 more.

Every card event carries the card's whole state (`latest_event_is_state`): its
title, description and lost reason are sealed under its main contact's subject
key, and a card whose main contact changes is sealed under the new one from
then on, so loading it never needs an older key. When its main contact is
erased, the card first records its personal fields blank (CardPersonalDataErased,
still under that contact's key, which is then shredded): what it says about that
person is never sealed under another contact's key.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import Conflict, InvalidInput, NotFound, StaleRevision

MAX_OTHER_CONTACTS = 10
OPEN, WON, LOST, ARCHIVED = "open", "won", "lost", "archived"
STATUSES = (OPEN, WON, LOST, ARCHIVED)
CARD_SUBJECT = "workflows-subject:{contact_id}"


class CardNotFound(NotFound):
    def __init__(self, card_id: str) -> None:
        super().__init__(f"card {card_id} does not exist in this account", card_id=card_id)


class CardEvent(DomainEvent):
    aggregate_id_field = "card_id"
    personal_fields = ("title", "description", "lost_reason")
    data_subject = CARD_SUBJECT


@dataclass(frozen=True)
class CardState(CardEvent):
    card_id: str
    account_id: str
    board_id: str
    stage_id: str
    position: str  # fractional key within the stage (domain/positions.py)
    title: str
    description: str
    contact_id: str  # the main contact
    other_contact_ids: list
    status: str
    created_at: str  # ISO, UTC
    moved_at: str  # when it last entered a stage (ISO, UTC): what "stale" counts from
    value: str | None = None  # a decimal, as a string
    currency: str | None = None  # ISO 4217
    due_on: str | None = None  # ISO date
    linked_document: str | None = None  # a quote's or invoice's id, opaque here
    lost_reason: str | None = None


@dataclass(frozen=True)
class CardCreated(CardState):
    pass


@dataclass(frozen=True)
class CardEdited(CardState):
    pass


@dataclass(frozen=True)
class CardMoved(CardState):
    from_stage_id: str | None = None


@dataclass(frozen=True)
class CardRepositioned(CardState):
    """Given a new key in the same place, with the cards around a gap whose keys grew long."""


@dataclass(frozen=True)
class CardWon(CardState):
    pass


@dataclass(frozen=True)
class CardLost(CardState):
    pass


@dataclass(frozen=True)
class CardArchived(CardState):
    pass


@dataclass(frozen=True)
class CardPersonalDataErased(CardState):
    """Its main contact was erased: its title, description and lost reason are blank from now on."""


@dataclass(frozen=True)
class CardContactsRelinked(CardState):
    """Its contacts changed because contacts were merged or deleted (contacts.events)."""


def checked_contacts(contact_id: str, other_contact_ids: list[str]) -> list[str]:
    """The other contacts, without repeats or the main one; a 422 over the limit."""
    others = [c for c in dict.fromkeys(other_contact_ids) if c != contact_id]
    if len(others) > MAX_OTHER_CONTACTS:
        raise InvalidInput("too many contacts on one card",
                           errors={"other_contact_ids": [f"at most {MAX_OTHER_CONTACTS} besides the main contact"]})
    return others


class Card(Aggregate):
    aggregate_type = "Card"
    event_classes = (CardCreated, CardEdited, CardMoved, CardRepositioned, CardWon, CardLost, CardArchived,
                     CardContactsRelinked, CardPersonalDataErased)
    not_found_error = CardNotFound
    latest_event_is_state = True

    def __init__(self, card_id: str, account_id: str) -> None:
        super().__init__(card_id, account_id)
        self.state: CardState | None = None

    def __getattr__(self, name: str):
        state = self.__dict__.get("state")  # the card's fields are its latest state's
        if state is not None and name in CardState.__dataclass_fields__:
            return getattr(state, name)
        raise AttributeError(name)

    @classmethod
    def create(cls, account_id: str, board_id: str, stage_id: str, position: str, now: str, *, title: str,
               description: str, contact_id: str, other_contact_ids: list[str], value: str | None = None,
               currency: str | None = None, due_on: str | None = None, linked_document: str | None = None) -> "Card":
        card = cls(f"card:{uuid.uuid4()}", account_id)
        if (value is None) != (currency is None):
            missing = "currency" if currency is None else "value"
            raise InvalidInput("a value needs its currency", errors={missing: ["required with value and currency"]})
        card._record(CardCreated(
            card.id, account_id, board_id, stage_id, position, _title(title), description, contact_id,
            checked_contacts(contact_id, other_contact_ids), OPEN, now, now, value, currency, due_on, linked_document))
        return card

    def check_revision(self, revision: int | None) -> None:
        if revision is not None and revision != self.revision:
            raise StaleRevision(f"card {self.id} is at revision {self.revision}, the change was based on {revision}",
                                card_id=self.id, current_revision=self.revision)

    def edit(self, changes: dict) -> None:
        """Change title, description, contacts, value, currency, due date or linked document."""
        if "title" in changes:
            changes = {**changes, "title": _title(changes["title"])}
        contact_id = changes.get("contact_id", self.contact_id)
        if "contact_id" in changes or "other_contact_ids" in changes:
            changes = {**changes, "other_contact_ids": checked_contacts(
                contact_id, changes.get("other_contact_ids", self.other_contact_ids))}
        edited = replace(self.state, **changes)
        if (edited.value is None) != (edited.currency is None):
            missing = "currency" if edited.currency is None else "value"
            raise InvalidInput("a value needs its currency", errors={missing: ["required with value and currency"]})
        if edited != self.state:
            self._record(CardEdited(**_fields(edited)))

    def move(self, stage_id: str, position: str, now: str) -> None:
        if self.status != OPEN:
            raise Conflict(f"card {self.id} is {self.status}: only open cards move", card_id=self.id)
        moved_at = now if stage_id != self.stage_id else self.moved_at
        self._record(CardMoved(**_fields(replace(self.state, stage_id=stage_id, position=position, moved_at=moved_at)),
                               from_stage_id=self.stage_id))

    def reposition(self, position: str) -> None:
        if position != self.position:
            self._record(CardRepositioned(**_fields(replace(self.state, position=position))))

    def win(self) -> None:
        if self.status != WON:
            self._close(WON)
            self._record(CardWon(**_fields(replace(self.state, status=WON))))

    def lose(self, reason: str | None) -> None:
        if self.status != LOST or reason != self.lost_reason:
            self._close(LOST)
            self._record(CardLost(**_fields(replace(self.state, status=LOST, lost_reason=reason))))

    def archive(self) -> None:
        if self.status != ARCHIVED:
            self._record(CardArchived(**_fields(replace(self.state, status=ARCHIVED))))

    def relink_contacts(self, contact_id: str, other_contact_ids: list[str]) -> None:
        others = [c for c in dict.fromkeys(other_contact_ids) if c != contact_id][:MAX_OTHER_CONTACTS]
        if (contact_id, others) != (self.contact_id, list(self.other_contact_ids)):
            self._record(CardContactsRelinked(**_fields(replace(
                self.state, contact_id=contact_id, other_contact_ids=others))))

    def erase_personal_data(self) -> None:
        """Blank what the card says about its main contact (before that contact's key is shredded)."""
        if (self.title, self.description, self.lost_reason) != ("", "", None):
            self._record(CardPersonalDataErased(**_fields(replace(self.state, title="", description="",
                                                                  lost_reason=None))))

    def _close(self, outcome: str) -> None:
        if self.status not in (OPEN, outcome):
            raise Conflict(f"card {self.id} is {self.status}: only an open card is won or lost", card_id=self.id)

    def _apply(self, event: CardState) -> None:
        self.state = CardState(**_fields(event))


def _fields(state: CardState) -> dict:
    return {name: getattr(state, name) for name in CardState.__dataclass_fields__}


def _title(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidInput("a card needs a title", errors={"title": ["must not be blank"]})
    return value
