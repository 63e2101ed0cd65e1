"""Forgetting uploaded import files and their failed rows after the retention period (IMPORT_RETENTION_DAYS).

No TTL index (FerretDB has none): the worker sweeps, and the store refuses an
import past its retention on access even before the sweep came. Forgetting
shreds the import's key first, so whatever copy of the file's chunks or failed
rows lies anywhere is unreadable from then on, then deletes them. The record
stays (its job's counts), marked expired, without the file's name.
"""
from __future__ import annotations

import logging

from crm_platform.errors import Conflict, NotFound
from crm_platform.jobs import JobStore
from crm_platform.liveness import still_working
from crm_platform.worker_runtime import Loop, every

from contacts.adapters.import_store import ImportStore
from contacts.adapters.upload_files import UploadFiles

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 3600.0


def forget_expired_imports(imports: ImportStore, uploads: UploadFiles, jobs: JobStore) -> int:
    """Forget every import past the store's retention whose job does not run any more; how many were forgotten.

    Says it is still working after each import: a sweep over many large files may outlast the
    worker's stuck-loop bound (crm_platform.liveness).
    """
    forgotten = 0
    for record in imports.past_retention():
        if not _job_runs(jobs, record):  # else forgotten by a later sweep, once its job has ended
            uploads.forget(record)
            imports.expire(record["_id"])
            forgotten += 1
        still_working()
    return forgotten


def delete_import(imports: ImportStore, uploads: UploadFiles, jobs: JobStore, account_id: str, import_id: str) -> None:
    """Forget an import's file and failed rows now, at its owner's request; Conflict while its job runs."""
    record = imports.get(account_id, import_id)
    if _job_runs(jobs, record):
        raise Conflict("the import is running: cancel its job first (POST /v1/jobs/{id}/cancel)",
                       job_id=record["job_id"])
    uploads.forget(record)
    imports.delete(import_id)


def sweep_loop(imports: ImportStore, uploads: UploadFiles, jobs: JobStore, every_s: float = SWEEP_EVERY_S) -> Loop:
    """The worker's loop: a sweep at start, then every `every_s`, until stopped."""
    return every(every_s, lambda: forget_expired_imports(imports, uploads, jobs), "forgetting expired imports")


def _job_runs(jobs: JobStore, record: dict) -> bool:
    if not record.get("job_id"):
        return False
    try:
        return jobs.get(record["account_id"], record["job_id"])["status"] in ("queued", "running")
    except NotFound:
        return False
