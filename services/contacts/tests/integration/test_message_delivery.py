"""A message to a contact goes out through the kernel's mail outbox and dispatcher to a real SMTP server (the
sink), and its outcome comes back on the message and, for a refused address, on the contact (issue 12)."""
import io
import time

import pytest

from crm_platform.testing.mail_loop import mail_loop_running
from crm_platform.testing.waiting import eventually

from contacts.entrypoints.messages_api import MessageSchema

from .conftest import headers

PDF = b"%PDF-1.7\n" + b"devis " * 400


@pytest.fixture
def settings(settings, smtp_sink):
    """The service's settings with the SMTP sink as its mail server."""
    return {**settings, "SMTP_HOST": smtp_sink.host, "SMTP_PORT": smtp_sink.port}


@pytest.fixture
def mail_loop(container):
    """The worker's mail loop (container.mail_loop with the worker's on_outcome), in a thread of this test."""
    with mail_loop_running(container, container.message_outcomes()):
        yield


def status_of(client, contact_id, message_id):
    return client.get(f"/v1/contacts/{contact_id}/messages/{message_id}", headers=headers()).get_json()


def test_a_message_is_delivered_once_with_its_attachment_and_becomes_sent(client, container, smtp_sink, mail_loop):
    contact_id = client.post("/v1/contacts", headers=headers(), json={
        "first_name": "Louise", "emails": [{"address": "louise@example.fr"}]}).get_json()["id"]
    attachment_id = client.post(f"/v1/contacts/{contact_id}/attachments", headers=headers(),
                                content_type="multipart/form-data",
                                data={"file": (io.BytesIO(PDF), "devis.pdf", "application/pdf")}).get_json()["id"]
    sent = client.post(f"/v1/contacts/{contact_id}/messages", headers=headers(), json={
        "subject": "Votre devis", "body": "Bonjour Louise,\nci-joint le devis.", "attachment_ids": [attachment_id]})
    assert sent.status_code == 202, sent.get_json()
    message_id = sent.get_json()["message_id"]
    read = eventually(lambda: (m := status_of(client, contact_id, message_id))["status"] == "sent" and m,
                      "the message recorded as sent")
    assert read["reason"] is None and read["finished_at"]
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ("louise@example.fr",)
    mail = received.message
    assert mail["Subject"] == "Votre devis"
    assert "ci-joint le devis" in mail.get_body(("plain",)).get_content()
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "devis.pdf" and attached.get_content() == PDF
    time.sleep(2)  # a few more rounds of the loop: nothing is sent again
    assert len(smtp_sink.messages) == 1
    assert [e.event_type for e in container.event_store.load(message_id)] == ["MessageQueued", "MessageSent"]


def test_a_refused_recipient_fails_the_message_and_bounces_the_address(client, container, smtp_sink, mail_loop):
    smtp_sink.refused.add("gone@example.fr")
    created = client.post("/v1/contacts", headers=headers(), json={
        "first_name": "Paul", "emails": [{"address": "gone@example.fr"}, {"address": "paul@example.fr"}]}).get_json()
    contact_id = created["id"]
    sent = client.post(f"/v1/contacts/{contact_id}/messages", headers=headers(),
                       json={"subject": "Bonjour", "body": "Un message"})
    assert sent.status_code == 202, sent.get_json()
    message_id = sent.get_json()["message_id"]
    failed = eventually(lambda: (m := status_of(client, contact_id, message_id))["status"] == "failed" and m,
                        "the message recorded as failed")
    assert failed["reason"] == "rejected"
    assert MessageSchema().validate(failed) == {}  # what it answers is what the OpenAPI document says (its enums)
    with container.unit_of_work() as uow:  # recorded before the message failed (no worker projects it here)
        contact = uow.contacts.get("acct-1", contact_id)
    assert contact.revision == 2
    assert [(e["address"], e["deliverability"]) for e in contact.details["emails"]] == [
        ("gone@example.fr", "bounced"), ("paul@example.fr", "not_set")]
    again = client.post(f"/v1/contacts/{contact_id}/messages", headers=headers(),
                        json={"subject": "Bonjour", "body": "Encore", "to": "gone@example.fr"})
    assert again.status_code == 409 and again.get_json()["type"] == "/problems/email-bounced"


def test_marketing_queued_before_a_restriction_of_processing_is_never_sent(client, container, smtp_sink):
    """Art. 18: the check when the message is queued comes too early for a restriction that arrives while it
    waits; the dispatcher asks again, and an invoice-like (transactional) message still goes."""
    contact_id = client.post("/v1/contacts", headers=headers(), json={
        "first_name": "Inès", "emails": [{"address": "ines@example.fr"}]}).get_json()["id"]
    marketing = client.post(f"/v1/contacts/{contact_id}/messages", headers=headers(), json={
        "subject": "Nos offres", "body": "Promotion", "marketing": True}).get_json()["message_id"]
    transactional = client.post(f"/v1/contacts/{contact_id}/messages", headers=headers(), json={
        "subject": "Votre facture", "body": "Ci-joint"}).get_json()["message_id"]
    container.processing_restrictions().restrict("acct-1", [contact_id], "request-1")
    with mail_loop_running(container, container.message_outcomes()):  # started only now: after the restriction
        failed = eventually(lambda: (m := status_of(client, contact_id, marketing))["status"] == "failed" and m,
                            "the marketing message recorded as failed")
        eventually(lambda: status_of(client, contact_id, transactional)["status"] == "sent", "the other one sent")
    assert failed["reason"] == "processing_restricted" and MessageSchema().validate(failed) == {}
    assert [m.message["Subject"] for m in smtp_sink.messages] == ["Votre facture"]
