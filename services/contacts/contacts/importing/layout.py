"""How many email, phone, address and website columns an export has, and which custom fields.

The caller computes it before streaming (e.g. with a database aggregation, or
by folding `widened_for` over a first pass), so writers never hold all rows.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from contacts.importing.errors import LayoutTooSmall

SLOT_FIELDS = ("emails", "phones", "addresses", "websites")


@dataclass(frozen=True)
class ExportLayout:
    """Entry columns per kind and the custom fields (one column each) of a standard or Google CSV export."""

    emails: int = 1
    phones: int = 1
    addresses: int = 1
    websites: int = 1
    custom_fields: tuple[dict, ...] = ()  # {"key", "name", "type"} in the account's order

    @classmethod
    def fitting(cls, contacts: Iterable[dict], custom_fields: Iterable[dict] = ()) -> "ExportLayout":
        """The smallest layout (at least one slot of each) for these contacts; reads them all."""
        layout = cls(custom_fields=tuple(custom_fields))
        for contact in contacts:
            layout = layout.widened_for(contact)
        return layout

    def widened_for(self, contact: dict) -> "ExportLayout":
        counts = {name: max(getattr(self, name), len(contact.get(name) or ())) for name in SLOT_FIELDS}
        return replace(self, **counts)

    def check_fits(self, contact: dict) -> None:
        for name in SLOT_FIELDS:
            if len(contact.get(name) or ()) > getattr(self, name):
                raise LayoutTooSmall(f"a contact has {len(contact[name])} {name}, the layout has {getattr(self, name)}")
