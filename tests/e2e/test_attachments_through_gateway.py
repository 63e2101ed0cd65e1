"""End to end: files attached to a contact go through the gateway and come back byte for byte."""
import hashlib
import io
import os

import requests
from PIL import Image

from .conftest import bearer


def test_an_attachment_uploaded_through_the_gateway_downloads_identical_and_only_for_its_account(
        system, account_a, account_b):
    contacts = f"{system.gateway_url}/v1/contacts"
    contact = requests.post(contacts, json={"first_name": "Louise"}, headers=bearer(account_a), timeout=10).json()
    url = f"{contacts}/{contact['id']}/attachments"
    data = b"%PDF-1.7\n" + os.urandom(700_000)
    created = requests.post(url, files={"file": ("Devis été.pdf", data, "application/pdf")},
                            headers=bearer(account_a), timeout=30)
    assert created.status_code == 201, created.text
    attachment = created.json()
    assert attachment["sha256"] == hashlib.sha256(data).hexdigest()

    download = requests.get(f"{system.gateway_url}{attachment['download_url']}", headers=bearer(account_a), timeout=30)
    assert download.status_code == 200 and download.content == data
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(data))
    assert "filename*=UTF-8''Devis%20%C3%A9t%C3%A9.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    for response in (
        requests.get(url, headers=bearer(account_b), timeout=10),
        requests.get(f"{system.gateway_url}{attachment['download_url']}", headers=bearer(account_b), timeout=10),
        requests.post(url, files={"file": ("x.pdf", data, "application/pdf")}, headers=bearer(account_b), timeout=30),
        requests.delete(f"{url}/{attachment['id']}", headers=bearer(account_b), timeout=10),
    ):
        assert response.status_code == 404 and response.headers["Content-Type"] == "application/problem+json"


def test_a_profile_picture_gets_its_thumbnail_through_the_gateway(system, account_a):
    contacts = f"{system.gateway_url}/v1/contacts"
    contact = requests.post(contacts, json={"first_name": "Paul"}, headers=bearer(account_a), timeout=10).json()
    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 90, 160)).save(picture, "JPEG")
    put = requests.put(f"{contacts}/{contact['id']}/picture", headers=bearer(account_a), timeout=30,
                       files={"file": ("paul.jpg", picture.getvalue(), "image/jpeg")})
    assert put.status_code == 200, put.text
    thumbnail = requests.get(f"{system.gateway_url}{put.json()['thumbnail_url']}", headers=bearer(account_a), timeout=10)
    assert thumbnail.status_code == 200 and Image.open(io.BytesIO(thumbnail.content)).size == (128, 96)
