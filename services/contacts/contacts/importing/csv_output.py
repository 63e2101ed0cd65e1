"""Writing CSV in chunks: dialect for plain or French Excel, formula guard on every cell."""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import Iterable, Iterator

from contacts.importing.cell_values import guard_formula

ROWS_PER_CHUNK = 100


@dataclass(frozen=True)
class CsvStyle:
    """Plain: UTF-8, ',' and decimal points. French Excel: BOM, ';' and decimal commas."""

    delimiter: str = ","
    bom: bool = False
    decimal_comma: bool = False

    @classmethod
    def of(cls, excel_fr: bool) -> "CsvStyle":
        return cls(";", True, True) if excel_fr else cls()


def csv_chunks(header: list[str], rows: Iterable[list[str]], style: CsvStyle,
               rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[bytes]:
    """The header then the rows as UTF-8 bytes, one chunk per `rows_per_chunk` rows; CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator="\r\n")
    writer.writerow([guard_formula(name) for name in header])
    prefix, pending = (codecs.BOM_UTF8 if style.bom else b""), 1
    for row in rows:
        writer.writerow([guard_formula(cell) for cell in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield prefix + _take(buffer)
            prefix, pending = b"", 0
    if pending or prefix:
        yield prefix + _take(buffer)


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data
