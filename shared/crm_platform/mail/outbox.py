"""The mail outbox: mails waiting to be sent, in a collection of the service's own database.

A service enqueues in the same breath as the change that causes the mail (a handler, a consumer): the
outbox keeps it until the dispatcher (crm_platform.mail.dispatcher) has sent it, or given up on it, and
has reported the outcome. One document per mail, `_id` = mail_id: enqueueing the same id again is a
duplicate-key insert, refused, on every server (FerretDB 1.24 included), so a replayed event queues
nothing twice. The document stays after the mail went, without its content, as that record.

The personal parts (address, subject, bodies, attachments) are sealed under the mail's subject_key with
the kernel's PersonalDataCipher: erasing the person makes a queued mail unreadable, and the dispatcher then
reports it failed (`subject_erased`). Once a mail is sent or failed, its sealed content is deleted.

A mail's status goes queued -> sending -> sent | failed, or back to queued with a later `next_attempt_at`
after a transient failure. A compare-and-set of one document is not exclusive on FerretDB 1.24, so the
claim (queued -> sending) is not what keeps two dispatchers from sending one mail: the dispatcher's lease
is. A mail left `sending` by a dispatcher that died is claimed again once `stale_after` has passed and sent
again, under the same Message-ID.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from bson import Binary
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.mail.message import FAILED, SUBJECT_ERASED, MailAttachment, MailOutcome, OutgoingMail
from crm_platform.metrics import MAILS_QUEUED
from crm_platform.personal_data import PersonalDataCipher, SubjectErased

QUEUED, SENDING = "queued", "sending"
# Longer than one SMTP conversation (SmtpSender's timeout) plus a lease's lifetime after its holder's last call:
# a mail still `sending` after that was left by a dispatcher that stopped.
STALE_AFTER = timedelta(minutes=3)
_DUE_FIELDS = {"status": 1, "attempts": 1, "purpose": 1}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class QueuedMail:
    """A mail due for sending, without its sealed content (opened only when sent)."""

    mail_id: str
    status: str  # queued, or sending when a dispatcher left it so
    attempts: int  # SMTP attempts made so far
    purpose: str


class MailOutbox:
    """Mails to send, sealed per person, and outcomes to report, in the collection `mail_outbox`."""

    def __init__(self, collection: Collection, cipher: PersonalDataCipher,
                 clock: Callable[[], datetime] = utc_now, stale_after: timedelta = STALE_AFTER) -> None:
        self._mails = collection
        self._cipher = cipher
        self._clock = clock
        self._stale_after = stale_after

    def ensure_indexes(self) -> None:
        self._mails.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        self._mails.create_index([("report", ASCENDING)], sparse=True)

    def enqueue(self, mail: OutgoingMail) -> bool:
        """Queue `mail`; False if a mail with its id was queued before (nothing changes then).

        A mail to an erased person is recorded failed (`subject_erased`), its outcome reported like any other."""
        now = self._clock()
        doc = {"_id": mail.mail_id, "account_id": mail.account_id, "subject_key": mail.subject_key,
               "purpose": mail.purpose, "reference": dict(mail.reference), "attempts": 0, "queued_at": now,
               "about_contact_id": mail.about_contact_id}
        try:
            doc |= {"status": QUEUED, "next_attempt_at": now, **self._sealed(mail)}
        except SubjectErased:
            doc |= {"status": FAILED, "reason": SUBJECT_ERASED, "finished_at": now, "report": True}
        try:
            self._mails.insert_one(doc)
        except DuplicateKeyError:
            return False
        MAILS_QUEUED.labels(mail.purpose).inc()
        return True

    def status(self, mail_id: str) -> str | None:
        """queued | sending | sent | failed, or None for an id never enqueued."""
        doc = self._mails.find_one({"_id": mail_id}, {"status": 1})
        return None if doc is None else doc["status"]

    def due(self, limit: int) -> list[QueuedMail]:
        """Mails to send now: queued ones whose time has come, and those a stopped dispatcher left `sending`."""
        now = self._clock()
        found = list(self._mails.find({"status": QUEUED, "next_attempt_at": {"$lte": now}},
                                      _DUE_FIELDS).limit(limit))
        if len(found) < limit:
            found += self._mails.find({"status": SENDING, "claimed_at": {"$lte": now - self._stale_after}},
                                      _DUE_FIELDS).limit(limit - len(found))
        return [QueuedMail(doc["_id"], doc["status"], doc.get("attempts", 0), doc["purpose"]) for doc in found]

    def claim(self, queued: QueuedMail) -> bool:
        """Mark the mail `sending` (one more attempt); False if it changed since `due` read it."""
        claimed = self._mails.update_one(
            {"_id": queued.mail_id, "status": queued.status, "attempts": queued.attempts},
            {"$set": {"status": SENDING, "claimed_at": self._clock(), "attempts": queued.attempts + 1}})
        return claimed.modified_count == 1

    def open(self, mail_id: str) -> OutgoingMail:
        """The mail with its personal parts; SubjectErased once the person's key is gone."""
        doc = self._mails.find_one({"_id": mail_id})
        if doc is None or "sealed" not in doc:
            raise LookupError(f"mail {mail_id} has no content to send")
        parts = self._cipher.open(doc["sealed"])
        key = self._cipher.opening_key(doc["subject_key"]) if doc.get("attachments") else None
        attachments = tuple(
            MailAttachment(meta["filename"], meta["content_type"],
                           key.open(bytes(data), _attachment_context(mail_id, index)))
            for index, (meta, data) in enumerate(zip(parts["attachments"], doc.get("attachments", []))))
        return OutgoingMail(mail_id=mail_id, account_id=doc["account_id"], subject_key=doc["subject_key"],
                            to=parts["to"], subject=parts["subject"], text=parts["text"], html=parts["html"],
                            attachments=attachments, purpose=doc["purpose"], reference=doc["reference"],
                            about_contact_id=doc.get("about_contact_id"))

    def retry_at(self, mail_id: str, when: datetime) -> None:
        """Back to the queue after a transient failure, due again at `when`."""
        self._mails.update_one({"_id": mail_id, "status": SENDING},
                               {"$set": {"status": QUEUED, "next_attempt_at": when}, "$unset": {"claimed_at": ""}})

    def finish(self, mail_id: str, status: str, reason: str | None = None) -> None:
        """Record the mail sent or failed, delete its sealed content, and keep its outcome to report."""
        self._mails.update_one({"_id": mail_id}, {
            "$set": {"status": status, "reason": reason, "finished_at": self._clock(), "report": True},
            "$unset": {"sealed": "", "attachments": "", "claimed_at": "", "next_attempt_at": ""}})

    def outcomes_to_report(self, limit: int) -> list[MailOutcome]:
        """Outcomes recorded and not yet reported (the process may have stopped in between)."""
        return [MailOutcome(mail_id=doc["_id"], account_id=doc["account_id"], reference=doc.get("reference", {}),
                            status=doc["status"], reason=doc.get("reason"), attempts=doc.get("attempts", 0),
                            at=_aware(doc["finished_at"]))
                for doc in self._mails.find({"report": True}).limit(limit)]

    def reported(self, mail_id: str) -> None:
        self._mails.update_one({"_id": mail_id}, {"$unset": {"report": ""}})

    def set_aside(self, mail_id: str, error: str) -> None:
        """Stop reporting an outcome whose report kept failing; `report_error` keeps why, for an operator."""
        self._mails.update_one({"_id": mail_id}, {"$unset": {"report": ""}, "$set": {"report_error": error}})

    def _sealed(self, mail: OutgoingMail) -> dict:
        parts = {"to": mail.to, "subject": mail.subject, "text": mail.text, "html": mail.html,
                 "attachments": [{"filename": a.filename, "content_type": a.content_type} for a in mail.attachments]}
        sealed = {"sealed": self._cipher.seal(mail.subject_key, parts)}
        if mail.attachments:
            key = self._cipher.sealing_key(mail.subject_key)
            sealed["attachments"] = [Binary(key.seal(bytes(a.data), _attachment_context(mail.mail_id, index)))
                                     for index, a in enumerate(mail.attachments)]
        return sealed


def _attachment_context(mail_id: str, index: int) -> bytes:
    """Binds sealed attachment bytes to their mail and place: they open nowhere else."""
    return f"mail:{mail_id}:{index}".encode()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
