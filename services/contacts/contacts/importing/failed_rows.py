"""The rows an import could not take, as a CSV to fix and upload again.

It keeps the original columns in their order (so a saved mapping still fits)
and appends "Error" and "Row". suggest_mapping skips both on re-import, and a
file that fails again does not grow a second pair.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from contacts.importing.csv_output import CsvStyle, csv_chunks
from contacts.importing.folding import fold

ERROR_COLUMN = "Error"
ROW_COLUMN = "Row"


def failed_rows_csv(header: Sequence[str], failed: Iterable[tuple[int, Sequence[str], Sequence[str]]],
                    style: CsvStyle | None = None) -> bytes:
    """CSV bytes of `failed` (row number, original cells, reasons), reasons joined in the Error column, in
    `style` (plain UTF-8 CSV by default; CsvStyle.like_upload for the uploaded file's encoding and delimiter)."""
    original = list(header)
    if [fold(name) for name in original[-2:]] == [fold(ERROR_COLUMN), fold(ROW_COLUMN)]:
        original = original[:-2]
    width = len(original)
    rows = (
        [*_fitted(cells, width), "; ".join(reasons), str(number)]
        for number, cells, reasons in failed
    )
    return b"".join(csv_chunks([*original, ERROR_COLUMN, ROW_COLUMN], rows, style or CsvStyle()))


def _fitted(cells: Sequence[str], width: int) -> list[str]:
    cells = list(cells[:width])
    return cells + [""] * (width - len(cells))
