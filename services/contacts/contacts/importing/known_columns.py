"""Columns whose names say exactly what they hold: ours, Google's, Outlook's, and the failed-rows extras."""
from __future__ import annotations

from contacts.importing.failed_rows import ERROR_COLUMN, ROW_COLUMN
from contacts.importing.folding import fold
from contacts.importing.google_csv import google_hint
from contacts.importing.hints import IGNORED, ColumnHint
from contacts.importing.outlook_csv import outlook_hint
from contacts.importing.standard_columns import standard_hint

_FAILED_ROWS_COLUMNS = {fold(ERROR_COLUMN), fold(ROW_COLUMN)}


def known_hint(header: str) -> ColumnHint | None:
    """The hint of a column of a known format; IGNORED for known columns we do not import; else None."""
    if fold(header) in _FAILED_ROWS_COLUMNS:
        return IGNORED
    hints = [hint for hint in (standard_hint(header), google_hint(header), outlook_hint(header)) if hint]
    return next((hint for hint in hints if hint != IGNORED), IGNORED if hints else None)


def claims_name(header: str) -> bool:
    """True when a column of that name would not be read as a custom field of the same name."""
    hint = known_hint(header)
    return hint is not None and (hint != IGNORED or fold(header) in _FAILED_ROWS_COLUMNS)
