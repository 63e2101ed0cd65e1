"""A contact whose processing is restricted (Art. 18) on the real MongoDB server: every edit is refused with 409
`processing-restricted` while reads and erasure go on, and lifting the restriction allows edits again."""
import io

from crm_platform.openapi import documented_statuses
from crm_platform.testing.restriction_events import restriction_applied, restriction_lifted

from .conftest import headers

PROBLEM = "/problems/processing-restricted"


def new_contact(client, name="Louise"):
    return client.post("/v1/contacts", json={"first_name": name}, headers=headers()).get_json()["id"]


def refused(response, contact_id):
    body = response.get_json()
    return (response.status_code == 409 and response.mimetype == "application/problem+json"
            and body["type"] == PROBLEM and contact_id in body["contact_ids"])


def test_a_restricted_contact_is_read_not_edited_until_lifted(client, container):
    contact_id, other_id = new_contact(client), new_contact(client, "Paul")
    note = client.post(f"/v1/contacts/{contact_id}/notes", json={"text": "appel"}, headers=headers()).get_json()
    client.post("/v1/labels", json={"name": "VIP"}, headers=headers())
    handler = container.privacy_handler()
    handler.handle(restriction_applied("acct-1", [contact_id], ["contacts"]))
    [reply] = container.event_store.load("privacy-request:r18")
    assert (reply.event_type, reply.payload["outcome"]) == ("SubjectRestricted", "restricted")

    url = f"/v1/contacts/{contact_id}"
    pdf = {"file": (io.BytesIO(b"%PDF-1.7\n..."), "devis.pdf", "application/pdf")}
    edits = [client.patch(url, json={"revision": 1, "company": "Papeterie"}, headers=headers()),
             client.put(f"{url}/labels/vip", headers=headers()),
             client.delete(f"{url}/labels/vip", headers=headers()),
             client.post(f"{url}/notes", json={"text": "x"}, headers=headers()),
             client.patch(f"{url}/notes/{note['id']}", json={"revision": 1, "text": "y"}, headers=headers()),
             client.delete(f"{url}/notes/{note['id']}", headers=headers()),
             client.post(f"{url}/attachments", data=pdf, content_type="multipart/form-data", headers=headers()),
             client.delete(f"{url}/picture", headers=headers()),
             client.post(f"/v1/contacts/{other_id}/merge", json={"source_ids": [contact_id]}, headers=headers()),
             client.delete(url, headers=headers())]
    assert [r.status_code for r in edits] == [409] * len(edits)
    assert all(refused(r, contact_id) for r in edits), edits[0].get_json()
    undocumented = [f"{r.request.method} {r.request.path}" for r in edits
                    if "409" not in documented_statuses(client.application, r.request.method, r.request.path)]
    assert undocumented == []  # the refusal is in each operation's OpenAPI description
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)
    assert client.get(url, headers=headers()).status_code == 200
    assert client.patch(f"/v1/contacts/{other_id}", json={"revision": 1, "company": "A"},
                        headers=headers()).status_code == 200  # others are not restricted

    handler.handle(restriction_lifted("acct-1", [contact_id]))
    edited = client.patch(url, json={"revision": 1, "company": "Papeterie"}, headers=headers())
    assert edited.status_code == 200 and edited.get_json()["company"] == "Papeterie"


def test_a_restricted_contact_can_still_be_erased(client, container):
    contact_id = new_contact(client)
    container.privacy_handler().handle(restriction_applied("acct-1", [contact_id], ["contacts"]))
    erased = client.post(f"/v1/contacts/{contact_id}/erase", headers=headers())
    assert erased.status_code == 200, erased.get_json()


def test_an_import_updating_matches_leaves_a_restricted_contact_as_it_is(client, container):
    from .test_import_export_api import import_file  # the import run as the worker does, on the real server

    stored = client.post("/v1/contacts", json={"first_name": "L", "emails": [{"address": "louise@papier.fr"}]},
                         headers=headers()).get_json()
    container.privacy_handler().handle(restriction_applied("acct-1", [stored["id"]], ["contacts"]))
    done = import_file(client, container, "Prénom;Nom;E-mail\r\nLouise;Desnotés;louise@papier.fr\r\n"
                                          "Paul;Martin;paul@papier.fr\r\n".encode(), on_match="update")
    assert done["job"]["counts"] == {"rows": 2, "created": 1, "updated": 0, "skipped": 0, "failed": 1}, done
    assert client.get(f"/v1/contacts/{stored['id']}", headers=headers()).get_json()["first_name"] == "L"
