"""Importing contacts from a CSV or vCard file: upload and preview, start a job, run it batch by batch.

1. `upload`: the file is kept as a blob and read once for the preview
   (detected encoding and delimiter, header, first rows, suggested mapping).
2. `start`: the mapping is checked, the custom fields it asks for and the
   labels named in the options are created, and a job is queued whose items
   are batches of ROWS_PER_BATCH rows.
3. `import_batch` (the worker): converts each row, creates or matches the
   contacts in bulk (bulk_create.create_many), adds the note a row brings
   (Google's "Notes") to its contact, and records every row that failed,
   with its cells and reasons, for the failed-rows CSV.
"""
from __future__ import annotations

from crm_platform.errors import CrmError
from crm_platform.jobs import JobStore
from crm_platform.outages import is_transient
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from contacts.adapters.import_store import ImportStore
from contacts.adapters.upload_files import UploadFiles
from contacts.domain import commands
from contacts.domain.custom_fields import CustomFieldSet, field_set_id
from contacts.importing import (
    ConvertedRow,
    ImportOptions,
    InvalidImportOptions,
    RowConverter,
    mapping_from_json,
    mapping_to_json,
    new_custom_fields,
    read_table,
    read_vcards,
    resolve_new_custom_fields,
    suggest_mapping,
)
from contacts.domain.notes import checked_text
from contacts.domain.option_lists import OptionKeyTaken, option_list_id
from contacts.importing.folding import fold
from contacts.service_layer import custom_field_handlers, label_handlers, option_handlers
from contacts.service_layer.bulk_create import ON_MATCH, DeletedSince, create_many
from contacts.service_layer.import_rows import FileRows, OpenFiles
from contacts.service_layer.imported_notes import HasNote, add_row_notes
from contacts.service_layer.label_handlers import FindLabelByName
from contacts.service_layer.unit_of_work import UnitOfWork

IMPORT_JOB = "import-contacts"
ROWS_PER_BATCH = 500
PREVIEW_ROWS = 10
VCARD_START = b"BEGIN:VCARD"




def file_format(file_name: str, data: bytes) -> str:
    head = data[:64].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    return "vcard" if file_name.lower().endswith((".vcf", ".vcard")) or head.startswith(VCARD_START) else "csv"


def upload(store: ImportStore, files: UploadFiles, account_id: str, file_name: str, data: bytes,
           custom_fields: list[dict]) -> dict:
    """Keep the file (sealed) and preview it; an unreadable file (UnreadableFile, 422) is not kept."""
    kind = file_format(file_name, data)
    body = preview(kind, data, None, None, custom_fields)
    import_id = store.new_id()
    blob = files.store(import_id, data, "text/vcard" if kind == "vcard" else "text/csv")
    record = store.create(account_id, import_id, blob.blob_id, file_name, kind, len(data))
    return {"id": record["_id"], "file_name": file_name, "status": record["status"], **body}


def preview(kind: str, data: bytes, encoding: str | None, delimiter: str | None, custom_fields: list[dict]) -> dict:
    if kind == "vcard":
        cards = list(read_vcards(data))
        return {"format": "vcard", "row_count": len(cards),
                "rows": [{"row_number": c.row_number, "details": c.details, "labels": c.label_names} for c in cards[:PREVIEW_ROWS]]}
    table = read_table(data, encoding, delimiter)
    rows = list(table.rows())
    return {"format": "csv", "encoding": table.encoding, "delimiter": table.delimiter, "header": table.header,
            "row_count": len(rows), "rows": [{"row_number": r.number, "cells": r.cells} for r in rows[:PREVIEW_ROWS]],
            "suggested_mapping": mapping_to_json(suggest_mapping(table.header, custom_fields))}


