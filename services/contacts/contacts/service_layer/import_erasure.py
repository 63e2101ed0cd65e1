"""Uploaded import files and their failed rows that mention a person being erased (issue 13): forgotten whole.

An import is sealed with a key of its own (`import:<id>`, upload_files.py), not per person, so no erasure of a
contact reaches inside it. An erasure therefore searches every import of the account that is not forgotten yet
(its file, then its failed rows) for the person's email addresses and phone numbers, collected while their
contacts are still readable, and forgets each import that mentions them as the retention sweep does
(import_retention.py): key shredded, file and failed rows deleted, the record kept with its job's counts.
Forgetting a whole import is acceptable: imports are transient, and their other rows were applied already.

A phone matches on its national number's digits, however the file writes it (`06 12 34 56 78`, `+33 6...`);
an address matches case-insensitively, in folded vCard lines too. A false match forgets an import too many,
never one too few. The record notes which request forgot it, so that the same request run again (its reply
lost in a crash) lists the import's key once more.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable

import phonenumbers

from crm_platform.personal_data import SubjectErased

from contacts.adapters.import_store import ImportStore
from contacts.adapters.upload_files import UploadFiles
from contacts.importing.decoding import decode
from contacts.importing.errors import UnreadableFile

# imports read at once: each whole, up to IMPORT_MAX_BYTES (15 MiB), held with its decoded text and a case-folded
# copy (45-90 MiB each at worst): two stay inside the worker's memory limit (384 MiB in deploy/k8s/base)
SEARCH_THREADS = 2
MIN_PHONE_DIGITS = 6  # shorter national numbers (short codes) would match any number
_PHONE_LIKE = re.compile(r"\+?\d[\d\s().\-/]{4,}\d")
_FOLDED_LINE = re.compile(r"\r?\n[ \t]")


@dataclass(frozen=True)
class Mentions:
    """What identifies a person in an uploaded file: their addresses (case-folded), their phones' national digits."""

    emails: frozenset[str] = frozenset()
    phone_digits: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.emails or self.phone_digits)

    def found_in(self, text: str) -> bool:
        text = _FOLDED_LINE.sub("", text).casefold()
        if any(address in text for address in self.emails):
            return True
        digits = {re.sub(r"\D", "", run) for run in _PHONE_LIKE.findall(text)}
        return any(found.endswith(number) for found in digits for number in self.phone_digits)


def mentions_of(emails: Iterable[str], phones: Iterable[str]) -> Mentions:
    """The mentions of these addresses and numbers (E.164, as contacts keeps them)."""
    return Mentions(frozenset(address.strip().casefold() for address in emails if address and address.strip()),
                    frozenset(digits for digits in map(_national_digits, phones) if len(digits) >= MIN_PHONE_DIGITS))


ForgetImports = Callable[[str, Mentions, "str | None"], list[str]]  # (account, mentions, request event) -> import ids


def forget_imports_mentioning(imports: ImportStore, uploads: UploadFiles, account_id: str, mentions: Mentions,
                              request_event: str | None) -> list[str]:
    """Forget the account's imports that mention the person; the ids of those this request forgot (now, or in an
    earlier run of the same request: `request_event`, its event id)."""
    forgotten = [record["_id"] for record in imports.forgotten_by(account_id, request_event)] if request_event else []
    if not mentions:
        return forgotten
    records = imports.not_forgotten(account_id)
    # each import read on a few threads (its key, file, failed rows: a few round trips): the account's imports of
    # the retention period, not the person's, so one after the other they made an erasure slower with every upload
    with ThreadPoolExecutor(min(SEARCH_THREADS, len(records) or 1), thread_name_prefix="import-search") as pool:
        mentioning = list(pool.map(lambda record: _mentioned(imports, uploads, record, mentions), records))
    for record, mentioned in zip(records, mentioning):
        if not mentioned:
            continue
        destroyed = uploads.forget(record)
        imports.expire(record["_id"], forgotten_by=request_event)
        if destroyed and record["_id"] not in forgotten:
            forgotten.append(record["_id"])
    return forgotten


def _mentioned(imports: ImportStore, uploads: UploadFiles, record: dict, mentions: Mentions) -> bool:
    try:
        if record.get("blob_id") and mentions.found_in(_text(uploads.read(record))):
            return True
        return any(mentions.found_in("\n".join([*cells, *reasons]))
                   for _, cells, reasons in imports.failed_rows(record["_id"]))
    except SubjectErased:  # its key shredded already (forgotten, the record not marked yet): nothing to read
        return False


def _text(data: bytes) -> str:
    try:
        return decode(data)[0]
    except UnreadableFile:  # no encoding fits: search what reads as text
        return data.decode("utf-8", "replace")


def _national_digits(number: str) -> str:
    try:
        return str(phonenumbers.parse(number, None).national_number)
    except phonenumbers.NumberParseException:  # not E.164 (an older value): its digits as written
        return re.sub(r"\D", "", number or "").lstrip("0")
