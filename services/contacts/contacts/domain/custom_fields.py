"""Custom fields: the account's own fields on contacts (name, immutable key, type), and their values.

All definitions of an account are one aggregate, so the limit of 100 and the
uniqueness of keys hold under concurrent changes.
"""
from __future__ import annotations

import math

from dataclasses import dataclass
from datetime import date

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import Conflict, InvalidInput, NotFound

from contacts.domain.contact_fields import URL_PATTERN, FieldProblems
from contacts.domain.keys import KEY_PATTERN, clean_name, key_from_name

TYPES = ("text", "number", "date", "url")
MAX_FIELDS = 100
MAX_TEXT = 2000


class CustomFieldNotFound(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"custom field {key!r} does not exist in this account", field_key=key)


@dataclass(frozen=True)
class CustomFieldAdded(DomainEvent):
    account_id: str
    key: str
    name: str
    type: str


@dataclass(frozen=True)
class CustomFieldRenamed(DomainEvent):
    account_id: str
    key: str
    name: str


@dataclass(frozen=True)
class CustomFieldRemoved(DomainEvent):
    account_id: str
    key: str
    generation: int | None = None  # the life of the key this removal ended (generations.py); None if stored before


CustomFieldEvent = CustomFieldAdded | CustomFieldRenamed | CustomFieldRemoved


def field_set_id(account_id: str) -> str:
    return f"custom-fields:{account_id}"


class CustomFieldSet(Aggregate):
    """Every custom field definition of one account."""

    aggregate_type = "CustomFieldSet"
    event_classes = (CustomFieldAdded, CustomFieldRenamed, CustomFieldRemoved)

    def __init__(self, account_id: str) -> None:
        super().__init__(field_set_id(account_id), account_id)
        self.fields: dict[str, dict] = {}  # key -> {"name", "type"}, in creation order
        self._added: dict[str, int] = {}  # key -> times added, removed keys included: its current generation

    @classmethod
    def blank(cls, aggregate_id: str, account_id: str) -> "CustomFieldSet":
        return cls(account_id)

    @property
    def types(self) -> dict[str, str]:
        return {key: spec["type"] for key, spec in self.fields.items()}

    @property
    def generations(self) -> dict[str, int]:
        """The generation of each live field (each time a key is added starts a new one)."""
        return {key: self._added[key] for key in self.fields}

    def add(self, name: str, type_: str, key: str | None = None) -> str:
        name = clean_name(name)
        if type_ not in TYPES:
            raise InvalidInput("unknown type", errors={"type": [f"one of {', '.join(TYPES)}"]})
        key = key or key_from_name(name, fallback="field")
        if not KEY_PATTERN.match(key):
            raise InvalidInput("invalid key", errors={"key": ["lowercase letters, digits and -, at most 64"]})
        if key in self.fields:
            raise Conflict(f"a custom field with key {key!r} already exists", field_key=key)
        if len(self.fields) >= MAX_FIELDS:
            raise InvalidInput(f"at most {MAX_FIELDS} custom fields per account", errors={"_schema": ["limit reached"]})
        self._record(CustomFieldAdded(self.account_id, key, name, type_))
        return key

    def rename(self, key: str, name: str) -> None:
        self._existing(key)
        name = clean_name(name)
        if name != self.fields[key]["name"]:
            self._record(CustomFieldRenamed(self.account_id, key, name))

    def remove(self, key: str) -> None:
        self._existing(key)
        self._record(CustomFieldRemoved(self.account_id, key, self._added[key]))

    def _existing(self, key: str) -> None:
        if key not in self.fields:
            raise CustomFieldNotFound(key)

    def _apply(self, event: CustomFieldEvent) -> None:
        if isinstance(event, CustomFieldAdded):
            self.fields[event.key] = {"name": event.name, "type": event.type}
            self._added[event.key] = self._added.get(event.key, 0) + 1
        elif isinstance(event, CustomFieldRenamed):
            self.fields[event.key] = {**self.fields[event.key], "name": event.name}
        else:
            self.fields.pop(event.key, None)




MAX_INT = 2**63 - 1  # BSON stores 64-bit integers; a larger one could not reach the read model


def _storable_number(value: int | float) -> bool:
    if isinstance(value, int):
        return -MAX_INT <= value <= MAX_INT
    return math.isfinite(value)


def normalize_values(values: dict, types: dict[str, str], problems: FieldProblems) -> dict:
    """Values checked against their field's type: text, number, date (YYYY-MM-DD) or http(s) URL."""
    out = {}
    for key, value in values.items():
        path = ("custom_fields", key)
        kind = types.get(key)
        if kind is None:
            problems.add(path, "no such custom field in this account")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.add(path, "must be a number")
            elif not _storable_number(value):
                problems.add(path, f"must be a finite number; whole numbers from -{MAX_INT} to {MAX_INT}")
            else:
                out[key] = value
        elif not isinstance(value, str):
            problems.add(path, f"must be a {kind} given as a string")
        elif kind == "date":
            try:
                out[key] = date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                problems.add(path, "must be a date as YYYY-MM-DD")
        elif kind == "url":
            if not URL_PATTERN.match(value.strip()):
                problems.add(path, "must be an http(s) URL")
            out[key] = value.strip()
        elif len(value) > MAX_TEXT:
            problems.add(path, f"at most {MAX_TEXT} characters")
        else:
            out[key] = value.strip()
    return out