def start_import(cmd: commands.StartImport, uow: UnitOfWork, imports: ImportStore, uploads: UploadFiles, jobs: JobStore,
                 find_by_name: FindLabelByName) -> dict:
    """Check the settings, create the custom fields and labels they ask for, and queue the job."""
    account_id, import_id, settings = cmd.account_id, cmd.import_id, cmd.settings
    record = imports.live(account_id, import_id)
    if settings.on_match not in ON_MATCH:
        raise InvalidImportOptions("unknown on_match", errors={"on_match": [f"one of {', '.join(ON_MATCH)}"]})
    data = uploads.read(record)
    params: dict = {"import_id": import_id, "format": record["format"], "mark_subscribed": settings.mark_subscribed,
                    "on_match": settings.on_match}
    if record["format"] == "csv":
        table = read_table(data, settings.encoding, settings.delimiter)
        types = {f["key"]: f["type"] for f in cmd.custom_fields}
        raw = settings.mapping
        if raw is None:
            raw = mapping_to_json(suggest_mapping(table.header, cmd.custom_fields))
        mapping = mapping_from_json(raw, len(table.header), types)
        keys = {name: _custom_field_key(uow, account_id, name, type_) for name, type_ in new_custom_fields(mapping)}
        mapping = resolve_new_custom_fields(mapping, keys)
        params.update(encoding=table.encoding, delimiter=table.delimiter, header=table.header,
                      mapping=mapping_to_json(mapping))
        total = sum(1 for _ in table.rows())
    else:
        total = sum(1 for _ in read_vcards(data))
    params["label_keys"] = [_label_key(uow, find_by_name, account_id, name) for name in dict.fromkeys(settings.labels)]
    params["total_rows"] = total
    job = jobs.submit(account_id, IMPORT_JOB, list(range(0, total, ROWS_PER_BATCH)), params)
    if not imports.started(import_id, job["_id"], {k: v for k, v in params.items() if k != "import_id"}):
        jobs.request_cancel(account_id, job["_id"])
        raise InvalidImportOptions("this import was started already", errors={"_schema": ["started already"]})
    return job


