"""Imports in MongoDB: one record per uploaded file (`imports`), and its failed rows (`import_failures`).

The uploaded file itself is a sealed blob (upload_files.py, bucket `uploads`),
deleted when its import is deleted. Failed rows are keyed by import and row
number, so a batch that runs again (a resumed job) writes them once; their
cells and reasons are personal data, sealed with the import's key like its file.
An import older than its retention is expired: refused on access at once, and
forgotten by the worker's sweep (service_layer/import_retention.py).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.errors import NotFound
from crm_platform.mongo import insert_all_new
from crm_platform.personal_data import PersonalDataCipher, is_sealed


class ImportNotFound(NotFound):
    def __init__(self, import_id: str) -> None:
        super().__init__(f"import {import_id} does not exist in this account", import_id=import_id)


class ImportExpired(NotFound):
    def __init__(self, import_id: str) -> None:
        super().__init__(f"import {import_id} expired: its file and failed rows are deleted after the retention "
                         "period; upload the file again", import_id=import_id)


EXPIRED = "expired"


class ImportStore:
    def __init__(self, imports: Collection, failures: Collection, cipher: PersonalDataCipher,
                 retention: timedelta = timedelta(days=7)) -> None:
        self.imports = imports
        self.failures = failures
        self._cipher = cipher
        self.retention = retention

    def ensure_indexes(self) -> None:
        self.failures.create_index([("import_id", ASCENDING), ("row_number", ASCENDING)], name="import_rows")
        self.imports.create_index([("created_at", ASCENDING)], name="created")

    @staticmethod
    def new_id() -> str:
        """An import's id, also the subject its file and failed rows are sealed under."""
        return f"import:{uuid.uuid4()}"

    def create(self, account_id: str, import_id: str, blob_id: str, file_name: str, file_format: str,
               size: int) -> dict:
        record = {"_id": import_id, "account_id": account_id, "blob_id": blob_id, "sealed": True,
                  "file_name": file_name, "format": file_format, "size": size, "status": "uploaded",
                  "job_id": None, "created_at": datetime.now(timezone.utc)}
        self.imports.insert_one(record)
        return record

    def get(self, account_id: str, import_id: str) -> dict:
        record = self.imports.find_one({"_id": import_id})
        if record is None or record["account_id"] != account_id:
            raise ImportNotFound(import_id)
        return record

    def live(self, account_id: str, import_id: str) -> dict:
        """The record of an import whose file can still be read; ImportExpired past its retention."""
        record = self.get(account_id, import_id)
        if self.is_expired(record):
            raise ImportExpired(import_id)
        return record

    def is_expired(self, record: dict, now: datetime | None = None) -> bool:
        created = record["created_at"]
        created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
        return record["status"] == EXPIRED or created < (now or datetime.now(timezone.utc)) - self.retention

    def past_retention(self, now: datetime | None = None) -> list[dict]:
        """Imports uploaded before the retention period and not forgotten yet."""
        cutoff = (now or datetime.now(timezone.utc)) - self.retention
        return list(self.imports.find({"created_at": {"$lt": cutoff}, "status": {"$ne": EXPIRED}}))

    def not_forgotten(self, account_id: str) -> list[dict]:
        """The account's imports whose file and failed rows are still kept (past their retention too, until swept)."""
        return list(self.imports.find({"account_id": account_id, "status": {"$ne": EXPIRED}}))

    def forgotten_by(self, account_id: str, request_event: str) -> list[dict]:
        """The account's imports that the privacy request of this event id forgot."""
        return list(self.imports.find({"account_id": account_id, "forgotten_by": request_event}))

    def expire(self, import_id: str, forgotten_by: str | None = None) -> None:
        """Delete the failed rows and what the record says of the file; the record stays, with its job (and the
        event id of the privacy request that forgot it, if one did)."""
        self.failures.delete_many({"import_id": import_id})
        marks = {"forgotten_by": forgotten_by} if forgotten_by else {}
        self.imports.update_one({"_id": import_id}, {
            "$set": {"status": EXPIRED, "expired_at": datetime.now(timezone.utc), **marks},
            "$unset": {"blob_id": "", "file_name": "", "settings.header": ""}})

    def started(self, import_id: str, job_id: str, settings: dict) -> bool:
        """Mark the import started by `job_id`; False if it was started already (a double click)."""
        result = self.imports.update_one({"_id": import_id, "status": "uploaded"},
                                         {"$set": {"status": "started", "job_id": job_id, "settings": settings}})
        return result.modified_count == 1

    def record_failures(self, account_id: str, import_id: str, failures: list[tuple[int, list[str], list[str]]]) -> None:
        if not failures:
            return
        with self._cipher.keys_ready([import_id], create=True):
            docs = [{"_id": f"{import_id}:{number:09d}", "import_id": import_id, "account_id": account_id,
                     "row_number": number, "row": self._cipher.seal(import_id, {"cells": cells, "reasons": reasons})}
                    for number, cells, reasons in failures]
        insert_all_new(self.failures, docs)  # those refused were written by an earlier run of the same batch

    def failed_rows(self, import_id: str) -> Iterator[tuple[int, list[str], list[str]]]:
        """Each failed row, in order; SubjectErased once the import was forgotten."""
        with self._cipher.keys_ready([import_id]):
            for doc in self.failures.find({"import_id": import_id}).sort("row_number", ASCENDING):
                row = self._cipher.open(doc["row"]) if is_sealed(doc.get("row")) else doc  # older rows: in clear
                yield doc["row_number"], row["cells"], row["reasons"]

    def delete(self, import_id: str) -> None:
        self.failures.delete_many({"import_id": import_id})
        self.imports.delete_one({"_id": import_id})
