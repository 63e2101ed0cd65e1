"""Option lists: the account's own choices for a contact's function, department and address country.

Opentime's "Modifier les options des fonctions / services / pays". Each list
is one aggregate per account and kind, so keys stay unique and the order is
one fact. Contacts hold an option's immutable key, never its name: renaming
an option is therefore seen at once on every contact that uses it, and
deleting one is followed by the worker taking it off those contacts.

An account that never changed a list sees the defaults of this code. The
first change records them as `OptionListStarted`, so a later change of the
defaults never rewrites the history of an account that edited its list.
(Categories are labels: see labels.py and the README.)
"""
from __future__ import annotations

import gettext
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pycountry

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import Conflict, InvalidInput, NotFound

from contacts.domain.keys import KEY_PATTERN, clean_name, key_from_name

KINDS = ("functions", "departments", "countries")
CONTACT_FIELD = {"functions": "function", "departments": "department", "countries": "country"}
KIND_OF_FIELD = {field: kind for kind, field in CONTACT_FIELD.items()}
MAX_OPTIONS = 300  # the 249 ISO countries fit

DEFAULT_FUNCTIONS = ("Dirigeant", "Directeur", "Responsable", "Commercial", "Comptable", "Assistant", "Technicien")
DEFAULT_DEPARTMENTS = ("Direction", "Commercial", "Comptabilité", "Achats", "Marketing", "Ressources humaines",
                       "Technique", "Logistique")


class OptionNotFound(NotFound):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} has no option {key!r} in this account", option_key=key, option_list=kind)


class OptionKeyTaken(Conflict):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} already has an option with key {key!r}", option_key=key, option_list=kind)


@dataclass(frozen=True)
class OptionListStarted(DomainEvent):
    account_id: str
    kind: str
    options: list  # [{"key", "name"}], the defaults the account started from


@dataclass(frozen=True)
class OptionAdded(DomainEvent):
    account_id: str
    kind: str
    key: str
    name: str
    options: list = field(default_factory=list)  # the whole list after the change, for readers


@dataclass(frozen=True)
class OptionRenamed(DomainEvent):
    account_id: str
    kind: str
    key: str
    name: str
    options: list = field(default_factory=list)


@dataclass(frozen=True)
class OptionsReordered(DomainEvent):
    account_id: str
    kind: str
    keys: list
    options: list = field(default_factory=list)


@dataclass(frozen=True)
class OptionRemoved(DomainEvent):
    account_id: str
    kind: str
    key: str
    options: list = field(default_factory=list)
    generation: int | None = None  # the life of the key this removal ended (0: a built-in); None if stored before


OptionListEvent = OptionListStarted | OptionAdded | OptionRenamed | OptionsReordered | OptionRemoved


def option_list_id(account_id: str, kind: str) -> str:
    return f"options:{kind}:{account_id}"


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"no option list {kind!r}; the lists are {', '.join(KINDS)}", option_list=kind)
    return kind


