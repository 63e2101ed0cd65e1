"""An OutgoingMail is checked when it is made: nothing that could break a header reaches the outbox or SMTP."""
from __future__ import annotations

import pytest

from crm_platform.errors import InvalidInput
from crm_platform.mail import INVALID, MailAttachment, SmtpSender, message_id
from crm_platform.mail.smtp_sender import PermanentFailure
from crm_platform.testing.mail_outbox_contract import a_mail


@pytest.mark.parametrize("field, value", [
    ("subject", "Hello\r\nBcc: everyone@example.com"),
    ("subject", "Hello\nthere"),
    ("subject", "Hello\x00"),
    ("subject", "x" * 999),
    ("to", "ada@example.com\r\nBcc: eve@example.com"),
    ("to", "ada@example.com, eve@example.com"),
    ("to", "Ada <ada@example.com>"),
    ("to", "ada"),
    ("to", "ada@localhost"),
    ("text", "Hello\x00"),
    ("html", "<p>\x00</p>"),
    ("mail_id", "message 1"),
    ("mail_id", ""),
    ("subject_key", "contact:\n1"),
    ("purpose", "spam"),
])
def test_a_mail_that_could_break_its_headers_is_refused_naming_the_field(field, value):
    with pytest.raises(InvalidInput) as refused:
        a_mail(**{field: value})
    assert list(refused.value.errors) == [field]
    assert not value or value not in refused.value.detail  # the detail may reach a log: it never echoes the input


@pytest.mark.parametrize("field, value", [
    ("to", "ada\x00@example.com"), ("to", "ada\x01@example.com"), ("to", "\ud800@example.com"),
    ("subject", "Hello \ud800"), ("text", "Hello \udfff"), ("html", "<p>\ud800</p>"), ("text", "Hello \x1b[2J")])
def test_text_no_database_or_header_takes_is_refused_naming_the_field_before_the_outbox(field, value):
    with pytest.raises(InvalidInput) as refused:  # not a UnicodeEncodeError from the outbox's sealing, nor NUL to SMTP
        a_mail(**{field: value})
    assert list(refused.value.errors) == [field]


def test_an_attachment_name_with_an_unpaired_surrogate_is_refused():
    with pytest.raises(InvalidInput):
        MailAttachment("devis\ud800.pdf", "application/pdf", b"data")


@pytest.mark.parametrize("filename, content_type", [("a\r\nb.pdf", "application/pdf"), ("", "application/pdf"),
                                                     ("a.pdf", "application/pdf\r\nX: y"), ("a.pdf", "pdf")])
def test_an_attachment_that_could_break_its_headers_is_refused(filename, content_type):
    with pytest.raises(InvalidInput):
        MailAttachment(filename, content_type, b"data")


def test_the_message_carries_text_html_attachments_and_a_message_id_from_the_mail_id():
    message = SmtpSender("127.0.0.1", 25, "CRM <no-reply@crm.example>").build(a_mail())
    assert message["To"] == "ada@example.com" and message["Subject"] == "Your invoice INV-7"
    assert message["From"] == "CRM <no-reply@crm.example>"
    assert message["Message-ID"] == message_id("message:1", "crm.example") == message_id("message:1", "crm.example")
    assert message["Message-ID"] != message_id("message:2", "crm.example")
    assert "message:1" not in message["Message-ID"]
    assert message.get_body(("plain",)).get_content().strip() == "Hello Ada"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello Ada</p>"
    attachment, = message.iter_attachments()
    assert (attachment.get_filename(), attachment.get_content_type(), attachment.get_content()) == (
        "invoice.pdf", "application/pdf", b"%PDF-1.7 secret")


def test_a_non_ascii_subject_and_text_are_encoded():
    message = SmtpSender("127.0.0.1", 25, "no-reply@crm.example").build(a_mail(subject="Facture réglée ✓",
                                                                             text="Merci, Zoë", html=None,
                                                                             attachments=()))
    raw = message.as_bytes()
    assert b"Facture r\xc3\xa9gl" not in raw  # encoded-word, not raw UTF-8 in a header
    assert message["Subject"] == "Facture réglée ✓" and not message.is_multipart()


def test_a_stored_mail_changed_by_hand_fails_for_good_instead_of_reaching_smtp():
    mail = a_mail()
    object.__setattr__(mail, "subject", "Hello\r\nBcc: eve@example.com")  # past the checks, as from a bad document
    with pytest.raises(PermanentFailure) as failed:
        SmtpSender("127.0.0.1", 25, "no-reply@crm.example").build(mail)
    assert failed.value.reason == INVALID and "eve" not in failed.value.detail


def test_attachments_too_large_for_one_outbox_document_are_refused():
    with pytest.raises(InvalidInput) as refused:
        a_mail(attachments=(MailAttachment("a.bin", "application/octet-stream", bytes(6 * 2**20)),
                            MailAttachment("b.bin", "application/octet-stream", bytes(5 * 2**20))))
    assert list(refused.value.errors) == ["attachments"]
