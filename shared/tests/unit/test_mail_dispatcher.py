"""The mail dispatcher on the in-memory outbox, a scripted sender and a clock that moves only when told to."""
from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import timedelta

import pytest
from pymongo.errors import DuplicateKeyError

from crm_platform.errors import DependencyUnavailable
from crm_platform.leases import Lease
from crm_platform.mail import (FAILED, INVALID, PROCESSING_RESTRICTED, REJECTED, SENT, SUBJECT_ERASED, UNDELIVERABLE,
                               MailDispatcher)
from crm_platform.mail.smtp_sender import PermanentFailure, TransientFailure
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_mail_outbox import in_memory_mail_outbox
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore
from crm_platform.testing.mail_outbox_contract import SteppingClock, a_mail


class ScriptedSender:
    """Answers each send with the next of `script` (None: accepted), then accepts."""

    def __init__(self, *script: Exception | None) -> None:
        self.script = list(script)
        self.sent = []

    def send(self, mail) -> None:
        self.sent.append(mail)
        if self.script and (answer := self.script.pop(0)) is not None:
            raise answer


@pytest.fixture
def clock():
    return SteppingClock()


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def outbox(cipher, clock):
    return in_memory_mail_outbox(cipher, clock)


@pytest.fixture
def outcomes():
    return []


def dispatcher(outbox, sender, outcomes, clock, **options) -> MailDispatcher:
    return MailDispatcher(outbox, sender, outcomes.append, clock=clock, **options)


def test_a_mail_is_sent_once_and_its_outcome_reported(outbox, clock, outcomes):
    sender = ScriptedSender()
    outbox.enqueue(a_mail())
    assert dispatcher(outbox, sender, outcomes, clock).dispatch_due() == 1
    assert [m.to for m in sender.sent] == ["ada@example.com"]
    assert [(o.mail_id, o.status, o.reason, o.attempts, o.reference) for o in outcomes] == [
        ("message:1", SENT, None, 1, {"message_id": "m-1"})]
    assert dispatcher(outbox, sender, outcomes, clock).dispatch_due() == 0
    assert len(sender.sent) == 1 and len(outcomes) == 1


def test_a_permanent_refusal_fails_the_mail_without_a_retry(outbox, clock, outcomes):
    sender = ScriptedSender(PermanentFailure(REJECTED, "recipient refused (550)"))
    outbox.enqueue(a_mail())
    dispatcher(outbox, sender, outcomes, clock).dispatch_due()
    clock.advance(days=1)
    dispatcher(outbox, sender, outcomes, clock).dispatch_due()
    assert len(sender.sent) == 1
    assert [(o.status, o.reason) for o in outcomes] == [(FAILED, REJECTED)]


def test_transient_failures_are_retried_with_a_doubling_backoff(outbox, clock, outcomes):
    sender = ScriptedSender(TransientFailure("no SMTP conversation"), TransientFailure("message deferred (451)"))
    mails = dispatcher(outbox, sender, outcomes, clock, retry_base=timedelta(seconds=30))
    outbox.enqueue(a_mail())
    mails.dispatch_due()
    assert outbox.status("message:1") == "queued" and outcomes == []
    clock.advance(seconds=29)
    assert mails.dispatch_due() == 0
    clock.advance(seconds=1)
    assert mails.dispatch_due() == 1  # second attempt, deferred for 60 s
    clock.advance(seconds=59)
    assert mails.dispatch_due() == 0
    clock.advance(seconds=1)
    mails.dispatch_due()
    assert len(sender.sent) == 3
    assert [(o.status, o.attempts) for o in outcomes] == [(SENT, 3)]


