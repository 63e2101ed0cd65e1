"""The first character of each contact's sorting names, kept so that a list sorted by name reads one initial
at a time (contact_pages.name_page).

FerretDB (the local server of `make run`) sorts in memory every document its pushed-down equalities let
through, and pushes no limit down: a page of the contacts holding one label and subscribed, sorted by last
name, decoded every one of them (3.2-3.6 s for 8,333 of an account of 100,000, docs/figures.md). The read model
keeps the class of the first character of `sort_first_name` and of `sort_last_name` (`sort_first_initial`,
`sort_last_initial`): an equality that any MongoDB server indexes and FerretDB pushes down, so a page reads
the initials in the list's order, one at a time, until it is full.

The classes follow the names' order (MongoDB compares strings by code point, as Python does): the empty
name, what sorts before the digits, the digits, what sorts between them and `a`, each letter, then whatever
sorts after `z` (letters that folding keeps, `ø`, Greek, Cyrillic, CJK...). A class holds what it holds: one
frequent initial is still one read (a tenth of French surnames start with B).

A live contact without its initials would be in no initial: the lists read by initial only once every
live contact carries them. A collection empty at start-up only ever holds such contacts (unless a process
of an earlier release writes to it); `rebuild-projection` gives the others theirs, and mends initials an
earlier release left behind a renamed contact (`give_initials`). Until one of them says so, lists sorted by
name read as before, with one sorted query.
"""
from __future__ import annotations

from pymongo.collection import Collection

from crm_platform.id_guards import filter_by_id
from crm_platform.mongo import write_each

INITIALS = ("", "<0", "0", "<a", *"abcdefghijklmnopqrstuvwxyz", ">z")  # in the names' order
INITIAL_FIELDS = {"sort_first_name": "sort_first_initial", "sort_last_name": "sort_last_initial"}
# A document of the markers collection: every live contact of the collection carries its initials.
EVERY_CONTACT_HAS_INITIALS = "every contact has name initials"


def initial_of(folded: str) -> str:
    """The class of a folded name's first character, one of INITIALS."""
    if not folded:
        return ""
    first = folded[0]
    if first < "0":
        return "<0"
    if first <= "9":
        return "0"
    if first < "a":
        return "<a"
    return first if first <= "z" else ">z"


def initial_fields(sort_names: dict) -> dict:
    """The initials of the sorting names in `sort_names` (field -> folded name)."""
    return {initial: initial_of(sort_names.get(name) or "") for name, initial in INITIAL_FIELDS.items()}


class NameInitials:
    """Whether every live contact carries its initials, and giving them to those stored before."""

    def __init__(self, markers: Collection, contacts: Collection) -> None:
        self.markers = markers
        self.contacts = contacts
        self._everywhere = False  # once true, for good: the marker is never removed

    def begin_if_empty(self) -> None:
        """At start-up: a collection without contacts will only ever hold contacts with initials."""
        if self.contacts.find_one({}, {"_id": 1}) is None:
            self.markers.update_one({"_id": EVERY_CONTACT_HAS_INITIALS}, {"$set": {"since": "empty"}}, upsert=True)

    def everywhere(self) -> bool:
        if not self._everywhere:
            self._everywhere = self.markers.find_one({"_id": EVERY_CONTACT_HAS_INITIALS}, {"_id": 1}) is not None
        return self._everywhere

    def give_initials(self) -> int:
        """Give every live contact whose initials are missing or do not match its names (written by an earlier
        release) its own, then say that every contact has them. Once after upgrading, and again after any process of
        an earlier release wrote (`rebuild-projection`: reads the whole collection); returns how many it changed.
        Each update holds only while the contact is live with the names read: one renamed or deleted meanwhile was
        written by this release, with its initials."""
        found = self.contacts.find({"deleted": False}, {**dict.fromkeys(INITIAL_FIELDS, 1),
                                                        **dict.fromkeys(INITIAL_FIELDS.values(), 1)})
        wrong = [(document["_id"], *(document.get(name) for name in INITIAL_FIELDS)) for document in found
                 if any(document.get(initial) != value for initial, value in initial_fields(document).items())]

        def give(read: tuple) -> int:
            names = dict(zip(INITIAL_FIELDS, read[1:]))
            where = filter_by_id(self.contacts, read[0], {"deleted": False, **names})  # crm_platform.id_guards
            if where is None:
                return 0
            return self.contacts.update_one(where, {"$set": initial_fields(names)}).modified_count

        changed = write_each(give, wrong)
        self.markers.update_one({"_id": EVERY_CONTACT_HAS_INITIALS}, {"$set": {"since": "filled"}}, upsert=True)
        return sum(changed)
