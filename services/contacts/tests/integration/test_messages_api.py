"""Messages to a contact through the contacts API on the real MongoDB server (issue 12)."""
from datetime import datetime, timedelta, timezone
from functools import partial

import pytest

from contacts import views
from contacts.domain.events import data_subject
from contacts.service_layer.message_requeue import requeue_lost_messages

from .conftest import headers

EMAILS = [{"address": "louise@example.fr", "primary": True},
          {"address": "news@example.fr", "subscription_status": "unsubscribed"},
          {"address": "old@example.fr", "deliverability": "bounced"}]
PDF = b"%PDF-1.7\n" + b"x" * 2000


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


@pytest.fixture
def louise(client):
    created = client.post("/v1/contacts", json={"first_name": "Louise", "emails": EMAILS}, headers=headers())
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def send(client, contact_id, account="acct-1", **body):
    return client.post(f"/v1/contacts/{contact_id}/messages",
                       json={"subject": "Votre devis", "body": "Bonjour Louise,\nvoici le devis.", **body},
                       headers=headers(account))


def test_a_message_is_accepted_queued_and_read_back_with_its_status(client, container, louise):
    sent = send(client, louise)
    assert sent.status_code == 202, sent.get_json()
    message = sent.get_json()
    assert container.mail_outbox().status(message["message_id"]) == "queued"  # handed to the outbox, by its id
    assert message["status"] == "queued" and message["to"] == "louise@example.fr" and message["marketing"] is False
    assert message["subject"] == "Votre devis" and message["attachments"] == []
    read = client.get(sent.headers["Location"], headers=headers())
    assert read.status_code == 200 and read.get_json()["body"] == "Bonjour Louise,\nvoici le devis."
    assert read.get_json()["message_id"] == message["message_id"]
    second = send(client, louise, subject="Relance").get_json()
    project_all(container)
    listed = client.get(f"/v1/contacts/{louise}/messages", headers=headers()).get_json()
    assert [m["message_id"] for m in listed["items"]] == [second["message_id"], message["message_id"]]
    assert listed["items"][0]["status"] == "queued" and "body" not in listed["items"][0]
    one = client.get(f"/v1/contacts/{louise}/messages", query_string={"limit": 1}, headers=headers()).get_json()
    rest = client.get(f"/v1/contacts/{louise}/messages", query_string={"limit": 1, "cursor": one["next_cursor"]},
                      headers=headers()).get_json()
    assert [m["message_id"] for m in one["items"] + rest["items"]] == [second["message_id"], message["message_id"]]
    # on the contact's timeline, with its status, among its changes
    history = client.get(f"/v1/contacts/{louise}/history", headers=headers()).get_json()["items"]
    assert [(h["event_type"], (h.get("message") or {}).get("subject")) for h in history] == [
        ("MessageQueued", "Relance"), ("MessageQueued", "Votre devis"), ("ContactCreated", None)]
    assert history[0]["message"]["status"] == "queued" and history[0]["revision"] is None


@pytest.mark.parametrize("body, field", [
    ({"subject": "Devis\r\nBcc: x@evil.example"}, "subject"), ({"subject": "Devis\n"}, "subject"),
    ({"subject": "De\u0000vis"}, "subject"), ({"subject": ""}, "subject"), ({"subject": "x" * 201}, "subject"),
    ({"body": ""}, "body"), ({"body": "x" * 50_001}, "body"), ({"body": "a\u0000b"}, "body"),
    ({"to": "someone@else.fr"}, "to"), ({"marketing": "peut-être"}, "marketing"),
    ({"attachment_ids": ["nope"]}, "attachment_ids"), ({"attachment_ids": [str(n) for n in range(11)]}, "attachment_ids"),
    ({"cc": "x@example.fr"}, "cc")])
def test_bad_input_is_422_naming_the_field(client, louise, body, field):
    refused = send(client, louise, **body)
    assert refused.status_code == 422, refused.get_json()
    assert refused.mimetype == "application/problem+json"
    assert field in refused.get_json()["errors"], refused.get_json()


