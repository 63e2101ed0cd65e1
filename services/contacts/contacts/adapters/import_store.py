"""Imports in MongoDB: one record per uploaded file (`imports`), and its failed rows (`import_failures`).

The uploaded file itself is a sealed blob (upload_files.py, bucket `uploads`),
deleted when its import is deleted. Failed rows are keyed by import and row
number, so a batch that runs again (a resumed job) writes them once; their
cells and reasons are personal data, sealed with the import's key like its file.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Iterator

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.errors import NotFound
from crm_platform.mongo import insert_all_new
from crm_platform.personal_data import PersonalDataCipher, is_sealed


class ImportNotFound(NotFound):
    def __init__(self, import_id: str) -> None:
        super().__init__(f"import {import_id} does not exist in this account", import_id=import_id)


class ImportStore:
    def __init__(self, imports: Collection, failures: Collection, cipher: PersonalDataCipher) -> None:
        self.imports = imports
        self.failures = failures
        self._cipher = cipher

    def ensure_indexes(self) -> None:
        self.failures.create_index([("import_id", ASCENDING), ("row_number", ASCENDING)], name="import_rows")

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
