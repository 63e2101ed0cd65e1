"""An issued invoice sent by e-mail through the API, on the real database, its mails queued as the worker's mail
consumer queues them and sent by the kernel's dispatcher to a real SMTP server (the sink) (issue 11).

billing.events is not read here (the e2e test goes through Kafka): the send's event is taken from the real event
store and handed to the consumer's handler, `container.queue_mails`, as the consumer would."""
import time
from datetime import timedelta

import pytest

from crm_platform.mail import MailDispatcher, MailOutbox, SmtpSender
from crm_platform.testing.mail_loop import mail_loop_running
from crm_platform.testing.waiting import eventually

from billing.entrypoints.sending_api import SendSchema

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers
from .test_invoices_api import LINE, draft
from .test_printing_api import issue, pdf_of


@pytest.fixture
def settings(settings, smtp_sink):
    return {**settings, "SMTP_HOST": smtp_sink.host, "SMTP_PORT": smtp_sink.port, "MAIL_FROM": "Billing <billing@crm.example>"}


@pytest.fixture
def louise(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:louise", LOUISE))
    return "contact:louise"


@pytest.fixture
def mail_loop(container):
    """The worker's mail loop (with the worker's on_outcome), in a thread of this test."""
    with mail_loop_running(container, container.record_mail_outcome):
        yield


def consume_sends(container, invoice_id) -> None:
    """What the worker's mail consumer does with the invoice's events (every one, as a redelivery would)."""
    for envelope in container.event_store.load(invoice_id):
        container.queue_mails(envelope)


def sends(client, invoice_id):
    answer = client.get(f"/v1/invoices/{invoice_id}/sends", headers=headers())
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["items"]


def test_an_issued_invoice_is_mailed_once_with_the_pdf_the_api_serves_and_becomes_sent(client, container, louise,
                                                                                          smtp_sink, mail_loop):
    invoice = issue(client, draft(client, louise)["id"])
    answer = client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers(), json={"lang": "en"})
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["status"] == "queued" and answer.get_json()["recipients"] == 1
    assert client.get(answer.headers["Location"], headers=headers()).get_json() == answer.get_json()
    consume_sends(container, invoice["id"])
    consume_sends(container, invoice["id"])  # redelivered: queued once
    [send] = eventually(lambda: (items := sends(client, invoice["id"]))[0]["status"] == "sent" and items,
                        "the send recorded as sent")
    assert send["deliveries"][0]["status"] == "sent" and send["reason"] is None
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ("louise@papier.fr",)  # the primary address
    mail = received.message
    assert mail["Subject"].startswith(f"Invoice {invoice['number']} - ")
    assert mail["Message-ID"].endswith("@crm.example>")
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == f"{invoice['number']}.pdf" and attached.get_content_type() == "application/pdf"
    content = attached.get_content()
    assert content.startswith(b"%PDF") and content == pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf?lang=en")
    time.sleep(2)  # a few more rounds of the loop: nothing is sent again
    assert len(smtp_sink.messages) == 1
    events = [e.event_type for e in container.event_store.load(invoice["id"])]
    assert events[-2:] == ["InvoiceSendRequested", "InvoiceSent"]


def test_a_refused_recipient_fails_the_send_with_the_reason(client, container, louise, smtp_sink, mail_loop):
    smtp_sink.refused.add("gone@example.fr")
    invoice = issue(client, draft(client, louise)["id"])
    answer = client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers(),
                         json={"to": ["gone@example.fr"], "subject": "Votre facture", "message": "Ci-jointe."})
    assert answer.status_code == 202, answer.get_json()
    consume_sends(container, invoice["id"])
    [send] = eventually(lambda: (items := sends(client, invoice["id"]))[0]["status"] == "failed" and items,
                        "the send recorded as failed")
    assert send["reason"] == "rejected" and send["deliveries"][0]["reason"] == "rejected"
    assert SendSchema().validate(send) == {}  # what it answers is what the OpenAPI document says (its enums)


