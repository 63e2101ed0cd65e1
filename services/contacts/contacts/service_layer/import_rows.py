"""The rows of an uploaded file, read by an import job one batch at a time.

A job's items are batch starts (0, 500, 1,000...), run in order, then perhaps the
same one again (after an outage) or from anywhere (a job resumed by another
worker). Converting every row of the file at the first batch kept them all in
the worker: about 210 MB for 100,000 rows, against a k8s memory limit of 384 MiB.
A file's rows are now read from a position kept between batches: what stays in
memory is the decoded file (bounded by the upload limit, IMPORT_MAX_BYTES) and
the last batch, however many rows the file has.
"""
from __future__ import annotations

from collections import OrderedDict
from itertools import chain, islice
from typing import Callable, Iterable, Iterator

from contacts.importing import ConvertedRow

OpenRows = Callable[[], Iterator[object]]  # the file's rows from the first, cheap to skip (not converted yet)
ConvertRow = Callable[[object], ConvertedRow]


class FileRows:
    """One file's rows: `batch(start, size)` converts only the rows asked for."""

    def __init__(self, open_rows: OpenRows, convert: ConvertRow) -> None:
        self._open = open_rows
        self._convert = convert
        self._rows: Iterator[object] | None = None
        self._position = 0  # index of the next row self._rows yields
        self._last: tuple[int, int, list[ConvertedRow]] | None = None  # (start, size, rows) of the last batch
        self.at_end = False  # the last batch read held the file's last row

    def batch(self, start: int, size: int) -> list[ConvertedRow]:
        if self._last is not None and self._last[:2] == (start, size):
            return self._last[2]  # the same batch again: after an outage, the job runs an item again
        if self._rows is None or start < self._position:
            self._rows, self._position = self._open(), 0
        _skip(self._rows, start - self._position)
        raw = list(islice(self._rows, size + 1))  # one more: is there a row after this batch?
        self.at_end = len(raw) <= size
        if not self.at_end:
            self._rows, raw = chain(raw[-1:], self._rows), raw[:-1]
        rows = [self._convert(row) for row in raw]
        self._position = start + len(rows)
        self._last = (start, size, rows)
        return rows


class OpenFiles:
    """The FileRows of the last `keep` imports worked on (a worker runs one job at a time; two cover a hand-over)."""

    def __init__(self, keep: int = 2) -> None:
        self._files: OrderedDict[str, FileRows] = OrderedDict()
        self._keep = keep

    def rows_of(self, import_id: str, open_file: Callable[[], FileRows]) -> FileRows:
        if import_id not in self._files:
            self._files[import_id] = open_file()
            while len(self._files) > self._keep:
                self._files.popitem(last=False)
        self._files.move_to_end(import_id)
        return self._files[import_id]

    def forget(self, import_id: str) -> None:
        """Drop a file whose last batch was read: it holds everyone in it, and the job is done with it."""
        self._files.pop(import_id, None)

    def __len__(self) -> int:
        return len(self._files)


def _skip(rows: Iterable[object], count: int) -> None:
    for _ in islice(rows, count):
        pass
