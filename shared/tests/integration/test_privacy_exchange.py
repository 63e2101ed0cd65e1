"""The exchange of privacy exports on the real MongoDB server: parts written by services, read by privacy,
unreadable everywhere once the export's key is shredded, and their space freed."""
import os

import pytest

from crm_platform.blobs import BlobNotFound
from crm_platform.personal_data import MongoSubjectKeyStore, PersonalDataCipher, SubjectErased
from crm_platform.privacy_exchange import BUCKET, ExportExchange, ExportFile

ABOUT = {"categories": ["identity"], "purposes": ["invoicing"], "recipients": ["the account's accountant"],
         "retention": "10 years", "source": "the account's users"}
INVOICE_PDF = os.urandom(600 * 1024)  # several chunks


@pytest.fixture
def exchange(mongo_db):
    return ExportExchange.in_database(mongo_db, PersonalDataCipher(MongoSubjectKeyStore(mongo_db["keys"],
                                                                                        os.urandom(32))))


def write_billing_part(exchange, request_id="req-1"):
    return exchange.write_part(request_id, "billing", ABOUT, {"invoices": [{"number": "F-1", "buyer": "Zoë"}]}, [
        ExportFile("invoices/F-1.pdf", "application/pdf", [INVOICE_PDF[:1000], INVOICE_PDF[1000:]]),
        ExportFile("notes.txt", "text/plain", "déjà vu".encode()),
    ])


def blob_ids(mongo_db) -> set[str]:
    return {doc["_id"] for doc in mongo_db[f"{BUCKET}.manifests"].find({}, {"_id": 1})}


def test_a_part_written_by_a_service_is_read_back_with_its_files(exchange):
    part = exchange.read_part("req-1", write_billing_part(exchange))

    assert (part["service"], part["about"], part["data"]) == (
        "billing", ABOUT, {"invoices": [{"number": "F-1", "buyer": "Zoë"}]})
    assert [(file["name"], file["content_type"], file["length"]) for file in part["files"]] == [
        ("invoices/F-1.pdf", "application/pdf", len(INVOICE_PDF)), ("notes.txt", "text/plain", 9)]  # UTF-8 bytes
    contents = []
    for file in part["files"]:
        info, pieces = exchange.open_file("req-1", file["blob_id"])
        assert info.sealed and info.sha256 is None and info.length == file["length"]
        contents.append(b"".join(pieces))
    assert contents == [INVOICE_PDF, "déjà vu".encode()]


def test_what_is_stored_is_sealed_and_holds_no_digest(exchange, mongo_db):
    write_billing_part(exchange)
    stored = b"".join(bytes(doc["data"]) for doc in mongo_db[f"{BUCKET}.chunks"].find())
    assert b"Zo\xc3\xab" not in stored and INVOICE_PDF[:64] not in stored
    assert all(doc["sealed"] and doc["sha256"] is None for doc in mongo_db[f"{BUCKET}.manifests"].find())


def test_the_assembled_zip_is_a_blob_of_the_request_too(exchange):
    info = exchange.write_file("req-1", iter([b"PK\x03\x04", b"rest"]), "application/zip")
    _, pieces = exchange.open_file("req-1", info.blob_id)
    assert (b"".join(pieces), info.length, info.content_type) == (b"PK\x03\x04rest", 8, "application/zip")


def test_after_shred_no_part_nor_file_of_the_request_opens_and_other_requests_are_untouched(exchange):
    part_id = write_billing_part(exchange)
    files = [file["blob_id"] for file in exchange.read_part("req-1", part_id)["files"]]
    zip_id = exchange.write_file("req-1", b"zip", "application/zip").blob_id
    other = write_billing_part(exchange, "req-2")

    assert exchange.shred("req-1") is True
    with pytest.raises(SubjectErased):
        exchange.read_part("req-1", part_id)
    for blob_id in [*files, zip_id]:
        with pytest.raises(SubjectErased):
            exchange.open_file("req-1", blob_id)
    with pytest.raises(SubjectErased):  # nor can anything new be sealed under the shredded key
        write_billing_part(exchange)
    assert exchange.shred("req-1") is False  # repeated: nothing left to shred
    assert exchange.read_part("req-2", other)["service"] == "billing"


def test_discard_frees_the_blobs_of_a_request(exchange, mongo_db):
    part_id = write_billing_part(exchange)
    other = write_billing_part(exchange, "req-2")
    mine = {part_id, *(file["blob_id"] for file in exchange.read_part("req-1", part_id)["files"])}
    kept = blob_ids(mongo_db) - mine
    exchange.shred("req-1")

    exchange.discard(mine)
    exchange.discard(mine)  # safe to repeat

    assert blob_ids(mongo_db) == kept and other in kept
    remaining_chunks = {doc["_id"].split(":")[0] for doc in mongo_db[f"{BUCKET}.chunks"].find({}, {"_id": 1})}
    assert remaining_chunks == kept
    with pytest.raises(BlobNotFound):  # gone, whichever key would open it
        exchange.read_part("req-2", part_id)


def test_every_blob_of_a_request_is_listed_even_once_unreadable_and_discarding_unlists_it(exchange, mongo_db):
    part = write_billing_part(exchange)
    other = write_billing_part(exchange, "req-2")
    zip_info = exchange.write_file("req-1", b"PK", "application/zip")
    listed = exchange.blobs_of("req-1")
    assert len(listed) == 4 and {part, zip_info.blob_id} < set(listed) and other not in listed  # 2 files
    exchange.shred("req-1")
    assert exchange.blobs_of("req-1") == listed
    exchange.discard(listed)
    assert exchange.blobs_of("req-1") == [] and blob_ids(mongo_db) == set(exchange.blobs_of("req-2"))