def test_a_draft_no_address_and_a_bounced_one_are_refused_naming_why(client, container):
    events = ContactEvents(container.cipher)  # version by version, as the producer numbers them
    container.apply_to_customers(events.created("contact:louise", LOUISE))
    created = draft(client, "contact:louise")
    refused = client.post(f"/v1/invoices/{created['id']}/send", headers=headers())
    assert refused.status_code == 409 and refused.get_json()["type"] == "/problems/document-not-sendable"
    assert "only an issued invoice is sent" in refused.get_json()["detail"]
    invoice = issue(client, created["id"])
    bounced = {**LOUISE, "emails": [{"address": "louise@papier.fr", "primary": True, "deliverability": "bounced"}]}
    container.apply_to_customers(events.updated("contact:louise", bounced))
    refused = client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers())
    assert refused.status_code == 422 and "to" in refused.get_json()["errors"], refused.get_json()
    container.apply_to_customers(events.updated("contact:louise", {**LOUISE, "emails": []}))
    refused = client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers())
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["to"]
    for body, field in (({"subject": "a\nBcc: x@example.com", "to": ["a@example.fr"]}, "subject"),
                        ({"to": ["not an address"]}, "to"), ({"lang": "de", "to": ["a@example.fr"]}, "lang"),
                        ({"to": []}, "to"), ({"cc": ["a@example.fr"]}, "cc")):
        refused = client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers(), json=body)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], (body, refused.get_json())
    repeated = {"to": ["a@example.fr", "A@example.fr", "Louise <b@example.fr>"]}  # named as sent: the third
    refused = client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers(), json=repeated)
    assert refused.status_code == 422 and list(refused.get_json()["errors"]["to"]) == ["2"], refused.get_json()
    assert not [e for e in container.event_store.load(invoice["id"]) if e.event_type == "InvoiceSendRequested"]


class DiesAfterHandOver:
    """An SMTP sender whose process dies once the server took the mail, before the outbox records it sent."""

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender

    def send(self, mail) -> None:
        self._sender.send(mail)
        raise KeyboardInterrupt("the worker was killed")


def test_a_worker_killed_between_hand_over_and_sent_sends_again_under_the_same_message_id(client, container, louise,
                                                                                         smtp_sink):
    invoice = issue(client, draft(client, louise)["id"])
    assert client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers()).status_code == 202
    consume_sends(container, invoice["id"])
    sender = SmtpSender.from_settings(container.settings)
    dying = MailDispatcher(container.mail_outbox(), DiesAfterHandOver(sender), container.record_mail_outcome)
    with pytest.raises(KeyboardInterrupt):
        dying.dispatch_due()
    assert sends(client, invoice["id"])[0]["status"] == "queued"
    # the next worker finds the mail left `sending` (stale at once here, 3 minutes in production) and sends it
    restarted = MailDispatcher(MailOutbox(container.db["mail_outbox"], container.cipher, stale_after=timedelta(0)),
                               sender, container.record_mail_outcome)
    assert restarted.dispatch_due() == 1
    first, second = smtp_sink.wait_for(2)
    assert first.message["Message-ID"] == second.message["Message-ID"]  # one mail twice: a client shows it once
    assert [s["status"] for s in sends(client, invoice["id"])] == ["sent"]
    assert [e.event_type for e in container.event_store.load(invoice["id"])].count("InvoiceSent") == 1


def test_a_send_whose_document_key_was_shredded_before_it_was_queued_queues_nothing(client, container, louise):
    invoice = issue(client, draft(client, louise)["id"])
    assert client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers()).status_code == 202
    container.cipher.shred(f"billing-document:{invoice['id']}")  # its retention ended meanwhile
    consume_sends(container, invoice["id"])  # no error: the consumer goes on
    assert container.db["mail_outbox"].count_documents({}) == 0


