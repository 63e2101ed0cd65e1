"""Sends one OutgoingMail over SMTP (smtplib), and says whether a failure is for good or worth a retry.

The message is built with the standard library's EmailMessage (policy SMTP: CRLF lines, headers that refuse
CR/LF): text, with an HTML alternative if given, and the attachments. Its Message-ID is derived from the mail
id, so a mail sent again after a crash between the server's acceptance and the outbox's record carries the
same Message-ID as the first copy: a recipient's client, or an operator, can tell it is the same mail.

What the server says decides the outcome (RFC 5321): a recipient refused with a 5xx reply, or a message
refused with a 5xx after DATA, is PermanentFailure (`rejected`); a 4xx reply, a refused or lost connection
or a timeout is TransientFailure, retried later. A refused sender or a failed login is ours to fix, not the
recipient's: transient too, so that it is retried (and gives `undeliverable` if it lasts), never counted as
a bounce of the address.
"""
from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr

from crm_platform.mail.message import INVALID, REJECTED, OutgoingMail

TLS_MODES = ("none", "starttls", "ssl")


class MailNotSent(Exception):
    """The server did not take the mail; `reason` names why without any personal data."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class PermanentFailure(MailNotSent):
    """Sending again will not help (a 5xx refusal, a message that cannot be built)."""


class TransientFailure(MailNotSent):
    """Worth another try later (a 4xx reply, no connection, a timeout)."""

    def __init__(self, detail: str) -> None:
        super().__init__("transient", detail)


def message_id(mail_id: str, domain: str) -> str:
    """The Message-ID of a mail: the same for every copy sent of one mail id, and no id in clear."""
    return f"<{hashlib.sha256(mail_id.encode()).hexdigest()[:40]}@{domain}>"


class SmtpSender:
    """Delivers mails to one SMTP server (settings SMTP_HOST, SMTP_PORT, SMTP_TLS, SMTP_USERNAME,
    SMTP_PASSWORD, MAIL_FROM), a connection per mail."""

    def __init__(self, host: str, port: int, mail_from: str, tls: str = "none", username: str | None = None,
                 password: str | None = None, timeout_s: float = 30.0) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {TLS_MODES}")
        name, address = parseaddr(mail_from)
        if "@" not in address:
            raise ValueError("mail_from must hold an address such as CRM <no-reply@example.com>")
        self._host, self._port, self._tls = host, port, tls
        self._username, self._password = username, password
        self._timeout_s = timeout_s
        local, _, self._domain = address.rpartition("@")
        self._from = Address(display_name=name, username=local, domain=self._domain)

    @classmethod
    def from_settings(cls, settings: dict) -> "SmtpSender":
        return cls(settings["SMTP_HOST"], settings["SMTP_PORT"], settings["MAIL_FROM"], settings["SMTP_TLS"],
                   settings.get("SMTP_USERNAME"), settings.get("SMTP_PASSWORD"))

    def build(self, mail: OutgoingMail) -> EmailMessage:
        """The message as it goes on the wire; PermanentFailure(`invalid`) if it cannot be made."""
        message = EmailMessage(policy=SMTP)
        try:
            message["From"] = self._from
            message["To"] = mail.to
            message["Subject"] = mail.subject
            message["Date"] = formatdate(localtime=False)
            message["Message-ID"] = message_id(mail.mail_id, self._domain)
            message.set_content(mail.text)
            if mail.html is not None:
                message.add_alternative(mail.html, subtype="html")
            for attachment in mail.attachments:
                maintype, _, subtype = attachment.content_type.partition("/")
                message.add_attachment(bytes(attachment.data), maintype=maintype, subtype=subtype,
                                       filename=attachment.filename)
        except (ValueError, TypeError) as exc:  # a header with CR/LF, an address it cannot parse
            raise PermanentFailure(INVALID, f"the message cannot be built: {type(exc).__name__}") from None
        return message

    def send(self, mail: OutgoingMail) -> None:
        """Hand the mail to the server; PermanentFailure or TransientFailure if it did not take it."""
        message = self.build(mail)
        try:
            with self._connect() as smtp:
                if self._tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentFailure(REJECTED, f"recipient refused ({codes[0]})") from None
            raise TransientFailure(f"recipient deferred ({codes[0] if codes else '?'})") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as exc:
            raise TransientFailure(f"the server refused our sender or login: {_code(exc)}") from None
        except smtplib.SMTPResponseException as exc:  # DATA refused, and the others with a reply code
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(REJECTED, f"message refused ({exc.smtp_code})") from None
            raise TransientFailure(f"message deferred ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused or lost connection, timeout, TLS failure
            raise TransientFailure(f"no SMTP conversation: {type(exc).__name__}") from None

    def _connect(self) -> smtplib.SMTP:
        if self._tls == "ssl":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout_s,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)


def _code(exc: Exception) -> str:
    return str(getattr(exc, "smtp_code", type(exc).__name__))
