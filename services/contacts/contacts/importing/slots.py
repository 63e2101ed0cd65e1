"""Entries gathered slot by slot while a row is read, then assembled into detail lists.

A slot is (kind, number): ('email', 2) collects the second email's address(es),
tag, primary flag and statuses from whichever columns feed it. A cell may hold
several values; they all take the slot's tag, and only the first can be primary.
"""
from __future__ import annotations

from contacts.domain.contact_fields import MAX_STREET_LINES

_STREET_PARTS = ("street", "street2", "street3")


class SlotEntries:
    """The slots of one row being read; `details()` assembles them."""

    def __init__(self, default_tags: dict[tuple[str, int], str]) -> None:
        self.default_tags = default_tags
        self.slots: dict[tuple[str, int], dict] = {}

    def add_values(self, slot: tuple[str, int], values: list[str]) -> None:
        self._slot(slot).setdefault("values", []).extend(values)

    def set(self, slot: tuple[str, int], part: str, value: object) -> None:
        if value is not None:
            self._slot(slot)[part] = value

    def set_street(self, slot: tuple[str, int], part: str, lines: list[str]) -> None:
        self._slot(slot).setdefault("street", {})[part] = lines

    def details(self, mark_subscribed: bool = False) -> dict:
        """The non-empty lists among emails, phones, addresses and websites, in slot order."""
        out: dict = {"emails": [], "phones": [], "addresses": [], "websites": []}
        for (kind, number) in sorted(self.slots):
            slot = self.slots[(kind, number)]
            tag = slot.get("tag") or self.default_tags.get((kind, number))
            if kind == "email":
                out["emails"] += [self._email(address, tag, slot, i == 0, mark_subscribed)
                                  for i, address in enumerate(slot.get("values", []))]
            elif kind == "phone":
                out["phones"] += [self._tagged({"number": number_text}, tag, slot.get("primary") and i == 0)
                                  for i, number_text in enumerate(slot.get("values", []))]
            elif kind == "website":
                out["websites"] += slot.get("values", [])
            elif (address := _address(slot, tag)):
                out["addresses"].append(address)
        for name in ("emails", "phones"):
            keep_first_primary(out[name])
        return {name: entries for name, entries in out.items() if entries}

    def _slot(self, slot: tuple[str, int]) -> dict:
        return self.slots.setdefault(slot, {})

    @staticmethod
    def _tagged(entry: dict, tag: str | None, primary: bool | None) -> dict:
        if tag:
            entry["tag"] = tag
        entry["primary"] = bool(primary)
        return entry

    def _email(self, address: str, tag: str | None, slot: dict, first: bool, mark_subscribed: bool) -> dict:
        email = self._tagged({"address": address}, tag, slot.get("primary") and first)
        status = slot.get("subscription_status")
        if mark_subscribed and status != "unsubscribed":
            status = "subscribed"
        if status:
            email["subscription_status"] = status
        if slot.get("deliverability"):
            email["deliverability"] = slot["deliverability"]
        return email


def _address(slot: dict, tag: str | None) -> dict | None:
    lines = [line for part in _STREET_PARTS for line in slot.get("street", {}).get(part, [])]
    if len(lines) > MAX_STREET_LINES:  # e.g. a two-line street plus Google's extended address and PO box
        lines = [*lines[: MAX_STREET_LINES - 1], ", ".join(lines[MAX_STREET_LINES - 1:])]
    address = {"street": lines} if lines else {}
    address.update({part: slot[part] for part in ("postal_code", "city", "region", "country") if slot.get(part)})
    if not address:
        return None
    return {"tag": tag, **address} if tag else address


def keep_first_primary(entries: list[dict]) -> None:
    """At most one primary entry: the first one flagged."""
    seen = False
    for entry in entries:
        entry["primary"] = entry["primary"] and not seen
        seen = seen or entry["primary"]
