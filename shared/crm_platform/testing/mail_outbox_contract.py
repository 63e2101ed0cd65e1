"""The behaviour of the mail outbox, run on the in-memory collection and on the real database.

Subclass `MailOutboxContract` and provide the fixtures `clock` (a SteppingClock), `cipher` (the
PersonalDataCipher the outbox seals with), `outbox` (an empty MailOutbox on that clock and cipher,
stale_after=STALE_AFTER) and `stored` (mail id -> its raw document).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.mail import FAILED, SENT, SUBJECT_ERASED, MailAttachment, OutgoingMail
from crm_platform.personal_data import SubjectErased

STALE_AFTER = timedelta(minutes=3)


class SteppingClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def a_mail(mail_id: str = "message:1", **changes) -> OutgoingMail:
    values = {"mail_id": mail_id, "account_id": "acct-1", "subject_key": "contact:c1", "to": "ada@example.com",
              "subject": "Your invoice INV-7", "text": "Hello Ada", "html": "<p>Hello Ada</p>",
              "attachments": (MailAttachment("invoice.pdf", "application/pdf", b"%PDF-1.7 secret"),),
              "reference": {"message_id": "m-1"}}
    return OutgoingMail(**{**values, **changes})


class MailOutboxContract:
    def test_a_mail_is_queued_once_however_often_it_is_enqueued(self, outbox):
        assert outbox.enqueue(a_mail()) is True
        assert outbox.enqueue(a_mail(subject="Another")) is False
        assert outbox.status("message:1") == "queued" and outbox.status("message:2") is None
        assert [m.mail_id for m in outbox.due(10)] == ["message:1"]
        assert outbox.open("message:1").subject == "Your invoice INV-7"

    def test_personal_parts_are_stored_sealed_and_open_as_they_were(self, outbox, stored):
        outbox.enqueue(a_mail())
        raw = repr(stored("message:1"))
        for clear in ("ada@example.com", "INV-7", "Hello Ada", "invoice.pdf", "secret"):
            assert clear not in raw
        assert outbox.open("message:1") == a_mail()

    def test_a_mail_is_due_again_at_its_retry_time(self, outbox, clock):
        outbox.enqueue(a_mail())
        queued, = outbox.due(10)
        assert outbox.claim(queued) and outbox.status("message:1") == "sending"
        assert not outbox.claim(queued)  # what `due` read has changed
        outbox.retry_at("message:1", clock() + timedelta(seconds=30))
        assert outbox.due(10) == []
        clock.advance(seconds=30)
        again, = outbox.due(10)
        assert (again.status, again.attempts) == ("queued", 1)

    def test_a_mail_left_sending_is_due_again_once_stale(self, outbox, clock):
        outbox.enqueue(a_mail())
        outbox.claim(outbox.due(10)[0])
        clock.advance(seconds=STALE_AFTER.total_seconds() - 1)
        assert outbox.due(10) == []
        clock.advance(seconds=1)
        stale, = outbox.due(10)
        assert (stale.status, stale.attempts) == ("sending", 1) and outbox.claim(stale)

    def test_a_finished_mail_keeps_no_content_and_its_outcome_is_reported_once(self, outbox, stored, clock):
        outbox.enqueue(a_mail())
        outbox.claim(outbox.due(10)[0])
        clock.advance(seconds=2)
        outbox.finish("message:1", SENT)
        assert outbox.status("message:1") == "sent" and outbox.due(10) == []
        assert "sealed" not in stored("message:1") and "attachments" not in stored("message:1")
        outcome, = outbox.outcomes_to_report(10)
        assert (outcome.mail_id, outcome.account_id, outcome.reference, outcome.status, outcome.reason,
                outcome.attempts, outcome.at) == ("message:1", "acct-1", {"message_id": "m-1"}, SENT, None, 1, clock())
        outbox.reported("message:1")
        assert outbox.outcomes_to_report(10) == []
        assert outbox.enqueue(a_mail()) is False  # the record stays: a replayed event queues nothing again

    def test_an_erased_person_s_mail_no_longer_opens(self, outbox, cipher):
        outbox.enqueue(a_mail())
        cipher.shred("contact:c1")
        with pytest.raises(SubjectErased):
            outbox.open("message:1")

    def test_a_mail_to_an_erased_person_is_recorded_failed(self, outbox, cipher):
        cipher.seal("contact:c1", {})
        cipher.shred("contact:c1")
        assert outbox.enqueue(a_mail()) is True
        assert outbox.status("message:1") == FAILED and outbox.due(10) == []
        outcome, = outbox.outcomes_to_report(10)
        assert (outcome.status, outcome.reason, outcome.attempts) == (FAILED, SUBJECT_ERASED, 0)

    def test_an_outcome_set_aside_is_no_longer_reported_and_keeps_why(self, outbox, stored):
        outbox.enqueue(a_mail())
        outbox.enqueue(a_mail("message:2"))
        for mail_id in ("message:1", "message:2"):
            outbox.claim(next(m for m in outbox.due(10) if m.mail_id == mail_id))
            outbox.finish(mail_id, SENT)
        outbox.set_aside("message:1", "KeyError: 'contact_id'")
        assert [o.mail_id for o in outbox.outcomes_to_report(10)] == ["message:2"]
        assert stored("message:1")["report_error"] == "KeyError: 'contact_id'"
        assert outbox.status("message:1") == SENT
