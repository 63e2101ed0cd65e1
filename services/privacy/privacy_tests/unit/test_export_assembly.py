"""The export ZIP, assembled from the services' parts and opened here item by item.

The exchange is the kernel's own ExportExchange on dict-backed collections and key store (the fakes of
crm_platform.testing), so the parts are written and sealed exactly as a service writes them.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest

from crm_platform.blobs import BlobStore
from crm_platform.personal_data import PersonalDataCipher, SubjectErased
from crm_platform.privacy_exchange import ExportExchange, ExportFile
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from privacy.service_layer import export_assembly
from privacy.service_layer.export_assembly import assemble_export

REQUEST = "req-1"
SUMMARY = {"request_id": REQUEST, "account_id": "acct-1", "type": "access", "requested_at": "2026-12-02T10:00:00Z"}
ABOUT = {"categories": ["identity", "contact details"], "purposes": ["customer relationship"], "recipients": [],
         "retention": "while the contact exists", "source": "entered by the account's users"}
PICTURE = bytes(range(256)) * 40  # 10 KiB: several chunks of the store below
CONTACT = {"contact_id": "c1", "name": "Zoë Durand", "email": "zoe@example.com", "labels": ["vip", "lead"],
           "address": {"city": "Lyon", "postcode": "69001"}, "score": -5, "active": True, "phone": None}


class RecordingExchange(ExportExchange):
    """The real exchange, noting how the ZIP was handed to it."""

    def __init__(self, blobs, cipher):
        super().__init__(blobs, cipher)
        self.written = []

    def write_file(self, request_id, content, content_type):
        pieces = []

        def recorded():
            for piece in content:
                pieces.append(len(piece))
                yield piece

        self.written.append((type(content), content_type, pieces))
        return super().write_file(request_id, content if isinstance(content, bytes) else recorded(), content_type)


@pytest.fixture
def exchange():
    blobs = BlobStore(InMemoryCollection(), InMemoryCollection(), chunk_size=4096)
    return RecordingExchange(blobs, PersonalDataCipher(InMemorySubjectKeyStore()))


@pytest.fixture
def parts(exchange):
    contacts = exchange.write_part(REQUEST, "contacts", ABOUT, {
        "contact": CONTACT,
        "contacts": [CONTACT, {"contact_id": "c2", "name": "Zoë D.", "merged_into": "c1"}],
        "notes": [{"note_id": "n1", "text": "=HYPERLINK(\"http://evil\",\"click\")"}, {"note_id": "n2", "text": "ok"}],
        "labels": ["vip", "lead"],
        "imports": [],
    }, [ExportFile("picture.png", "image/png", [PICTURE[:3000], PICTURE[3000:]]),
        ExportFile("attachments/a1-contract.pdf", "application/pdf", b"%PDF-1.7 contract")])
    billing = exchange.write_part(REQUEST, "billing", {**ABOUT, "retention": "10 years"}, {
        "invoices": [{"number": "F-2026-0001", "total": "120.00", "lines": [{"label": "Audit", "amount": "120.00"}]}],
    }, [ExportFile("invoices/F-2026-0001.pdf", "application/pdf", b"%PDF-1.7 invoice")])
    return {"contacts": contacts, "billing": billing, "workflows": None}


def open_zip(exchange, blob_id) -> zipfile.ZipFile:
    _, contents = exchange.open_file(REQUEST, blob_id)
    return zipfile.ZipFile(io.BytesIO(b"".join(contents)))


def rows(archive, name) -> list[list[str]]:
    return list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


def test_the_zip_holds_each_service_data_tables_and_files_and_a_manifest_of_them(exchange, parts):
    blob_id, length = assemble_export(REQUEST, parts, exchange, SUMMARY)

    info, contents = exchange.open_file(REQUEST, blob_id)
    assert info.content_type == "application/zip" and info.length == length == len(b"".join(contents))
    archive = open_zip(exchange, blob_id)
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        "billing/data.json", "billing/invoices.csv", "billing/invoices/F-2026-0001.pdf",
        "contacts/attachments/a1-contract.pdf", "contacts/contacts.csv", "contacts/data.json", "contacts/notes.csv",
        "contacts/picture.png", "manifest.json",
    ]
    contacts_data = json.loads(archive.read("contacts/data.json"))
    assert contacts_data["contact"] == CONTACT and contacts_data["labels"] == ["vip", "lead"]
    assert len(contacts_data["contacts"]) == 2 and contacts_data["imports"] == []
    assert archive.read("contacts/picture.png") == PICTURE
    assert archive.read("contacts/attachments/a1-contract.pdf") == b"%PDF-1.7 contract"
    assert archive.read("billing/invoices/F-2026-0001.pdf") == b"%PDF-1.7 invoice"
    assert json.loads(archive.read("billing/data.json"))["invoices"][0]["number"] == "F-2026-0001"

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "crm-subject-export/1" and manifest["request"] == SUMMARY
    assert manifest["services"]["workflows"] == {"status": "holds nothing"}
    contacts = manifest["services"]["contacts"]
    assert contacts["status"] == "exported" and contacts["about"] == ABOUT
    assert contacts["items"] == {"contact": 1, "contacts": 2, "notes": 2, "labels": 2, "imports": 0}
    assert contacts["files"] == [
        {"name": "contacts/picture.png", "content_type": "image/png", "size": len(PICTURE)},
        {"name": "contacts/attachments/a1-contract.pdf", "content_type": "application/pdf", "size": 17},
    ]
    assert manifest["services"]["billing"]["about"]["retention"] == "10 years"
    assert manifest["services"]["billing"]["items"] == {"invoices": 1}
    members = [member for service in ("contacts", "billing") for member in manifest["services"][service]["members"]]
    assert sorted(member["name"] for member in members) == sorted(set(archive.namelist()) - {"manifest.json"})
    for member in members:
        content = archive.read(member["name"])
        assert (member["size"], member["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())


def test_each_list_of_objects_becomes_a_csv_with_nested_values_as_json(exchange, parts):
    archive = open_zip(exchange, assemble_export(REQUEST, parts, exchange, SUMMARY)[0])

    header, first, second = rows(archive, "contacts/contacts.csv")
    assert header == ["contact_id", "name", "email", "labels", "address", "score", "active", "phone",
                      "merged_into"]
    assert first == ["c1", "Zoë Durand", "zoe@example.com", '["vip","lead"]', '{"city":"Lyon","postcode":"69001"}',
                     "-5", "true", "", ""]
    assert second == ["c2", "Zoë D.", "", "", "", "", "", "", "c1"]
    assert rows(archive, "billing/invoices.csv")[1] == [
        "F-2026-0001", "120.00", '[{"label":"Audit","amount":"120.00"}]']
    assert archive.read("contacts/contacts.csv").startswith(b"\xef\xbb\xbf")  # spreadsheets then read UTF-8


def test_a_cell_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(exchange):
    texts = ["=1+1", "+33 6 12 34 56 78", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "plain", "a=b", "", " =x"]
    part = exchange.write_part(REQUEST, "workflows", ABOUT, {
        "messages": [{"n": index, "text": text} for index, text in enumerate(texts)],
        "odd": [{"=cmd|' /C calc'!A0": "x"}],
    })
    archive = open_zip(exchange, assemble_export(REQUEST, {"workflows": part}, exchange, SUMMARY)[0])

    table = rows(archive, "workflows/messages.csv")
    assert [row[1] for row in table[1:]] == [
        "'=1+1", "'+33 6 12 34 56 78", "'-2+3", "'@SUM(A1)", "'\tTAB", "'\rCR", "plain", "a=b", "", " =x"]
    assert rows(archive, "workflows/odd.csv")[0] == ["'=cmd|' /C calc'!A0"]
    assert json.loads(archive.read("workflows/data.json"))["messages"][0]["text"] == "=1+1"  # JSON as it is


def test_file_names_stay_inside_the_service_folder_and_never_collide(exchange, tmp_path):
    names = ["../../etc/passwd", "/abs/x.txt", "C:\\Windows\\system.ini", "a\x00b.txt", "data.json", "note.txt",
             "NOTE.txt", "..", "", "sub/../../up.txt", "con:trol?*.txt"]
    part = exchange.write_part(REQUEST, "../contacts", ABOUT, {"notes": [{"id": 1}]},
                               [ExportFile(name, "text/plain", name.encode()) for name in names]
                               + [ExportFile("notes.csv", "text/plain", b"not the table")])
    archive = open_zip(exchange, assemble_export(REQUEST, {"../contacts": part}, exchange, SUMMARY)[0])

    manifest = json.loads(archive.read("manifest.json"))
    files = [file["name"] for file in manifest["services"]["../contacts"]["files"]]
    assert files == ["_contacts/etc/passwd", "_contacts/abs/x.txt", "_contacts/C_/Windows/system.ini",
                     "_contacts/a_b.txt", "_contacts/data-2.json", "_contacts/note.txt", "_contacts/NOTE-2.txt",
                     "_contacts/file", "_contacts/file-2", "_contacts/sub/up.txt", "_contacts/con_trol__.txt",
                     "_contacts/notes-2.csv"]
    assert [archive.read(name) for name in files[:-1]] == [name.encode() for name in names]
    assert rows(archive, "_contacts/notes.csv") == [["id"], ["1"]]
    archive.extractall(tmp_path / "out")
    extracted = {str(path.relative_to(tmp_path / "out")) for path in (tmp_path / "out").rglob("*") if path.is_file()}
    assert extracted == set(archive.namelist())  # nothing was written outside


def test_the_zip_reaches_the_exchange_in_pieces_from_a_spooled_file(exchange, parts, monkeypatch):
    monkeypatch.setattr(export_assembly, "COPY_PIECE_BYTES", 1024)
    monkeypatch.setattr(export_assembly, "SPOOL_MAX_BYTES", 2048)  # rolled over to disk on the way
    blob_id, length = assemble_export(REQUEST, parts, exchange, SUMMARY)

    [(handed, content_type, pieces)] = exchange.written
    assert content_type == "application/zip" and handed is not bytes
    assert len(pieces) > 3 and max(pieces) <= 1024 and sum(pieces) == length
    assert open_zip(exchange, blob_id).read("contacts/picture.png") == PICTURE


def test_parts_of_a_shredded_export_cannot_be_assembled(exchange, parts):
    exchange.shred(REQUEST)
    with pytest.raises(SubjectErased):
        assemble_export(REQUEST, parts, exchange, SUMMARY)
    assert exchange.written == []


def test_an_export_where_no_service_holds_anything_is_a_manifest_alone(exchange):
    archive = open_zip(exchange, assemble_export(REQUEST, {"contacts": None, "billing": None}, exchange,
                                                 SUMMARY)[0])
    assert archive.namelist() == ["manifest.json"]
    assert json.loads(archive.read("manifest.json"))["services"] == {
        "billing": {"status": "holds nothing"}, "contacts": {"status": "holds nothing"}}
