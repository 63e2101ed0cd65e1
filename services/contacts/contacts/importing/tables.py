"""Read an uploaded CSV or Excel text export as a header and numbered rows.

Rows are numbered as a spreadsheet shows them: the header is row 1 (unless
blank lines or Excel's `sep=` line come first), every record counts one even
when a quoted cell spans several lines, and blank lines are skipped but still
counted, so "row 12" in an error is row 12 in Excel.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from typing import Iterator

from contacts.importing.decoding import decode
from contacts.importing.errors import InvalidImportOptions, UnreadableFile

DELIMITERS = (",", ";", "\t")
_SAMPLE_CHARS = 64 * 1024


@dataclass(frozen=True)
class Row:
    """One data row of a table."""

    number: int  # 1-based, as a spreadsheet counts rows; the first data row is usually 2
    cells: list[str]  # padded to the header's width; longer when the row has extra non-empty cells


@dataclass(frozen=True)
class Table:
    """A decoded table: how it was read, its header, and its rows (read lazily, as often as needed)."""

    encoding: str
    delimiter: str
    header: list[str]
    header_row: int
    text: str = field(repr=False)

    def rows(self) -> Iterator[Row]:
        """Data rows after the header, blank ones skipped; raises UnreadableFile on broken quoting."""
        records = _records(self.text, self.delimiter)
        for number, cells in records:
            if number > self.header_row and _trimmed(cells):
                yield Row(number, _fitted(cells, len(self.header)))


def read_table(data: bytes, encoding: str | None = None, delimiter: str | None = None) -> Table:
    """Decode `data` and find its delimiter (or use the overrides) and header.

    Raises InvalidImportOptions for a bad override, UnreadableFile for an empty
    or undecodable file.
    """
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise InvalidImportOptions(
            "the delimiter must be one character other than a quote or a line break",
            errors={"delimiter": [f"one character such as ',' ';' or a tab, not {delimiter!r}"]},
        )
    text, used_encoding = decode(data, encoding)
    declared = _declared_delimiter(text)
    chosen = delimiter or declared or detect_delimiter(text)
    for number, cells in _records(text, chosen):
        if _trimmed(cells) and not (declared and number == 1):
            header = [cell.replace("\ufeff", "").strip() for cell in _trimmed(cells)]
            return Table(used_encoding, chosen, header, number, text)
    raise UnreadableFile("the file is empty: no header row")


def detect_delimiter(text: str) -> str:
    """The delimiter among , ; and tab that splits the first records into the most consistent table.

    Consistent means the header has several columns and the rows have no more
    non-empty cells than the header; ties go to the wider header, then to the
    order , ; tab.
    """
    sample = _sample(text)
    scores = []
    for position, candidate in enumerate(DELIMITERS):
        records = [_trimmed(cells) for _, cells in _records(sample, candidate, strict=False)]
        records = [cells for cells in records if cells]
        if not records:
            continue
        width, rows = len(records[0]), records[1:]
        fitting = sum(len(cells) <= width for cells in rows) / len(rows) if rows else 1.0
        exact = sum(len(cells) == width for cells in rows) / len(rows) if rows else 1.0
        scores.append(((width > 1, fitting, exact, width, -position), candidate))
    return max(scores)[1] if scores else ","


def _sample(text: str) -> str:
    """The start of the text, cut at a line end (a cut inside quotes only costs the last record)."""
    if len(text) <= _SAMPLE_CHARS:
        return text
    head = text[:_SAMPLE_CHARS]
    return head[: head.rfind("\n") + 1] or head


def _records(text: str, delimiter: str, strict: bool = True) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(_lines(text), delimiter=delimiter)
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, cells
    except csv.Error as exc:
        if strict:
            raise UnreadableFile(f"row {number + 1} cannot be read: {exc}") from None


# A line and its end (\r\n, \r or \n: what io.StringIO(text, newline="") splits on), or the last line without one.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """The text's lines one at a time, ends kept for the csv module. Not io.StringIO, which copies the whole
    text at 4 bytes a character: an import job keeps a reader open on its file between batches."""
    return (match.group() for match in _LINE.finditer(text))


def _declared_delimiter(text: str) -> str | None:
    """Excel's optional first line `sep=;` names the delimiter; it is not part of the table."""
    first = text[:6].partition("\n")[0].rstrip("\r")
    return first[4] if first.lower().startswith("sep=") and len(first) == 5 else None


def _trimmed(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _fitted(cells: list[str], width: int) -> list[str]:
    cells = cells[:width] + _trimmed(cells[width:])
    return cells + [""] * (width - len(cells))
