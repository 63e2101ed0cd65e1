"""A client openapi-python-client generates from the gateway's /openapi.json works with typed models only:
create, read, search, label and delete a contact, attach and download a file, upload an import (issue 14, item 6)."""
from __future__ import annotations

import datetime
import io
import importlib
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "crm_generated_client"


@pytest.fixture(scope="module")
def generated(system, tmp_path_factory):
    """The generated package, imported from a directory of its own."""
    where = tmp_path_factory.mktemp("generated")
    document = where / "openapi.json"
    document.write_bytes(requests.get(f"{system.gateway_url}/openapi.json", timeout=30).content)
    run = subprocess.run([str(GENERATOR), "generate", "--path", str(document), "--meta", "none",
                          "--output-path", str(where / PACKAGE)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    sys.path.insert(0, str(where))
    yield importlib.import_module(PACKAGE)
    sys.path.remove(str(where))


def module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_creates_reads_labels_and_deletes_a_contact(system, generated):
    account = system.create_account("Generated client")
    client = generated.AuthenticatedClient(base_url=system.gateway_url, token=account["api_key"], timeout=30.0)
    models = module("models")

    body = models.ContactCreate(first_name="Hélène", last_name="Garnier",
                                emails=[models.Email(address="helene.garnier@example.org")])
    created = module("api.contacts.create_contact").sync(client=client, body=body, idempotency_key="gen-client-1")
    assert isinstance(created, models.Contact), created
    assert isinstance(created.created_at, datetime.datetime) and created.created_at.tzinfo is not None
    assert created.emails[0].address == "helene.garnier@example.org"

    read = module("api.contacts.get_contact").sync(created.id, client=client)
    assert isinstance(read, models.Contact) and read.first_name == "Hélène"

    label = module("api.labels.find_or_create_label").sync(client=client, body=models.LabelName(name="Fournisseur"))
    assert isinstance(label, models.Label) and label.name == "Fournisseur"
    labelled = module("api.labels.assign_label").sync(created.id, label.key, client=client)
    assert isinstance(labelled, models.Contact) and labelled.labels == [label.key]

    deleted = module("api.contacts.delete_contact").sync_detailed(created.id, client=client)
    assert deleted.status_code == 204, deleted.content
    deadline = time.monotonic() + 30
    while True:  # the read model catches up with the deletion
        gone = module("api.contacts.get_contact").sync(created.id, client=client)
        if isinstance(gone, models.Problem) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert isinstance(gone, models.Problem) and gone.status == 404, gone


def test_a_generated_client_searches_uploads_and_downloads_files(system, generated):
    account = system.create_account("Generated client files")
    client = generated.AuthenticatedClient(base_url=system.gateway_url, token=account["api_key"], timeout=30.0)
    models, types = module("models"), module("types")
    body = models.ContactCreate(company="Papeterie Lenoir", emails=[models.Email(address="contact@lenoir.example")])
    contact = module("api.contacts.create_contact").sync(client=client, body=body)
    assert isinstance(contact, models.Contact), contact

    deadline = time.monotonic() + 30
    while True:  # the search reads the projection, which catches up
        page = module("api.contacts.list_contacts").sync(client=client, q="Lenoir")
        if (isinstance(page, models.ContactPage) and page.items) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert isinstance(page, models.ContactPage) and [c.id for c in page.items] == [contact.id], page

    pdf = b"%PDF-1.4\n% a quote\n%%EOF\n"
    upload = models.FileUpload(file=types.File(payload=io.BytesIO(pdf), file_name="devis.pdf",
                                               mime_type="application/pdf"))
    attachment = module("api.attachments.add_attachment").sync(contact.id, client=client, body=upload)
    assert isinstance(attachment, models.Attachment) and attachment.size == len(pdf), attachment
    download = module("api.attachments.download_attachment").sync(contact.id, attachment.id, client=client)
    assert isinstance(download, types.File) and download.payload.read() == pdf, download

    csv = "first_name,last_name,email\nAnne,Roux,anne.roux@example.org\n".encode()
    upload = models.ImportUpload(file=types.File(payload=io.BytesIO(csv), file_name="contacts.csv",
                                                 mime_type="text/csv"))
    imported = module("api.import_and_export.upload_file").sync(client=client, body=upload)
    assert isinstance(imported, models.Import) and imported.row_count == 1, imported
    assert imported.header == ["first_name", "last_name", "email"]
