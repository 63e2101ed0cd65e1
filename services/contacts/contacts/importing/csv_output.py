"""Writing CSV in chunks: dialect for plain or French Excel, or like an uploaded file; formula guard on every cell."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Iterable, Iterator

from contacts.importing.cell_values import guard_formula
from contacts.importing.decoding import writing_encoding

ROWS_PER_CHUNK = 100


@dataclass(frozen=True)
class CsvStyle:
    """Plain: UTF-8, ',' and decimal points. French Excel: BOM, ';' and decimal commas."""

    delimiter: str = ","
    bom: bool = False
    decimal_comma: bool = False
    encoding: str = "utf-8"  # a character the encoding lacks is written as its stand-in ('?')

    @classmethod
    def of(cls, excel_fr: bool) -> "CsvStyle":
        return cls(";", True, True) if excel_fr else cls()

    @classmethod
    def like_upload(cls, encoding: str, delimiter: str) -> "CsvStyle":
        """The style of an uploaded file, read with this (detected or given) encoding and delimiter."""
        codec, bom = writing_encoding(encoding)
        return cls(delimiter, bom, encoding=codec)


def csv_chunks(header: list[str], rows: Iterable[list[str]], style: CsvStyle,
               rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[bytes]:
    """The header then the rows as bytes in the style's encoding, one chunk per `rows_per_chunk` rows; CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator="\r\n")
    writer.writerow([guard_formula(name) for name in header])
    prefix, pending = ("\ufeff".encode(style.encoding) if style.bom else b""), 1
    for row in rows:
        writer.writerow([guard_formula(cell) for cell in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield prefix + _take(buffer, style.encoding)
            prefix, pending = b"", 0
    if pending or prefix:
        yield prefix + _take(buffer, style.encoding)


def _take(buffer: io.StringIO, encoding: str) -> bytes:
    data = buffer.getvalue().encode(encoding, errors="replace")
    buffer.seek(0)
    buffer.truncate()
    return data