def test_a_contact_without_address_is_422_naming_to(client):
    paul = client.post("/v1/contacts", json={"first_name": "Paul"}, headers=headers()).get_json()["id"]
    refused = send(client, paul)
    assert refused.status_code == 422 and "to" in refused.get_json()["errors"]


def test_refusals_for_bounced_and_unsubscribed_addresses_are_409_with_their_types(client, louise):
    bounced = send(client, louise, to="old@example.fr")
    assert bounced.status_code == 409 and bounced.get_json()["type"] == "/problems/email-bounced"
    unsubscribed = send(client, louise, to="news@example.fr", marketing=True)
    assert unsubscribed.status_code == 409 and unsubscribed.get_json()["type"] == "/problems/email-unsubscribed"
    assert send(client, louise, to="NEWS@example.fr", marketing=False).status_code == 202  # transactional


def test_another_accounts_contact_and_message_are_not_found(client, louise):
    message = send(client, louise).get_json()
    assert send(client, louise, account="acct-2").status_code == 404
    assert client.get(f"/v1/contacts/{louise}/messages", headers=headers("acct-2")).status_code == 404
    assert client.get(f"/v1/contacts/{louise}/messages/{message['message_id']}",
                      headers=headers("acct-2")).status_code == 404
    paul = client.post("/v1/contacts", json={"first_name": "Paul"}, headers=headers()).get_json()["id"]
    assert client.get(f"/v1/contacts/{paul}/messages/{message['message_id']}", headers=headers()).status_code == 404


def test_attachments_are_the_contacts_files(client, louise):
    uploaded = client.post(f"/v1/contacts/{louise}/attachments", headers=headers(),
                           data={"file": (__import__("io").BytesIO(PDF), "devis.pdf", "application/pdf")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    attachment_id = uploaded.get_json()["id"]
    sent = send(client, louise, attachment_ids=[attachment_id])
    assert sent.status_code == 202, sent.get_json()
    assert sent.get_json()["attachments"] == [{"attachment_id": attachment_id, "file_name": "devis.pdf",
                                               "content_type": "application/pdf", "size": len(PDF)}]


def test_nothing_a_message_says_is_stored_in_clear_and_erasure_leaves_tombstones(client, container, louise):
    send(client, louise, subject="Confidentiel", body="Le code est 1234")
    assert not any(word in str(list(container.event_store.commits.find())) for word in ("Confidentiel", "1234",
                                                                                          "louise@example.fr"))
    container.cipher.shred(data_subject(louise))
    container.messages_projection.collection.delete_many({})
    project_all(container)
    tombstones = list(container.messages_projection.collection.find())
    assert tombstones and all("subject" not in doc and "to" not in doc and doc["deleted"] for doc in tombstones)


def test_the_routes_are_in_openapi(client):
    spec = client.get("/openapi.json", headers=headers()).get_json()
    post = spec["paths"]["/v1/contacts/{contact_id}/messages"]["post"]
    assert {"202", "404", "409", "422"} <= set(post["responses"])
    assert "get" in spec["paths"]["/v1/contacts/{contact_id}/messages"]
    assert "get" in spec["paths"]["/v1/contacts/{contact_id}/messages/{message_id}"]


def test_the_sweep_hands_the_outbox_a_message_it_never_got_once(client, container, louise):
    message_id = send(client, louise).get_json()["message_id"]
    container.db["mail_outbox"].delete_many({"_id": message_id})  # as if the API had stopped before handing it over
    assert container.mail_outbox().status(message_id) is None
    project_all(container)
    queued_before = partial(views.queued_messages_before, container.messages_projection.collection)
    assert requeue_lost_messages(container.bus, queued_before) == 0  # too recent: the API may be handing it over
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert requeue_lost_messages(container.bus, queued_before, now=later) == 1
    assert container.mail_outbox().status(message_id) == "queued"
    assert requeue_lost_messages(container.bus, queued_before, now=later) == 0
