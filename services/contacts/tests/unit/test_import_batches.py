"""The import job's step on the real handlers and fakes: what it keeps in memory between batches, and which rows
each batch reads, in whatever order the job runner asks for them."""
import gc
import tracemalloc

import pytest

from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.importing import mapping_to_json, read_table, suggest_mapping
from contacts.service_layer import import_handlers
from contacts.service_layer.unit_of_work import UnitOfWork

HEADER = "First Name,Last Name,E-mail Address,Mobile Phone,Company,Job Title,Business City"
# What the worker may keep of one import while it works on it, whatever its number of rows: the decoded
# file (the upload limit, IMPORT_MAX_BYTES, bounds it) and about one batch. Converting every row of a
# 100,000-row file at once kept about 210 MB (the worker's k8s memory limit is 384 MiB).
BUDGET_BEYOND_THE_FILE = 8 * 2**20


def csv_file(rows: int, past_the_header: str = "") -> bytes:
    lines = [HEADER] + [f"Prénom{i},Nom{i},person{i}@example.org,+33 6 12 {i % 100:02d} {i // 100 % 100:02d} "
                        f"{i % 97:02d},Société {i % 500},Directeur,Lille,{past_the_header}" for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


class OneUpload:
    """The import store and upload files of a single uploaded file; keeps the failed rows it is given."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.failed_rows: list[int] = []

    def live(self, account_id, import_id):
        return {"_id": import_id, "account_id": account_id}

    def read(self, record):
        return self.data

    def record_failures(self, account_id, import_id, failures):
        self.failed_rows += [number for number, _, _ in failures]


def job_over(data: bytes) -> dict:
    table = read_table(data)
    return {"_id": "job-1", "account_id": "acct-1", "params": {
        "import_id": "import:1", "format": "csv", "mark_subscribed": False, "on_match": "skip", "label_keys": [],
        "encoding": table.encoding, "delimiter": table.delimiter, "header": table.header,
        "mapping": mapping_to_json(suggest_mapping(table.header, []))}}


def import_step(upload: OneUpload):
    uow = UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())
    return import_handlers.ImportBatches(upload, upload, lambda: uow, lambda account, name: None, "FR")


def test_a_100_000_row_import_keeps_the_file_and_about_one_batch_in_memory_not_every_row():
    data = csv_file(100_000)
    step = import_step(OneUpload(data))
    job = job_over(data)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        counts = step(job, 0)
        counts_later = step(job, 50_000)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert counts["created"] == counts_later["created"] == import_handlers.ROWS_PER_BATCH
    assert kept < len(data) + BUDGET_BEYOND_THE_FILE, f"{kept / 2**20:.0f} MiB kept for a {len(data) / 2**20:.0f} MiB file"


def test_each_batch_reads_its_own_rows_in_order_again_after_an_outage_and_on_a_resume(monkeypatch):
    monkeypatch.setattr(import_handlers, "ROWS_PER_BATCH", 3)
    upload = OneUpload(csv_file(10, past_the_header="?"))  # every row fails: the failed rows name them
    step = import_step(upload)
    job = job_over(upload.data)
    for start in (0, 3, 3, 6, 0, 9):  # in order, the same batch again (an outage), from the start (a resume)
        upload.failed_rows.clear()
        counts = step(job, start)
        assert upload.failed_rows == [row + 2 for row in range(start, min(start + 3, 10))]  # row 1 is the header
        assert counts["rows"] == counts["failed"] == len(upload.failed_rows)



@pytest.mark.parametrize("rows", [7, 9])  # a last batch short, or full to the last row
def test_a_file_is_not_kept_in_the_worker_once_its_last_batch_is_read(monkeypatch, rows):
    monkeypatch.setattr(import_handlers, "ROWS_PER_BATCH", 3)
    upload = OneUpload(csv_file(rows))
    step = import_step(upload)
    job = job_over(upload.data)
    for start in range(0, rows, 3):
        assert len(step._files) == (1 if start else 0)
        assert step(job, start)["rows"] == min(3, rows - start)
    assert len(step._files) == 0  # the decoded file, everyone in it, is gone from memory
    assert step(job, 6)["rows"] == rows - 6  # the last batch again (an outage): read again from the upload
