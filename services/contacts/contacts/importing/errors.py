"""Typed errors of the import/export format layer.

The first three are input problems the app shell renders as 422 with
field-level `errors`; `LayoutTooSmall` is a caller bug (the export layout was
computed from the wrong data) and is never shown to a client.
"""
from __future__ import annotations

from crm_platform.errors import InvalidInput


class InvalidImportOptions(InvalidInput):
    """An encoding or delimiter override that cannot be used; `errors` names the option."""


class UnreadableFile(InvalidInput):
    """The file cannot be read as a table or as vCards (empty, undecodable, broken quoting)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors={"file": [detail]})


class InvalidMapping(InvalidInput):
    """A column mapping with problems; `errors` is {"columns": {"<index>": [...]}} (0-based indexes)."""


class LayoutTooSmall(ValueError):
    """A contact has more entries than the export layout has columns for (compute the layout first)."""
