"""The note an imported row brings (Google's "Notes" column), added to the contact the row created or updated.

A note is its own aggregate, stored after the contacts of the batch: its id is
derived from the import and the row, so a batch run again (a resumed or
retried job) adds it once; a file imported again (another import) brings the
same text, which the contact has already: it is not added twice either.
"""
from __future__ import annotations

from typing import Callable, Sequence

from crm_platform.errors import DependencyUnavailable

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound, MergeNotFinished
from contacts.importing import ConvertedRow
from contacts.service_layer.bulk_create import IMPORTED_BEFORE, NOTHING_NEW, RowOutcome
from contacts.service_layer.note_handlers import add_imported_note, imported_note_id
from contacts.service_layer.unit_of_work import UnitOfWork


class NoteMidMerge(DependencyUnavailable):
    """A merge is moving the contact's notes right now: like an outage, the job waits and runs the batch again
    (its note's id comes from the import and row, so the run again files the note stored now, and adds none)."""

    def __init__(self) -> None:
        super().__init__("a merge is moving the notes of a row's contact; the batch runs again shortly")


HasNote = Callable[[str, str, str], bool]  # (account, contact id, text) -> the contact has a live note with that text


def add_row_notes(uow: UnitOfWork, account_id: str, import_id: str, rows: Sequence[ConvertedRow],
                  outcomes: list[RowOutcome], has_note: HasNote) -> list[RowOutcome]:
    """The outcomes, a row whose only news was its note counted as an update."""
    result = []
    for row, outcome in zip(rows, outcomes):
        if not (row.note and _takes_the_rows_values(outcome)):
            result.append(outcome)
            continue
        cmd = commands.AddImportedNote(account_id, outcome.contact_id, import_id, row.row_number, row.note)
        # The contact has the text already: from another import (nothing to add), or from an earlier run of
        # this batch, which stored this very note and may have stopped before filing it (file it now).
        if not has_note(account_id, outcome.contact_id, row.note) or _stored_before(uow, cmd):
            try:
                added = add_imported_note(cmd, uow)
            except ContactNotFound:  # the contact was deleted meanwhile: there is nothing to add the note to
                added = False
            except MergeNotFinished as busy:  # stored, not filed: the batch run again files it (note_handlers)
                raise NoteMidMerge() from busy
            if added and outcome.reason == NOTHING_NEW:
                outcome = RowOutcome("updated", outcome.contact_id)
        result.append(outcome)
    return result


def _stored_before(uow: UnitOfWork, cmd: commands.AddImportedNote) -> bool:
    with uow:
        return uow.notes.ever_existed(imported_note_id(cmd))


def _takes_the_rows_values(outcome: RowOutcome) -> bool:
    """Created or updated by the row (now or by an earlier run of its batch); not a row skipped as a match."""
    return outcome.status in ("created", "updated") or outcome.reason in (IMPORTED_BEFORE, NOTHING_NEW)