class OptionList(Aggregate):
    """The ordered options (key -> name) of one list of one account."""

    aggregate_type = "OptionList"
    event_classes = (OptionListStarted, OptionAdded, OptionRenamed, OptionsReordered, OptionRemoved)

    def __init__(self, account_id: str, kind: str) -> None:
        super().__init__(option_list_id(account_id, check_kind(kind)), account_id)
        self.kind = kind
        self.options: dict[str, str] = dict(default_options(kind))  # key -> name, in display order
        self._added: dict[str, int] = {}  # key -> times added, removed keys included (built-ins: 0): its generation
        self.started = False

    @classmethod
    def blank(cls, aggregate_id: str, account_id: str) -> "OptionList":
        return cls(account_id, aggregate_id.split(":")[1])  # see option_list_id

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.options)

    @property
    def generations(self) -> dict[str, int]:
        """The generation of each option of the list (each time a key is added starts a new one)."""
        return {key: self._added.get(key, 0) for key in self.options}

    def as_list(self) -> list[dict]:
        return [{"key": key, "name": name, "position": i} for i, (key, name) in enumerate(self.options.items())]

    def add(self, name: str, key: str | None = None) -> str:
        name = clean_name(name)
        if self.kind == "countries":
            key = _country_code(key or name)
        else:
            key = key or key_from_name(name, fallback="option")
            if not KEY_PATTERN.match(key):
                raise InvalidInput("invalid key", errors={"key": ["lowercase letters, digits and -, at most 64"]})
        if key in self.options:
            raise OptionKeyTaken(self.kind, key)
        if len(self.options) >= MAX_OPTIONS:
            raise InvalidInput(f"at most {MAX_OPTIONS} options in a list", errors={"_schema": ["limit reached"]})
        self._record(OptionAdded(self.account_id, self.kind, key, name))
        return key

    def rename(self, key: str, name: str) -> None:
        self._existing(key)
        name = clean_name(name)
        if name != self.options[key]:
            self._record(OptionRenamed(self.account_id, self.kind, key, name))

    def reorder(self, keys: list[str]) -> None:
        """Put the options in this order; every key of the list exactly once."""
        if sorted(keys) != sorted(self.options) or len(set(keys)) != len(keys):
            missing, unknown = set(self.options) - set(keys), set(keys) - set(self.options)
            problems = [f"missing: {', '.join(sorted(missing))}" if missing else "",
                        f"unknown: {', '.join(sorted(unknown))}" if unknown else "",
                        "a key appears twice" if len(set(keys)) != len(keys) else ""]
            raise InvalidInput("give every key of the list exactly once",
                               errors={"keys": [p for p in problems if p]})
        if list(keys) != list(self.options):
            self._record(OptionsReordered(self.account_id, self.kind, list(keys)))

    def remove(self, key: str) -> None:
        self._existing(key)
        self._record(OptionRemoved(self.account_id, self.kind, key, generation=self._added.get(key, 0)))

    def _existing(self, key: str) -> None:
        if key not in self.options:
            raise OptionNotFound(self.kind, key)

    def _record(self, event: OptionListEvent) -> None:
        if not self.started:
            super()._record(OptionListStarted(self.account_id, self.kind, self.pairs()))
        super()._record(event)
        self.pending[-1] = replace(event, options=self.pairs())  # readers get the whole list after the change

    def pairs(self) -> list[dict]:
        return [{"key": key, "name": name} for key, name in self.options.items()]

    def _apply(self, event: OptionListEvent) -> None:
        if isinstance(event, OptionListStarted):
            self.options = {o["key"]: o["name"] for o in event.options}
            self.started = True
        elif isinstance(event, (OptionAdded, OptionRenamed)):
            self.options[event.key] = event.name
            if isinstance(event, OptionAdded):
                self._added[event.key] = self._added.get(event.key, 0) + 1
        elif isinstance(event, OptionsReordered):
            self.options = {key: self.options[key] for key in event.keys}
        elif isinstance(event, OptionRemoved):
            self.options.pop(event.key, None)




def default_options(kind: str) -> tuple[tuple[str, str], ...]:
    if kind == "countries":
        return _default_countries()
    names = DEFAULT_FUNCTIONS if kind == "functions" else DEFAULT_DEPARTMENTS
    return tuple((key_from_name(name), name) for name in names)


@lru_cache(maxsize=1)
def _default_countries() -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 country, named in French (our first users), France first then A to Z."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"], fallback=True).gettext
    named = [(country.alpha_2, french(country.name)) for country in pycountry.countries]
    named.sort(key=lambda pair: (pair[0] != "FR", key_from_name(pair[1])))
    return tuple(named)


def _country_code(code: str) -> str:
    code = (code or "").strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise InvalidInput("not a country", errors={"key": ["an ISO 3166-1 alpha-2 country code (e.g. FR, BE, CH)"]})
    return code
