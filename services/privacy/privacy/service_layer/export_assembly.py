"""One ZIP of everything the services hold of a person (GDPR Art. 15 and 20), from their parts in the exchange.

Layout:

    manifest.json              the request (no personal data) and, per service: what it holds and why (`about`),
                               item counts, its files, and the SHA-256 and size of each of its members
    <service>/data.json        the service's data, machine-readable (Art. 20)
    <service>/<key>.csv        each top-level list of objects in that data, one row per object
    <service>/<file name>      each file of the part (attachments, pictures, invoice PDFs)

The ZIP is built in a spooled temporary file (on disk beyond a few MiB) and files are copied chunk by chunk, so
a large export never sits in memory whole; it is then written to the exchange, sealed as the parts are.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tempfile
import time
import zipfile
from typing import IO, Iterable, Iterator

from crm_platform.privacy_exchange import ExportExchange

MANIFEST_NAME, MANIFEST_FORMAT = "manifest.json", "crm-subject-export/1"
ZIP_CONTENT_TYPE = "application/zip"
SPOOL_MAX_BYTES = 8 * 1024 * 1024
COPY_PIECE_BYTES = 256 * 1024
EXPORTED, HOLDS_NOTHING = "exported", "holds nothing"
# a cell starting with one of these is taken for a formula by spreadsheets (OWASP, "CSV Injection")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")  # Windows refuses several


def assemble_export(request_id: str, parts: dict[str, str | None], exchange: ExportExchange,
                    request_summary: dict) -> tuple[str, int]:
    """Write the export ZIP of a request into the exchange; its blob id and length in bytes."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES) as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            folders = _Names(reserved=[MANIFEST_NAME])
            services = {}
            for service in sorted(parts):
                blob_id = parts[service]
                folder = folders.unique(_safe_name(service))
                services[service] = (_add_part(archive, folder, exchange, request_id, blob_id)
                                     if blob_id else {"status": HOLDS_NOTHING})
            manifest = {"format": MANIFEST_FORMAT, "request": request_summary, "services": services}
            archive.writestr(MANIFEST_NAME, _json(manifest))
        spool.seek(0)
        info = exchange.write_file(request_id, _pieces(spool), ZIP_CONTENT_TYPE)
    return info.blob_id, info.length


def _add_part(archive: zipfile.ZipFile, folder: str, exchange: ExportExchange, request_id: str,
              blob_id: str) -> dict:
    part = exchange.read_part(request_id, blob_id)
    data = part.get("data") or {}
    names = _Names()
    data_json = _json(data)
    members = [_write(archive, f"{folder}/{names.unique('data.json')}", [data_json], len(data_json))]
    for key, rows in data.items():
        if _is_table(rows):
            table = _csv(rows)
            members.append(_write(archive, f"{folder}/{names.unique(_safe_name(key) + '.csv')}", [table], len(table)))
    files = []
    for file in part.get("files", []):
        info, contents = exchange.open_file(request_id, file["blob_id"])
        member = _write(archive, f"{folder}/{names.unique(_safe_path(file['name']))}", contents, info.length)
        members.append(member)
        files.append({"name": member["name"], "content_type": file["content_type"], "size": member["size"]})
    return {"status": EXPORTED, "about": part.get("about", {}), "items": _counts(data), "files": files,
            "members": members}


def _write(archive: zipfile.ZipFile, name: str, pieces: Iterable[bytes], expected_size: int) -> dict:
    """Copy the pieces into a new member, as they come; its name, size and SHA-256."""
    entry = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
    entry.file_size = expected_size  # tells zipfile whether the member needs ZIP64 (beyond 4 GiB)
    digest, size = hashlib.sha256(), 0
    with archive.open(entry, "w") as member:
        for piece in pieces:
            member.write(piece)
            digest.update(piece)
            size += len(piece)
    return {"name": name, "size": size, "sha256": digest.hexdigest()}


def _counts(data: dict) -> dict:
    return {key: len(value) if isinstance(value, list) else int(value is not None) for key, value in data.items()}


# --- CSV ----------------------------------------------------------------------------------------------------

def _is_table(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(row, dict) for row in value)


def _csv(rows: list[dict]) -> bytes:
    """The rows as CSV, in UTF-8 with a BOM (which spreadsheets need to read it as UTF-8). Whole: the part's data
    it comes from is in memory already (files are what can be large, and they are copied chunk by chunk)."""
    columns = list(dict.fromkeys(column for row in rows for column in row))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([_cell(column) for column in columns])
    writer.writerows([_cell(row.get(column)) for column in columns] for row in rows)
    return text.getvalue().encode("utf-8-sig")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a number is never a formula: -5 stays a number
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)  # nested: JSON in the cell


# --- names --------------------------------------------------------------------------------------------------

def _safe_path(name: str) -> str:
    """A relative path inside the service's folder: no `..`, no absolute path, no drive, no control characters."""
    segments = (_segment(segment) for segment in str(name).replace("\\", "/").split("/"))
    return "/".join(segment for segment in segments if segment) or "file"


def _safe_name(name: str) -> str:
    return _segment(name) or "_"


def _segment(name: str) -> str:
    """One path segment that extracts where it says on every system (empty for `.`, `..` and blanks)."""
    return _UNSAFE_NAME_CHARACTERS.sub("_", str(name)).strip(" .")[:200]


class _Names:
    """Names not yet used in one folder: a second `notes.pdf` becomes `notes-2.pdf`."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._used = {name.lower() for name in reserved}

    def unique(self, name: str) -> str:
        stem, dot, suffix = name.rpartition(".") if "." in name.rsplit("/", 1)[-1] else (name, "", "")
        candidate, number = name, 1
        while candidate.lower() in self._used:
            number += 1
            candidate = f"{stem}-{number}{dot}{suffix}"
        self._used.add(candidate.lower())
        return candidate


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _pieces(file: IO[bytes]) -> Iterator[bytes]:
    return iter(lambda: file.read(COPY_PIECE_BYTES), b"")