def test_the_backoff_is_capped():
    mails = MailDispatcher(None, None, None, retry_base=timedelta(seconds=30), retry_cap=timedelta(hours=1))
    assert [mails.backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_a_mail_is_undeliverable_after_max_attempts(outbox, clock, outcomes):
    sender = ScriptedSender(*[TransientFailure("no SMTP conversation")] * 3)
    mails = dispatcher(outbox, sender, outcomes, clock, max_attempts=3)
    outbox.enqueue(a_mail())
    for _ in range(5):
        mails.dispatch_due()
        clock.advance(hours=2)
    assert len(sender.sent) == 3 and outbox.status("message:1") == FAILED
    assert [(o.status, o.reason, o.attempts) for o in outcomes] == [(FAILED, UNDELIVERABLE, 3)]


def test_an_erased_person_s_queued_mail_fails_as_subject_erased(outbox, cipher, clock, outcomes):
    sender = ScriptedSender()
    outbox.enqueue(a_mail())
    cipher.shred("contact:c1")
    dispatcher(outbox, sender, outcomes, clock).dispatch_due()
    assert sender.sent == []
    assert [(o.status, o.reason, o.attempts) for o in outcomes] == [(FAILED, SUBJECT_ERASED, 1)]


class Restricted:
    """The restriction projection of a test: these (account, contact) pairs are restricted."""

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = set(pairs)

    def refuse_edits(self, account_id, contact_ids) -> None:
        raise AssertionError("the dispatcher only reads restrictions")

    def restricted(self, account_id, contact_ids) -> set[str]:
        return {contact_id for contact_id in contact_ids if (account_id, contact_id) in self.pairs}


def test_marketing_queued_before_the_person_restricted_processing_is_never_sent(outbox, clock, outcomes):
    sender = ScriptedSender()
    outbox.enqueue(a_mail("message:1", purpose="marketing"))
    outbox.enqueue(a_mail("message:2", purpose="transactional"))  # an invoice goes: the law may require it
    outbox.enqueue(a_mail("message:3", purpose="marketing", subject_key="contact:c2"))  # someone else
    outbox.enqueue(a_mail("message:4", purpose="marketing", account_id="acct-2"))  # c1 of another account
    restrictions = Restricted(("acct-1", "c1"))
    dispatcher(outbox, sender, outcomes, clock, restrictions=restrictions).dispatch_due()
    assert sorted(o.mail_id for o in outcomes if o.status == SENT) == ["message:2", "message:3", "message:4"]
    assert [(o.mail_id, o.reason) for o in outcomes if o.status == FAILED] == [("message:1", PROCESSING_RESTRICTED)]
    assert len(sender.sent) == 3


def test_a_notification_about_a_contact_restricted_after_it_was_queued_goes_without_their_data(outbox, clock,
                                                                                               outcomes):
    def notice(mail):
        return dataclasses.replace(mail, subject="A task about a restricted contact is due", text="See the CRM.",
                                   html=None, attachments=())

    sender = ScriptedSender()
    for mail_id, about in (("note:1", "c1"), ("note:2", "c2"), ("note:3", None)):
        outbox.enqueue(a_mail(mail_id, purpose="notification", subject_key="workflows-subject:c1",
                              about_contact_id=about))
    dispatcher(outbox, sender, outcomes, clock, restrictions=Restricted(("acct-1", "c1")),
               restricted_notice=notice).dispatch_due()
    sent = {mail.mail_id: mail for mail in sender.sent}
    assert sorted(sent) == ["note:1", "note:2", "note:3"] and all(o.status == SENT for o in outcomes)
    assert (sent["note:1"].subject, sent["note:1"].text, sent["note:1"].attachments) == (
        "A task about a restricted contact is due", "See the CRM.", ())
    assert sent["note:2"].text == sent["note:3"].text == "Hello Ada"  # another contact, or about none: as queued


def test_a_notification_about_a_restricted_contact_fails_when_the_service_says_no_notice(outbox, clock, outcomes):
    sender = ScriptedSender()
    outbox.enqueue(a_mail("note:1", purpose="notification", about_contact_id="c1"))
    dispatcher(outbox, sender, outcomes, clock, restrictions=Restricted(("acct-1", "c1"))).dispatch_due()
    assert [(o.status, o.reason) for o in outcomes] == [(FAILED, PROCESSING_RESTRICTED)] and sender.sent == []


def test_an_outcome_whose_report_failed_is_reported_again(outbox, clock):
    reported = []

    def flaky(outcome):
        if not reported:
            reported.append(None)
            raise RuntimeError("broker down")
        reported.append(outcome)

    outbox.enqueue(a_mail())
    mails = MailDispatcher(outbox, ScriptedSender(), flaky, clock=clock)
    with pytest.raises(RuntimeError):
        mails.dispatch_due()
    assert outbox.status("message:1") == SENT
    mails.dispatch_due()
    assert [o.mail_id for o in reported[1:]] == ["message:1"]
    mails.dispatch_due()
    assert len(reported) == 2


def test_an_outcome_whose_report_keeps_failing_is_set_aside_without_holding_up_the_others(outbox, clock):
    reported = []

    def picky(outcome):  # a bug, or a document changed by hand: this outcome never goes through
        if outcome.mail_id == "message:1":
            raise KeyError("contact_id")
        reported.append(outcome.mail_id)

    outbox.enqueue(a_mail("message:1"))
    outbox.enqueue(a_mail("message:2"))
    mails = MailDispatcher(outbox, ScriptedSender(), picky, clock=clock, max_report_attempts=3)
    with pytest.raises(KeyError):  # the loop backs off and tries it again
        mails.dispatch_due()
    assert reported == ["message:2"]  # the next outcome was reported all the same
    with pytest.raises(KeyError):
        mails.dispatch_due()
    assert mails.dispatch_due() == 0  # the third failure sets it aside: no error for the loop any more
    assert outbox.outcomes_to_report(10) == [] and reported == ["message:2"]
    assert outbox.collection.documents["message:1"]["report_error"] == "KeyError: 'contact_id'"


def test_an_outage_while_reporting_stops_the_round_without_counting_against_the_outcome(outbox, clock):
    calls = []

    def broker_down(outcome):
        calls.append(outcome.mail_id)
        raise DependencyUnavailable("Kafka is down")

    outbox.enqueue(a_mail("message:1"))
    outbox.enqueue(a_mail("message:2"))
    mails = MailDispatcher(outbox, ScriptedSender(), broker_down, clock=clock, max_report_attempts=1)
    for _ in range(3):
        with pytest.raises(DependencyUnavailable):
            mails.dispatch_due()
    assert calls == ["message:1"] * 3  # waited out, the others not tried meanwhile
    assert len(outbox.outcomes_to_report(10)) == 2  # nothing set aside


def test_the_loop_logs_a_failed_round_without_what_the_error_quotes(outbox, clock, caplog):
    stop = threading.Event()

    def refused(outcome):  # a database error quotes the value it refused
        stop.set()
        raise DuplicateKeyError('E11000 duplicate key error: { address: "ada@example.com" }', code=11000)

    outbox.enqueue(a_mail())
    with caplog.at_level(logging.DEBUG):
        MailDispatcher(outbox, ScriptedSender(), refused, clock=clock).run(stop)
    failed, = [r for r in caplog.records if r.getMessage() == "mail dispatch failed; retrying"]
    assert failed.error == "DuplicateKeyError: code 11000" and failed.exc_info is None
    assert "ada@example.com" not in caplog.text


def test_a_dispatcher_without_the_lease_sends_nothing(outbox, clock, outcomes):
    class TakenLease(Lease):
        def __init__(self):
            pass

        def acquire_or_renew(self):
            return False

    sender = ScriptedSender()
    outbox.enqueue(a_mail())
    mails = dispatcher(outbox, sender, outcomes, clock, lease=TakenLease())
    assert mails.dispatch_due() == 0 and mails.standing_by
    assert sender.sent == [] and outbox.status("message:1") == "queued"


def test_logs_carry_no_personal_data(outbox, clock, outcomes, caplog):
    sender = ScriptedSender(TransientFailure("message deferred (451)"), PermanentFailure(INVALID, "cannot be built"))
    outbox.enqueue(a_mail())
    mails = dispatcher(outbox, sender, outcomes, clock)
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            mails.dispatch_due()
            clock.advance(hours=1)
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "message:1" in logged
    for clear in ("ada@example.com", "INV-7", "Hello Ada", "invoice.pdf"):
        assert clear not in logged


def test_a_stored_mail_that_does_not_open_fails_as_invalid_instead_of_stalling_the_loop(outbox, clock, outcomes):
    outbox.enqueue(a_mail())
    del outbox.collection.documents["message:1"]["sealed"]  # as a document changed by hand
    sender = ScriptedSender()
    dispatcher(outbox, sender, outcomes, clock).dispatch_due()
    assert sender.sent == [] and [(o.status, o.reason) for o in outcomes] == [(FAILED, INVALID)]


def test_sent_and_failed_mails_are_counted_by_purpose_and_reason(outbox, clock, outcomes):
    from crm_platform.metrics import REGISTRY

    def count(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    before = (count("crm_mails_queued_total", purpose="marketing"), count("crm_mails_sent_total", purpose="marketing"),
              count("crm_mails_failed_total", purpose="marketing", reason=REJECTED),
              count("crm_mails_deferred_total", purpose="marketing"))
    outbox.enqueue(a_mail("message:1", purpose="marketing"))
    outbox.enqueue(a_mail("message:1", purpose="marketing"))  # the same mail: not counted twice
    outbox.enqueue(a_mail("message:2", purpose="marketing"))
    sender = ScriptedSender(None, TransientFailure("message deferred (451)"))
    mails = dispatcher(outbox, sender, outcomes, clock)
    mails.dispatch_due()
    sender.script = [PermanentFailure(REJECTED, "recipient refused (550)")]
    clock.advance(hours=1)
    mails.dispatch_due()
    after = (count("crm_mails_queued_total", purpose="marketing"), count("crm_mails_sent_total", purpose="marketing"),
             count("crm_mails_failed_total", purpose="marketing", reason=REJECTED),
             count("crm_mails_deferred_total", purpose="marketing"))
    assert [a - b for a, b in zip(after, before)] == [2, 1, 1, 1]