class ImportBatches:
    """The worker's step for import jobs; keeps the file it works on open at the next batch (import_rows.py)."""

    def __init__(self, store: ImportStore, blobs: UploadFiles, uow_factory, find_label: FindLabelByName,
                 default_region: str, deleted_since: DeletedSince = lambda account, ids: set(),
                 has_note: HasNote = lambda account, contact, text: False, keep: int = 2,
                 restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> None:
        self._store = store
        self._blobs = blobs
        self._uow_factory = uow_factory
        self._find_label = find_label
        self._default_region = default_region
        self._deleted_since = deleted_since
        self._has_note = has_note
        self._restrictions = restrictions
        self._files = OpenFiles(keep)

    def __call__(self, job: dict, start: int) -> dict:
        params, account_id = job["params"], job["account_id"]
        file_rows = self._files.rows_of(params["import_id"], lambda: self._file_rows(job))
        batch = file_rows.batch(start, ROWS_PER_BATCH)
        if file_rows.at_end:  # the decoded file holds everyone in it: not kept past its last batch
            self._files.forget(params["import_id"])
        uow = self._uow_factory()
        failures: list[tuple[int, list[str], list[str]]] = []
        good: list[ConvertedRow] = []
        details: list[dict] = []
        row_labels: list[list[str]] = []
        options = OptionsByName(uow, account_id)
        label_keys: dict[str, str] = {}  # name -> key, for this batch
        for row in batch:
            if row.problems:
                failures.append((row.row_number, row.cells, [str(p) for p in row.problems]))
                continue
            try:  # a label, option or note the row names may be refused (too long, list full): that row fails alone
                if row.note:
                    checked_text(row.note)
                for name in row.label_names:
                    if name not in label_keys:
                        label_keys[name] = _label_key(uow, self._find_label, account_id, name)
                resolved = options.with_keys(row.details)
            except CrmError as exc:
                if is_transient(exc):
                    raise  # an outage is no fault of the row: the job runner waits it out and runs the batch again
                failures.append((row.row_number, row.cells, [_error_text(exc)]))
                continue
            good.append(row)
            details.append(resolved)
            row_labels.append([label_keys[name] for name in row.label_names])
        outcomes = create_many(uow, account_id, details, on_match=params["on_match"],
                               labels=params["label_keys"], row_labels=row_labels, default_region=self._default_region,
                               deleted_since=self._deleted_since, restrictions=self._restrictions)
        outcomes = add_row_notes(uow, account_id, params["import_id"], good, outcomes, self._has_note)
        for row, outcome in zip(good, outcomes):
            if outcome.status == "failed":
                failures.append((row.row_number, row.cells, _reasons(outcome)))
        self._store.record_failures(account_id, params["import_id"], sorted(failures))
        counts = {"rows": len(batch), "failed": len(failures)}
        for status in ("created", "updated", "skipped"):
            counts[status] = sum(outcome.status == status for outcome in outcomes)
        return counts

    def _file_rows(self, job: dict) -> FileRows:
        params = job["params"]
        data = self._blobs.read(self._store.live(job["account_id"], params["import_id"]))
        options = ImportOptions(mark_subscribed=params["mark_subscribed"])
        if params["format"] == "vcard":  # a card is converted as it is parsed: skipping one costs as much
            return FileRows(lambda: read_vcards(data, options), lambda card: _with_cells(card, []))
        table = read_table(data, params["encoding"], params["delimiter"])  # keeps the decoded text, not `data`
        types = self._types(job["account_id"])
        converter = RowConverter(mapping_from_json(params["mapping"], len(table.header), types), types,
                                 options, table.header)
        return FileRows(table.rows, lambda row: _with_cells(converter.convert(row.cells, row.number), row.cells))

    def _types(self, account_id: str) -> dict[str, str]:
        with self._uow_factory() as uow:
            return uow.custom_fields.find_or_blank(account_id, field_set_id(account_id)).types


def _with_cells(row: ConvertedRow, cells: list[str]) -> ConvertedRow:
    row.cells = list(cells)  # kept for the failed-rows file
    return row


def _error_text(exc: CrmError) -> str:
    fields = [f"{path}: {', '.join(messages)}" for path, messages in _flatten(getattr(exc, "errors", {}) or {})]
    return "; ".join(fields) or exc.detail


def _reasons(outcome) -> list[str]:
    if not outcome.errors:
        return [outcome.reason or "refused"]
    return [f"{path}: {', '.join(messages)}" for path, messages in _flatten(outcome.errors)]


def _flatten(errors: dict, prefix: str = ""):
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from _flatten(value, path)
        else:
            yield path, value


class OptionsByName:
    """Files name a function or department: the option of that name (any case or accents), created if missing.

    One per batch: each list is read once.
    """

    def __init__(self, uow: UnitOfWork, account_id: str) -> None:
        self._uow = uow
        self._account_id = account_id
        self._lists: dict[str, dict[str, str]] = {}  # kind -> folded name or key -> key

    def with_keys(self, details: dict) -> dict:
        out = dict(details)
        for field, kind in (("function", "functions"), ("department", "departments")):
            if out.get(field):
                out[field] = self._key(kind, out[field])
        return out

    def _key(self, kind: str, name: str) -> str:
        if kind not in self._lists:
            with self._uow:
                list_id = option_list_id(self._account_id, kind)
                options = self._uow.option_lists.find_or_blank(self._account_id, list_id).options
            self._lists[kind] = {**{key: key for key in options}, **{fold(n): key for key, n in options.items()}}
        known = self._lists[kind]
        if (key := known.get(name) or known.get(fold(name))) is None:
            try:
                key = option_handlers.add_option(commands.AddOption(self._account_id, kind, name), self._uow)[1]
            except OptionKeyTaken as exc:  # created meanwhile by another batch
                key = exc.extra["option_key"]
            known[fold(name)] = key
        return key


def _label_key(uow: UnitOfWork, find_label: FindLabelByName, account_id: str, name: str) -> str:
    return label_handlers.find_or_create_label(commands.FindOrCreateLabel(account_id, name), uow, find_label).key


def _custom_field_key(uow: UnitOfWork, account_id: str, name: str, type_: str) -> str:
    """The key of the account's field with this name and type, created when there is none."""
    with uow:
        field_set: CustomFieldSet = uow.custom_fields.find_or_blank(account_id, field_set_id(account_id))
    for key, spec in field_set.fields.items():
        if spec["name"].casefold() == name.casefold() and spec["type"] == type_:
            return key
    return custom_field_handlers.add_custom_field(commands.AddCustomField(account_id, name, type_), uow)[1]
