"""Labels: named groups of contacts per account (Wix's labels, Opentime's categories).

A label has an immutable key (what contacts and filters refer to) and a
display name that can change. Its aggregate id embeds the account and key, so
the event store itself refuses a second label with the same key.
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import Conflict, InvalidInput, NotFound

from contacts.domain.keys import KEY_PATTERN, clean_name, key_from_name



class LabelNotFound(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"label {key!r} does not exist in this account", label_key=key)


class LabelKeyTaken(Conflict):
    def __init__(self, key: str) -> None:
        super().__init__(f"a label with key {key!r} already exists in this account", label_key=key)


class LabelEvent(DomainEvent):
    aggregate_id_field = "label_id"


@dataclass(frozen=True)
class LabelCreated(LabelEvent):
    label_id: str
    account_id: str
    key: str
    name: str


@dataclass(frozen=True)
class LabelRenamed(LabelEvent):
    label_id: str
    account_id: str
    key: str
    name: str


@dataclass(frozen=True)
class LabelDeleted(LabelEvent):
    label_id: str
    account_id: str
    key: str
    generation: int | None = None  # the life of the key this deletion ended (generations.py); None if stored before



def label_id(account_id: str, key: str) -> str:
    return f"label:{account_id}:{key}"




class Label(Aggregate):
    aggregate_type = "Label"
    event_classes = (LabelCreated, LabelRenamed, LabelDeleted)

    def __init__(self, aggregate_id: str, account_id: str) -> None:
        super().__init__(aggregate_id, account_id)
        self.key = ""
        self.name = ""
        self.generation = 0  # how many times the key was created: each creation starts a new generation

    @classmethod
    def not_found(cls, aggregate_id: str) -> LabelNotFound:
        return LabelNotFound(aggregate_id.split(":", 2)[2])  # see label_id

    @classmethod
    def create(cls, account_id: str, name: str, key: str | None = None) -> "Label":
        key = key or key_from_name(name)
        if not KEY_PATTERN.match(key):
            raise InvalidInput("invalid label key", errors={"key": ["lowercase letters, digits and -, at most 64"]})
        label = cls(label_id(account_id, key), account_id)
        label._record(LabelCreated(label.id, account_id, key, clean_name(name)))
        return label

    def recreate(self, name: str) -> None:
        """Bring back a deleted label's key with a new name."""
        if not self.deleted:
            raise LabelKeyTaken(self.key)
        self._record(LabelCreated(self.id, self.account_id, self.key, clean_name(name)))

    def rename(self, name: str) -> None:
        self._check_live()
        name = clean_name(name)
        if name != self.name:
            self._record(LabelRenamed(self.id, self.account_id, self.key, name))

    def delete(self) -> None:
        self._check_live()
        self._record(LabelDeleted(self.id, self.account_id, self.key, self.generation))

    def _check_live(self) -> None:
        if self.deleted:
            raise LabelNotFound(self.key)

    def _apply(self, event: LabelEvent) -> None:
        self.key = event.key
        if isinstance(event, LabelCreated):
            self.generation += 1
        if isinstance(event, (LabelCreated, LabelRenamed)):
            self.name, self.deleted = event.name, False
        else:
            self.deleted = True


@dataclass(frozen=True)
class LabelsReordered(DomainEvent):
    account_id: str
    keys: list


def label_order_id(account_id: str) -> str:
    return f"label-order:{account_id}"


class LabelOrder(Aggregate):
    """The order the account wants its labels (categories) listed in; labels it leaves out follow, by name."""

    aggregate_type = "LabelOrder"
    event_classes = (LabelsReordered,)

    def __init__(self, aggregate_id: str, account_id: str) -> None:
        super().__init__(aggregate_id, account_id)
        self.keys: list[str] = []

    def reorder(self, keys: list[str]) -> None:
        if len(set(keys)) != len(keys):
            raise InvalidInput("a key appears twice", errors={"keys": ["each key once"]})
        if list(keys) != self.keys:
            self._record(LabelsReordered(self.account_id, list(keys)))

    def _apply(self, event: LabelsReordered) -> None:
        self.keys = list(event.keys)
