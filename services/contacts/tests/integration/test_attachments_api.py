"""Attachments and the profile picture through the contacts API, on the real MongoDB server."""
import hashlib
import io
import os
from urllib.parse import quote

from PIL import Image

from contacts import views
from contacts.domain.events import data_subject
from contacts.domain import commands
from contacts.service_layer import moving

from .conftest import headers

PDF = b"%PDF-1.7\n" + os.urandom(600_000)  # three chunks


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


def new_contact(client, account="acct-1") -> str:
    return client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers(account)).get_json()["id"]


def upload(client, contact_id, data=PDF, name="Devis été.pdf", content_type="application/pdf", account="acct-1",
           path="attachments", method="post"):
    return client.open(f"/v1/contacts/{contact_id}/{path}", method=method, headers=headers(account),
                       data={"file": (io.BytesIO(data), name, content_type)}, content_type="multipart/form-data")


def image(width, height, fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (12, 120, 200)).save(out, fmt)
    return out.getvalue()


def blobs_stored(container) -> int:
    return container.db["attachment_blobs.manifests"].count_documents({})


def test_upload_list_download_and_delete(client, container):
    contact_id = new_contact(client)
    created = upload(client, contact_id)
    assert created.status_code == 201, created.get_json()
    attachment = created.get_json()
    assert attachment["file_name"] == "Devis été.pdf" and attachment["size"] == len(PDF)
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest() and attachment["kind"] == "file"
    assert created.headers["Location"] == f"/v1/contacts/{contact_id}/attachments/{attachment['id']}"
    assert client.get(created.headers["Location"], headers=headers()).get_json() == attachment

    download = client.get(attachment["download_url"], headers=headers())  # at once: read from the events
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(PDF))
    assert download.headers["ETag"] == f'"{attachment["sha256"]}"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('Devis été.pdf', safe='')}" in disposition
    again = client.get(attachment["download_url"], headers={**headers(), "If-None-Match": download.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""

    upload(client, contact_id, b"rappeler lundi", "notes.txt", "text/plain")
    project_all(container)
    listed = client.get(f"/v1/contacts/{contact_id}/attachments", headers=headers()).get_json()["items"]
    assert [a["file_name"] for a in listed] == ["notes.txt", "Devis été.pdf"]
    assert listed[1] == attachment

    assert client.delete(created.headers["Location"], headers=headers()).status_code == 204
    gone = client.get(attachment["download_url"], headers=headers())
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"
    project_all(container)
    assert [a["file_name"] for a in client.get(f"/v1/contacts/{contact_id}/attachments", headers=headers())
            .get_json()["items"]] == ["notes.txt"]
    assert blobs_stored(container) == 1


def test_size_type_and_content_are_checked_with_clear_problems(client, container):
    contact_id = new_contact(client)
    container.settings["ATTACHMENT_MAX_BYTES"] = 100_000
    too_large = upload(client, contact_id, b"%PDF-" + b"x" * 100_000)
    assert too_large.status_code == 413 and too_large.mimetype == "application/problem+json"
    assert too_large.get_json()["max_bytes"] == 100_000 and "100000 bytes" in too_large.get_json()["detail"]
    far_too_large = upload(client, contact_id, b"%PDF-" + b"x" * 300_000)  # refused before it is parsed
    assert far_too_large.status_code == 413 and far_too_large.get_json()["type"] == "/problems/payload-too-large"

    html = upload(client, contact_id, b"<html></html>", "page.html", "text/html")
    assert html.status_code == 415 and "application/pdf" in html.get_json()["detail"]
    assert "image/png" in html.get_json()["allowed"]

    fake_png = upload(client, contact_id, b"GIF89a" + bytes(100), "photo.png", "image/png")
    assert fake_png.status_code == 422 and fake_png.get_json()["type"] == "/problems/file-content-mismatch"
    broken_png = upload(client, contact_id, image(50, 50)[:60], "photo.png", "image/png")
    assert broken_png.status_code == 422

    not_multipart = client.post(f"/v1/contacts/{contact_id}/attachments", data=PDF, headers=headers(),
                                content_type="application/pdf")
    assert not_multipart.status_code == 415 and "multipart/form-data" in not_multipart.get_json()["detail"]
    no_file = client.post(f"/v1/contacts/{contact_id}/attachments", data={"other": "x"}, headers=headers(),
                          content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.get_json()["errors"]
    assert blobs_stored(container) == 0


def test_the_profile_picture_has_a_thumbnail_and_a_new_one_replaces_it(client, container):
    contact_id = new_contact(client)
    original = image(400, 200)
    put = upload(client, contact_id, original, "moi.png", "image/png", path="picture", method="put")
    assert put.status_code == 200, put.get_json()
    picture = put.get_json()
    assert picture["kind"] == "profile_picture" and picture["thumbnail_url"] == f"/v1/contacts/{contact_id}/picture/thumbnail"
    got = client.get(f"/v1/contacts/{contact_id}/picture", headers=headers())
    assert got.data == original and got.mimetype == "image/png" and got.headers["Content-Disposition"].startswith("inline")
    thumbnail = client.get(picture["thumbnail_url"], headers=headers())
    assert thumbnail.mimetype == "image/jpeg" and Image.open(io.BytesIO(thumbnail.data)).size == (128, 64)

    replacing = image(90, 300, "JPEG")
    upload(client, contact_id, replacing, "nouvelle.jpg", "image/jpeg", path="picture", method="put")
    assert client.get(f"/v1/contacts/{contact_id}/picture", headers=headers()).data == replacing
    small = Image.open(io.BytesIO(client.get(picture["thumbnail_url"], headers=headers()).data))
    assert max(small.size) <= 128 and small.size == (38, 128)
    assert blobs_stored(container) == 2  # the old picture and its thumbnail are gone
    project_all(container)
    listed = client.get(f"/v1/contacts/{contact_id}/attachments", headers=headers()).get_json()["items"]
    assert [(a["kind"], a["file_name"]) for a in listed] == [("profile_picture", "nouvelle.jpg")]

    pdf = upload(client, contact_id, PDF, "cv.pdf", "application/pdf", path="picture", method="put")
    assert pdf.status_code == 415
    assert client.delete(f"/v1/contacts/{contact_id}/picture", headers=headers()).status_code == 204
    assert client.get(f"/v1/contacts/{contact_id}/picture", headers=headers()).status_code == 404
    assert client.delete(f"/v1/contacts/{contact_id}/picture", headers=headers()).status_code == 404
    assert blobs_stored(container) == 0


def test_another_account_gets_404_for_the_contact_and_its_files(client, container):
    contact_id = new_contact(client)
    attachment = upload(client, contact_id).get_json()
    upload(client, contact_id, image(10, 10), "moi.png", "image/png", path="picture", method="put")
    project_all(container)
    other = headers("acct-2")
    url = f"/v1/contacts/{contact_id}/attachments"
    for response in (
        client.get(url, headers=other),
        client.get(f"{url}/{attachment['id']}", headers=other),
        client.get(attachment["download_url"], headers=other),
        client.delete(f"{url}/{attachment['id']}", headers=other),
        upload(client, contact_id, account="acct-2"),
        client.get(f"/v1/contacts/{contact_id}/picture", headers=other),
        client.get(f"/v1/contacts/{contact_id}/picture/thumbnail", headers=other),
        client.delete(f"/v1/contacts/{contact_id}/picture", headers=other),
        upload(client, contact_id, image(10, 10), "x.png", "image/png", account="acct-2", path="picture", method="put"),
    ):
        assert response.status_code == 404, response.request.path
    # nor can a contact of the same account reach another's file by its id
    mine = new_contact(client)
    assert client.get(f"/v1/contacts/{mine}/attachments/{attachment['id']}/content", headers=headers()).status_code == 404
    assert client.get(attachment["download_url"], headers=headers()).data == PDF
    assert blobs_stored(container) == 3


def test_erasing_the_contact_makes_its_files_and_their_names_unreadable(client, container):
    contact_id = new_contact(client)
    secret = b"Louise Desnotes, dossier medical " * 1000
    attachment = upload(client, contact_id, secret, "Dossier Desnotes.txt", "text/plain").get_json()
    stored = str(list(container.db["attachment_blobs.chunks"].find())) + str(list(container.event_store.commits.find()))
    assert "dossier medical" not in stored and "Dossier Desnotes" not in stored and attachment["sha256"] not in stored
    project_all(container)
    container.cipher.shred(data_subject(contact_id))
    download = client.get(attachment["download_url"], headers=headers())
    assert download.status_code == 404 and download.mimetype == "application/problem+json"
    container.attachments_projection.collection.delete_many({})
    project_all(container)  # a rebuild keeps nothing of an erased contact's file
    [doc] = container.attachments_projection.collection.find()
    assert doc["deleted"] is True and "file_name" not in doc and "sha256" not in doc


def test_moving_attachments_to_another_contact_for_a_merge(client, container):
    source, target = new_contact(client), new_contact(client)
    attachment = upload(client, source).get_json()
    upload(client, source, image(300, 300), "moi.png", "image/png", path="picture", method="put")
    project_all(container)
    ids = views.attachment_ids_of(container.attachments_projection.collection, "acct-1", source)
    assert ids == [attachment["id"]]
    moved = moving.move_attachments(commands.MoveAttachments("acct-1", source, target, tuple(ids)),
                                    container.unit_of_work())
    assert moved == [attachment["id"], f"picture-{target}"]
    assert client.get(f"/v1/contacts/{target}/attachments/{attachment['id']}/content", headers=headers()).data == PDF
    assert client.get(attachment["download_url"], headers=headers()).status_code == 404
    assert client.get(f"/v1/contacts/{target}/picture/thumbnail", headers=headers()).status_code == 200
    container.cipher.shred(data_subject(source))  # the moved files were sealed again for their new contact
    assert client.get(f"/v1/contacts/{target}/attachments/{attachment['id']}/content", headers=headers()).data == PDF
    project_all(container)
    listed = client.get(f"/v1/contacts/{target}/attachments", headers=headers()).get_json()["items"]
    assert {a["id"] for a in listed} == {attachment["id"], f"picture-{target}"}
    assert blobs_stored(container) == 3


def test_the_upload_is_described_as_multipart_in_openapi(client):
    spec = client.get("/openapi.json", headers=headers()).get_json()
    post = spec["paths"]["/v1/contacts/{contact_id}/attachments"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"413", "415", "422"} <= set(post["responses"])
    download = spec["paths"]["/v1/contacts/{contact_id}/attachments/{attachment_id}/content"]["get"]
    content = download["responses"]["200"]["content"]  # the accepted types, after the one generators read as bytes
    assert list(content)[:2] == ["application/octet-stream", "application/pdf"]
    assert {media["schema"]["format"] for media in content.values()} == {"binary"}


def test_merging_contacts_brings_the_sources_files_along(client, container):
    source, target = new_contact(client), new_contact(client)
    attachment = upload(client, source).get_json()
    project_all(container)
    merged = client.post(f"/v1/contacts/{target}/merge", json={"source_ids": [source]}, headers=headers())
    assert merged.status_code == 200, merged.get_json()
    assert client.get(f"/v1/contacts/{target}/attachments/{attachment['id']}/content", headers=headers()).data == PDF
    project_all(container)
    listed = client.get(f"/v1/contacts/{target}/attachments", headers=headers()).get_json()["items"]
    assert [a["id"] for a in listed] == [attachment["id"]]
