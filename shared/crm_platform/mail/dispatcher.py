"""The mail dispatcher: sends the outbox's due mails, records what became of them, and reports each outcome.

One dispatcher per service sends at a time: it holds the lease `mail-dispatch` (crm_platform.leases), renewed
before each mail, the way the outbox relay holds its own. The outbox's claim of a mail is a compare-and-set,
which FerretDB 1.24 does not make exclusive, so without the lease two dispatchers could both send one mail.

Per mail: claim it (one more attempt), open its sealed parts (an erased person: failed, `subject_erased`),
check that a marketing mail's person has not restricted processing since it was queued (GDPR Art. 18: failed,
`processing_restricted`, never sent), and that the contact a notification is about (`about_contact_id`) has
not either: then the service's `restricted_notice` of it is sent instead, which says that something about a
restricted contact needs the user without saying what (the user still hears of their own work; the contact's
data is not processed), or, when the service gives none, it fails `processing_restricted`. Then hand it to the
sender. Accepted: sent. Refused for good: failed with the sender's reason (`rejected`).
Failed for now: queued again with an exponential backoff (`retry_base` doubled per attempt, at most
`retry_cap`), until `max_attempts` attempts have failed: then failed, `undeliverable`.

Outcomes are recorded in the outbox before they are reported to `on_outcome`, and marked reported after
it returns: a process that stops in between reports them again on its next round, so `on_outcome` must be
idempotent (keyed by mail_id). An outage while reporting ends the round (the loop waits it out); any other
error is the outcome's: the others are reported all the same, and after `max_report_attempts` failed rounds
it is set aside (kept in the outbox with the error), as a consumer dead-letters an event it cannot apply.
Logs name the mail id and the reason, never an address or a subject.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Callable, Protocol

from crm_platform.errors import InvalidInput
from crm_platform.event_consumer import described_error
from crm_platform.leases import Lease
from crm_platform.liveness import still_working
from crm_platform.mail.message import (FAILED, INVALID, PROCESSING_RESTRICTED, SENT, SUBJECT_ERASED,
                                       UNDELIVERABLE, MailOutcome, OutgoingMail)
from crm_platform.mail.outbox import MailOutbox, QueuedMail, utc_now
from crm_platform.mail.smtp_sender import PermanentFailure, TransientFailure
from crm_platform.metrics import MAILS_DEFERRED, MAILS_FAILED, MAILS_SENT
from crm_platform.outages import is_transient
from crm_platform.personal_data import SubjectErased
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

log = logging.getLogger(__name__)


class MailSender(Protocol):
    def send(self, mail: OutgoingMail) -> None:
        """Deliver, or raise PermanentFailure / TransientFailure."""


# A notification about a contact who restricted processing -> the same notification without their data
RestrictedNotice = Callable[[OutgoingMail], OutgoingMail]


class MailDispatcher:
    def __init__(self, outbox: MailOutbox, sender: MailSender, on_outcome: Callable[[MailOutcome], None],
                 clock: Callable[[], datetime] = utc_now, max_attempts: int = 8, lease: Lease | None = None,
                 retry_base: timedelta = timedelta(seconds=30), retry_cap: timedelta = timedelta(hours=1),
                 max_report_attempts: int = 5, restrictions: RestrictionCheck = NOTHING_RESTRICTED,
                 restricted_notice: RestrictedNotice | None = None) -> None:
        self._outbox = outbox
        self._sender = sender
        self._on_outcome = on_outcome
        self._clock = clock
        self._max_attempts = max_attempts
        self._lease = lease
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._max_report_attempts = max_report_attempts
        self._restrictions = restrictions
        self._restricted_notice = restricted_notice
        self._report_failures: dict[str, int] = {}  # mail id -> rounds its report failed in (not an outage)
        self.standing_by = False  # another dispatcher holds the lease

    def dispatch_due(self, limit: int = 50) -> int:
        """Send what is due (up to `limit` mails) and report the outcomes; how many mails were handled."""
        if not self._holds_lease():
            return 0
        handled = 0
        for queued in self._outbox.due(limit):
            if not self._holds_lease():
                break  # another dispatcher took over: it sends the rest
            if self._outbox.claim(queued):
                self._dispatch(queued)
                handled += 1
            still_working()
        self.report_outcomes(limit)
        return handled

    def report_outcomes(self, limit: int = 50) -> int:
        """Hand recorded outcomes to `on_outcome`, each marked reported once it returned; how many were.

        Raises an outage at once, and the first other error once the rest of the round is reported."""
        reported, first_error = 0, None
        for outcome in self._outbox.outcomes_to_report(limit):
            try:
                self._on_outcome(outcome)
            except Exception as exc:  # an outage waits for the next round; the outcome's own error stalls no other
                if is_transient(exc):
                    raise
                if self._failed_to_report(outcome.mail_id, exc):
                    first_error = first_error or exc
                continue
            self._report_failures.pop(outcome.mail_id, None)
            self._outbox.reported(outcome.mail_id)
            reported += 1
        if first_error is not None:
            raise first_error
        return reported

    def _failed_to_report(self, mail_id: str, error: Exception) -> bool:
        """Count a failed report; True while it may be tried again, False once the outcome is set aside."""
        failures = self._report_failures.get(mail_id, 0) + 1
        if failures < self._max_report_attempts:
            self._report_failures[mail_id] = failures
            return True
        self._report_failures.pop(mail_id, None)
        self._outbox.set_aside(mail_id, described_error(error))
        log.error("mail outcome set aside: its report kept failing",
                  extra={"mail_id": mail_id, "attempts": failures, "error": described_error(error)})
        return False

    def backoff(self, attempts: int) -> timedelta:
        """How long after its `attempts`-th failed attempt a mail is tried again."""
        return min(self._retry_cap, self._retry_base * 2 ** (attempts - 1))

    def _dispatch(self, queued: QueuedMail) -> None:
        attempt = queued.attempts + 1
        try:
            mail = self._outbox.open(queued.mail_id)
        except SubjectErased:
            return self._fail(queued, SUBJECT_ERASED, "the person was erased before the mail went")
        except (LookupError, InvalidInput) as exc:  # a document without content, or changed by hand: never sendable
            return self._fail(queued, INVALID, f"the stored mail does not open: {type(exc).__name__}")
        if self._restricted_marketing(mail):
            return self._fail(queued, PROCESSING_RESTRICTED, "marketing to a person who restricted processing")
        if self._about_restricted_contact(mail):
            if self._restricted_notice is None:
                return self._fail(queued, PROCESSING_RESTRICTED, "a notification about a restricted contact")
            mail = self._restricted_notice(mail)
        try:
            self._sender.send(mail)
        except PermanentFailure as exc:
            return self._fail(queued, exc.reason, exc.detail)
        except TransientFailure as exc:
            if attempt >= self._max_attempts:
                return self._fail(queued, UNDELIVERABLE, f"{attempt} attempts failed, the last: {exc.detail}")
            retry_in = self.backoff(attempt)
            self._outbox.retry_at(queued.mail_id, self._clock() + retry_in)
            MAILS_DEFERRED.labels(queued.purpose).inc()
            log.warning("mail deferred", extra={"mail_id": queued.mail_id, "attempt": attempt, "error": exc.detail,
                                                "retry_in_s": retry_in.total_seconds()})
            return None
        self._outbox.finish(queued.mail_id, SENT)
        MAILS_SENT.labels(queued.purpose).inc()
        log.info("mail sent", extra={"mail_id": queued.mail_id, "attempt": attempt})
        return None

    def _restricted_marketing(self, mail: OutgoingMail) -> bool:
        """A marketing mail to a contact who restricted processing (Art. 18) after it was queued: the check at
        queueing came too early. Transactional and notification mails go (a restriction keeps what the law
        requires, such as an invoice); an outage reading the restrictions ends the round like any other."""
        kind, _, contact_id = mail.subject_key.partition(":")
        return mail.purpose == "marketing" and kind == "contact" and bool(
            self._restrictions.restricted(mail.account_id, [contact_id]))

    def _about_restricted_contact(self, mail: OutgoingMail) -> bool:
        """A notification about a contact whose processing is restricted now (Art. 18), whenever that began."""
        return mail.purpose == "notification" and mail.about_contact_id is not None and bool(
            self._restrictions.restricted(mail.account_id, [mail.about_contact_id]))

    def _fail(self, queued: QueuedMail, reason: str, detail: str) -> None:
        self._outbox.finish(queued.mail_id, FAILED, reason)
        MAILS_FAILED.labels(queued.purpose, reason).inc()
        log.warning("mail failed", extra={"mail_id": queued.mail_id, "reason": reason, "error": detail})

    def _holds_lease(self) -> bool:
        self.standing_by = self._lease is not None and not self._lease.acquire_or_renew()
        return not self.standing_by

    def run(self, stop: threading.Event, idle_interval_s: float = 1.0, max_backoff_s: float = 30.0) -> None:
        """Dispatch until `stop` is set; outlive SMTP and database outages with a capped backoff."""
        backoff = idle_interval_s
        while not stop.is_set():
            try:
                handled = self.dispatch_due()
                backoff = idle_interval_s
                if handled:
                    continue
                wait = self._standby_wait() if self.standing_by else idle_interval_s
            except Exception as exc:  # the loop outlives an outage or a failing on_outcome: it logs, backs off
                # without a traceback, whose messages may quote personal data (a value the database refused)
                log.error("mail dispatch failed; retrying",
                          extra={"retry_in_s": backoff, "error": described_error(exc)})
                backoff = min(max_backoff_s, max(backoff * 2, 0.5))
                wait = backoff
            stop.wait(wait)
        if self._lease is not None:
            try:
                self._lease.release()
            except Exception:  # stopping during an outage: the lease runs out by itself
                log.exception("could not release the mail-dispatch lease")

    def _standby_wait(self) -> float:
        return min(1.0, self._lease.ttl.total_seconds() / 10) if self._lease is not None else 1.0