def test_a_sent_quote_is_mailed_once_with_the_pdf_the_api_serves(client, container, louise, smtp_sink, mail_loop):
    quote = client.post("/v1/quotes", headers=headers(), json={"contact_id": louise, "lines": [LINE]}).get_json()
    refused = client.post(f"/v1/quotes/{quote['id']}/email", headers=headers())
    assert refused.status_code == 409 and refused.get_json()["type"] == "/problems/document-not-sendable"
    numbered = client.post(f"/v1/quotes/{quote['id']}/send", headers=headers())  # the quote's own "send": numbering
    assert numbered.status_code == 200, numbered.get_json()
    answer = client.post(f"/v1/quotes/{quote['id']}/email", headers=headers(), json={"to": ["achats@papier.fr"]})
    assert answer.status_code == 202, answer.get_json()
    consume_sends(container, quote["id"])
    eventually(lambda: client.get(answer.headers["Location"], headers=headers()).get_json()["status"] == "sent",
               "the mailing recorded as sent")
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ("achats@papier.fr",)
    [attached] = list(received.message.iter_attachments())
    assert attached.get_filename() == f"{numbered.get_json()['number']}.pdf"
    assert attached.get_content() == pdf_of(client, f"/v1/quotes/{quote['id']}/pdf")


def test_an_issued_credit_note_is_mailed_once_with_the_pdf_the_api_serves(client, container, louise, smtp_sink,
                                                                           mail_loop):
    from crm_platform.openapi import documented_statuses

    invoice = issue(client, draft(client, louise)["id"])
    note = client.post("/v1/credit-notes", headers=headers(), json={"invoice_id": invoice["id"], "reason": "Erreur"})
    assert note.status_code == 201, note.get_json()
    note = note.get_json()
    answer = client.post(f"/v1/credit-notes/{note['id']}/send", headers=headers(), json={"lang": "en"})
    assert answer.status_code == 202, answer.get_json()
    assert answer.headers["Location"].endswith(f"/v1/credit-notes/{note['id']}/sends/{answer.get_json()['send_id']}")
    consume_sends(container, note["id"])
    consume_sends(container, note["id"])  # redelivered: queued once
    eventually(lambda: client.get(answer.headers["Location"], headers=headers()).get_json()["status"] == "sent",
               "the credit note's send recorded as sent")
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ("louise@papier.fr",)
    assert received.message["Subject"].startswith(f"Credit note {note['number']} - ")
    [attached] = list(received.message.iter_attachments())
    assert attached.get_filename() == f"{note['number']}.pdf"
    assert attached.get_content() == pdf_of(client, f"/v1/credit-notes/{note['id']}/pdf?lang=en")
    listed = client.get(f"/v1/credit-notes/{note['id']}/sends", headers=headers())
    assert [send["status"] for send in listed.get_json()["items"]] == ["sent"]
    assert client.get(f"/v1/credit-notes/{note['id']}/sends/nope", headers=headers()).status_code == 404
    refused = client.post(f"/v1/credit-notes/{note['id']}/send", headers=headers(), json={"to": ["not an address"]})
    assert refused.status_code == 422 and "to" in refused.get_json()["errors"]
    assert client.post("/v1/credit-notes/credit-note:nope/send", headers=headers()).status_code == 404
    path = "/v1/credit-notes/cn-1/send"  # the OpenAPI document declares the routes and their answers
    assert {"202", "404", "409", "422"} <= set(documented_statuses(client.application, "POST", path))
    assert "200" in documented_statuses(client.application, "GET", "/v1/credit-notes/cn-1/sends")


def test_an_e_invoice_is_mailed_as_its_factur_x_pdf(client, container, smtp_sink, mail_loop):
    from .test_e_invoice_api import attachments_of, issued_invoice

    container.apply_to_customers(ContactEvents(container.cipher).created("contact:louise", LOUISE))
    invoice = issued_invoice(client, "contact:louise")  # a seller EN 16931 describes
    answer = client.post(f"/v1/invoices/{invoice['id']}/send", headers=headers(), json={})
    assert answer.status_code == 202, answer.get_json()
    consume_sends(container, invoice["id"])
    [received] = smtp_sink.wait_for(1)
    [attached] = list(received.message.iter_attachments())
    xml = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=headers())
    assert xml.status_code == 200
    assert attachments_of(attached.get_content()) == {"factur-x.xml": xml.data}
    assert attached.get_content() == pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf")
