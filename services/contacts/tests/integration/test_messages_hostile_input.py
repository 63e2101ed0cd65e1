"""Messages to a contact under hostile input, on the real MongoDB server: a 404 or 422 problem, never a 5xx."""
import io
import json

import pytest

from .conftest import headers

EMAILS = [{"address": "louise@example.fr", "primary": True}]
PROBLEM = "application/problem+json"


@pytest.fixture
def louise(client):
    created = client.post("/v1/contacts", json={"first_name": "Louise", "emails": EMAILS}, headers=headers())
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


def post_raw(client, contact_id, raw: str, account="acct-1"):
    return client.post(f"/v1/contacts/{contact_id}/messages", data=raw, content_type="application/json",
                       headers=headers(account))


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("body, field", [
    ('{"subject": "De\\ud800vis", "body": "x"}', "subject"),
    ('{"subject": "Devis", "body": "a\\udfffb"}', "body"),
    ('{"subject": "Devis", "body": "x", "to": "louise@example.fr\\u0000"}', "to"),
    ('{"subject": "Devis", "body": "x", "to": "\\ud800@example.fr"}', "to"),
    ('{"subject": "Devis", "body": "x", "attachment_ids": ["a\\u0000b"]}', "attachment_ids"),
    ('{"subject": "Devis", "body": "x", "attachment_ids": ["\\ud800"]}', "attachment_ids"),
    ('{"subject": "Devis", "body": "x", "marketing": 1000000000000000000000000000000}', "marketing"),
    ('{"subject": 1000000000000000000000000000000, "body": "x"}', "subject"),
    ('{"subject": "Devis", "body": "x", "attachment_ids": [1000000000000000000000000000000]}', "attachment_ids"),
    ('{"subject": "Devis", "body": "x", "attachment_ids": ' + deep(10_000) + '}', None),
    ('{"subject": "Devis", "body": ' + deep(10_000) + '}', None),
])
def test_hostile_bodies_are_422_problems(client, louise, body, field):
    refused = post_raw(client, louise, body)
    assert refused.status_code == 422, refused.get_data(as_text=True)[:500]
    assert refused.mimetype == PROBLEM
    if field is not None:
        assert field in json.dumps(refused.get_json()["errors"]), refused.get_json()


def test_a_json_document_10000_levels_deep_is_a_422_problem(client, louise):
    refused = post_raw(client, louise, deep(10_000))
    assert refused.status_code == 422 and refused.mimetype == PROBLEM


@pytest.mark.parametrize("bad_id", ["a%00b", "%ED%A0%80", "x" * 5000, "1000000000000000000000000000000"])
def test_hostile_ids_in_the_path_are_404_or_422_problems(client, louise, bad_id):
    for response in (client.post(f"/v1/contacts/{bad_id}/messages", json={"subject": "s", "body": "b"},
                                 headers=headers()),
                     client.get(f"/v1/contacts/{bad_id}/messages", headers=headers()),
                     client.get(f"/v1/contacts/{louise}/messages/{bad_id}", headers=headers()),
                     client.get(f"/v1/contacts/{bad_id}/messages/{bad_id}", headers=headers())):
        assert response.status_code in (404, 422), (response.status_code, response.get_data(as_text=True)[:300])
        assert response.mimetype == PROBLEM


@pytest.mark.parametrize("query", ["limit=1000000000000000000000000000000", "limit=-1", "limit=1e400",
                                   "cursor=a%00b", "cursor=%ED%A0%80", "cursor=not-a-cursor"])
def test_hostile_list_queries_are_422_problems(client, container, louise, query):
    project_all(container)  # no worker here: the list waits for the read model to hold the contact
    listed = client.get(f"/v1/contacts/{louise}/messages?{query}", headers=headers())
    assert listed.status_code == 422, listed.get_data(as_text=True)[:300]
    assert listed.mimetype == PROBLEM


def test_another_accounts_file_cannot_be_attached(client, louise):
    theirs = client.post("/v1/contacts", json={"first_name": "Eve", "emails": [{"address": "eve@example.org"}]},
                         headers=headers("acct-2")).get_json()["id"]
    uploaded = client.post(f"/v1/contacts/{theirs}/attachments", headers=headers("acct-2"),
                           data={"file": (io.BytesIO(b"secret"), "secret.txt", "text/plain")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    refused = client.post(f"/v1/contacts/{louise}/messages", headers=headers(),
                          json={"subject": "s", "body": "b", "attachment_ids": [uploaded.get_json()["id"]]})
    assert refused.status_code == 422 and "attachment_ids" in refused.get_json()["errors"]
    # nor sent from their contact by this account, to their address
    assert client.post(f"/v1/contacts/{theirs}/messages", headers=headers(),
                       json={"subject": "s", "body": "b"}).status_code == 404


def test_a_file_of_another_contact_of_the_account_cannot_be_attached(client, louise):
    paul = client.post("/v1/contacts", json={"first_name": "Paul", "emails": [{"address": "paul@example.fr"}]},
                       headers=headers()).get_json()["id"]
    uploaded = client.post(f"/v1/contacts/{paul}/attachments", headers=headers(),
                           data={"file": (io.BytesIO(b"paul's"), "paul.txt", "text/plain")},
                           content_type="multipart/form-data")
    refused = client.post(f"/v1/contacts/{louise}/messages", headers=headers(),
                          json={"subject": "s", "body": "b", "attachment_ids": [uploaded.get_json()["id"]]})
    assert refused.status_code == 422 and "attachment_ids" in refused.get_json()["errors"]
