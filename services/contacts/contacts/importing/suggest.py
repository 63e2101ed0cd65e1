"""Suggest a column mapping from a header: ours, Google's, Outlook's, or hand-written in English or French.

Each header gets a hint from the first recogniser that knows it: a keyed
custom field ('Budget [budget]'), our standard columns, Google and Outlook
columns, the account's custom field names, then synonyms. Slots are then
numbered per kind in order of appearance, and a column that would feed
something already fed is skipped, so the suggestion always passes
`check_mapping`. Unknown columns are skipped; the caller may offer
`new_custom_field` instead.
"""
from __future__ import annotations

from typing import Iterable

from contacts.domain.contact_fields import MAX_ENTRIES
from contacts.importing.cell_values import unguard_formula
from contacts.importing.folding import fold
from contacts.importing.header_synonyms import synonym_hint
from contacts.importing.hints import IGNORED, ColumnHint
from contacts.importing.known_columns import claims_name, known_hint
from contacts.importing.mapping import SKIP, SLOT_TARGETS, ColumnMapping, feeds
from contacts.importing.standard_columns import keyed_custom_field


def suggest_mapping(header: list[str], custom_fields: Iterable[dict] = ()) -> list[ColumnMapping]:
    """One ColumnMapping per header cell; `custom_fields` are the account's {"key", "name", "type"}."""
    fields = list(custom_fields)
    keys = {field["key"] for field in fields}
    by_name: dict[str, str] = {}
    for field in fields:
        by_name.setdefault(fold(field["name"]), field["key"])
    hints = [_hint(unguard_formula(name).strip(), keys, by_name) for name in header]
    return _without_repeats(_SlotNumbering().apply(hints))


def _hint(header: str, keys: set[str], by_name: dict[str, str]) -> ColumnHint:
    if (key := keyed_custom_field(header, keys)):
        return ColumnHint("custom_field", key=key)
    known = known_hint(header)
    if claims_name(header):
        return known
    if (key := by_name.get(fold(header))):
        return ColumnHint("custom_field", key=key)
    return known or synonym_hint(header) or IGNORED


class _SlotNumbering:
    """Numbers slots per kind; hand-written columns (no group) get groups from their neighbours."""

    def __init__(self) -> None:
        self.slots: dict[tuple, int] = {}
        self.counts: dict[str, int] = {}
        self.last_email: object = None
        self.open_email: object = None  # a group made by a status column before any email column
        self.address_groups: dict[str | None, tuple[object, set[str]]] = {}

    def apply(self, hints: list[ColumnHint]) -> list[ColumnMapping]:
        mapping = []
        for index, hint in enumerate(hints):
            if hint.target not in SLOT_TARGETS:
                mapping.append(ColumnMapping(hint.target, key=hint.key))
                continue
            kind = hint.target.partition(".")[0]
            group = hint.group if hint.group is not None else self._group(hint, kind, index)
            if hint.target == "email":
                self.last_email = group
            if (kind, group) not in self.slots:
                self.counts[kind] = self.counts.get(kind, 0) + 1
                self.slots[(kind, group)] = self.counts[kind]
            slot = self.slots[(kind, group)]
            mapping.append(ColumnMapping(hint.target, slot=slot, tag=hint.tag) if slot <= MAX_ENTRIES else SKIP)
        return mapping

    def _group(self, hint: ColumnHint, kind: str, index: int) -> object:
        if kind == "email" and hint.target != "email":
            if self.last_email is None and self.open_email is None:
                self.open_email = ("hand", index)
            return self.last_email if self.last_email is not None else self.open_email
        if hint.target == "email" and self.open_email is not None and self.last_email is None:
            return self.open_email
        if kind == "address":
            part = hint.target.partition(".")[2]
            group, parts = self.address_groups.get(hint.tag, (None, set()))
            if group is None or part in parts:
                group, parts = ("hand", index), set()
            self.address_groups[hint.tag] = (group, parts | {part})
            return group
        return ("hand", index)


def _without_repeats(mapping: list[ColumnMapping]) -> list[ColumnMapping]:
    seen: set = set()
    result = []
    for column in mapping:
        identity = feeds(column)
        result.append(SKIP if identity in seen else column)
        if identity is not None:
            seen.add(identity)
    return result
