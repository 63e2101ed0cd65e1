"""Generations: which life of a label, custom field or option key a contact's value belongs to.

A key can be removed and created again. Each creation starts a new generation
of the key (1, 2, ...; the built-in options are generation 0), and a removal
names the generation it ends. A contact records, per kind and key, the
generation its value was given under. The clean-up that follows the removal of
generation g takes off only values given under g or before: a value given
after the key came back stays, however late, or however often, that clean-up
runs (backlog, re-delivery, replay of the log).

Values stored before generations were recorded count as generation 0, and so
does a removal stored before them: its clean-up takes off only such values.
"""
from __future__ import annotations

from collections.abc import Mapping

Generations = dict[str, dict[str, int]]  # kind -> key -> generation
KINDS = ("labels", "custom_fields", "function", "department", "country")


def held(details: dict, kind: str) -> dict[str, object]:
    """The keys of this kind the details hold, each with its value (what "unchanged" is judged on)."""
    if kind == "labels":
        return {key: True for key in details.get("labels") or []}
    if kind == "custom_fields":
        return dict(details.get("custom_fields") or {})
    if kind == "country":
        return {a["country"]: True for a in details.get("addresses") or [] if a.get("country")}
    return {details[kind]: True} if details.get(kind) else {}


def generation(stamps: Mapping, kind: str, key: str) -> int:
    """The generation the contact's value of this key was given under (0: before generations were recorded)."""
    return stamps.get(kind, {}).get(key, 0)


def given_by_then(stamps: Mapping, kind: str, key: str, ended: int) -> bool:
    """Whether the value was given under the generation a removal ended, or before (its clean-up's to take off)."""
    return generation(stamps, kind, key) <= ended


def restamp(after: dict, before: dict, stamps: Mapping, current: Mapping[str, Mapping[str, int]]) -> Generations:
    """The generations of what `after` holds: an unchanged value keeps its own, a new or changed one takes the
    key's current generation (from `current`, what the change was checked against; 0 if it does not say)."""
    out: Generations = {}
    for kind in KINDS:
        previous, now = held(before, kind), current.get(kind)
        kept = {}
        for key, value in held(after, kind).items():
            if key in previous and previous[key] == value:
                kept[key] = generation(stamps, kind, key)
            else:
                kept[key] = now.get(key, 0) if isinstance(now, Mapping) else 0
        if kept:
            out[kind] = kept
    return out


def combined(details: dict, contributors: list[tuple[dict, Mapping]]) -> Generations:
    """The generations of merged details: each value's newest among the contacts that held that same value."""
    out: Generations = {}
    for kind in KINDS:
        holders = [(held(source, kind), own) for source, own in contributors]
        stamps = {key: max((generation(own, kind, key) for values, own in holders
                            if key in values and values[key] == value), default=0)
                  for key, value in held(details, kind).items()}
        if stamps:
            out[kind] = stamps
    return out
