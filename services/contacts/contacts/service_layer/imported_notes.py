"""The note an imported row brings (Google's "Notes" column), added to the contact the row created or updated.

A note is its own aggregate, stored after the contacts of the batch: its id is
derived from the import and the row, so a batch run again (a resumed or
retried job) adds it once; a file imported again (another import) brings the
same text, which the contact has already: it is not added twice either.
"""
from __future__ import annotations

from typing import Callable, Sequence

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound, MergeNotFinished
from contacts.importing import ConvertedRow
from contacts.service_layer.bulk_create import IMPORTED_BEFORE, NOTHING_NEW, RowOutcome
from contacts.service_layer.note_handlers import add_imported_note
from contacts.service_layer.unit_of_work import UnitOfWork

NOTE_NOT_FILED = ("its note could not be added while its contact was being merged: import the row again, "
                  "updating matching contacts")
HasNote = Callable[[str, str, str], bool]  # (account, contact id, text) -> the contact has a live note with that text


def add_row_notes(uow: UnitOfWork, account_id: str, import_id: str, rows: Sequence[ConvertedRow],
                  outcomes: list[RowOutcome], has_note: HasNote) -> list[RowOutcome]:
    """The outcomes, a row whose only news was its note counted as an update."""
    result = []
    for row, outcome in zip(rows, outcomes):
        if row.note and _takes_the_rows_values(outcome) and not has_note(account_id, outcome.contact_id, row.note):
            cmd = commands.AddImportedNote(account_id, outcome.contact_id, import_id, row.row_number, row.note)
            try:
                added = add_imported_note(cmd, uow)
            except ContactNotFound:  # the contact was deleted meanwhile: there is nothing to add the note to
                added = False
            except MergeNotFinished:  # stored, not filed: a run of the row again files it (note_handlers)
                result.append(RowOutcome("failed", outcome.contact_id, NOTE_NOT_FILED))
                continue
            if added and outcome.reason == NOTHING_NEW:
                outcome = RowOutcome("updated", outcome.contact_id)
        result.append(outcome)
    return result


def _takes_the_rows_values(outcome: RowOutcome) -> bool:
    """Created or updated by the row (now or by an earlier run of its batch); not a row skipped as a match."""
    return outcome.status in ("created", "updated") or outcome.reason in (IMPORTED_BEFORE, NOTHING_NEW)
