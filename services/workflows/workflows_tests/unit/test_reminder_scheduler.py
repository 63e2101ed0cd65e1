"""The reminder scheduler on fakes: each reminder fires once, its e-mail is queued once (issue 12)."""
from datetime import datetime, timedelta

import pytest

from crm_platform.errors import InvalidInput

from workflows.domain.reminders import utc_text
from workflows.domain.task_commands import ChangeWorkflowSettings, CompleteTask, CreateTask, RescheduleTask
from workflows.service_layer.reminder_scheduler import MAX_FIRE_FAILURES, ReminderScheduler, reminder_mail_id
from workflows.service_layer.unit_of_work import UnitOfWork

from .fakes import FakeMailer, HeldLease, InMemoryDueReminders

DUE = datetime.fromisoformat("2026-12-24T09:00:00+01:00")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def reminders(store, cipher):
    return InMemoryDueReminders(store, UnitOfWork.event_codec(cipher))


def scheduler(store, cipher, reminders, mailer, clock, held=True):
    return ReminderScheduler(lambda: UnitOfWork(store, cipher), reminders, mailer, HeldLease(held), clock)


def fired_events(store):
    return [e for e in store.all_events if e.event_type == "TaskReminderDue"]


def test_each_reminder_fires_once_at_its_time_and_its_mail_is_queued_once(bus, store, cipher, reminders):
    bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    task = bus.handle(CreateTask("acct-1", "Appeler Louise", DUE, link_kind="contact", link_id="contact:1",
                                 reminders=("P1D", "PT1H")))
    mailer, clock = FakeMailer(), Clock(datetime.fromisoformat("2026-12-23T07:59:59+00:00"))
    run = scheduler(store, cipher, reminders, mailer, clock)
    assert run.fire_due() == 0
    clock.now += timedelta(seconds=1)
    assert run.fire_due() == 1 and run.fire_due() == 0
    [event] = fired_events(store)
    assert event.payload["reminder"] == "P1D" and event.payload["late"] is False
    [mail] = mailer.queued.values()
    assert mail["to"] == "moi@example.org" and "Appeler Louise" in mail["subject"]
    assert mail["subject_key"] == "workflows-subject:contact:1"  # the task's key: the contact's erasure reaches it
    assert "24/12/2026 09:00 (Europe/Paris)" in mail["text"]
    assert mail["reference"] == {"task_id": task.id, "reminder": "P1D", "remind_at": "2026-12-23T08:00:00+00:00"}
    assert reminder_mail_id(task.id, "P1D", "2026-12-23T08:00:00+00:00") in mailer.queued


def test_two_schedulers_at_once_record_one_event_and_one_mail(bus, store, cipher, reminders):
    bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    bus.handle(CreateTask("acct-1", "x", DUE, reminders=("PT1H",)))
    mailer, clock = FakeMailer(), Clock(DUE)
    first = scheduler(store, cipher, reminders, mailer, clock)
    second = scheduler(store, cipher, InMemoryDueReminders(store, UnitOfWork.event_codec(cipher)), mailer, clock)
    assert first.fire_due() == 1 and second.fire_due() == 1  # the second's read model has not marked it
    assert len(fired_events(store)) == 1 and len(mailer.queued) == 1


def test_a_crash_between_the_event_and_the_mail_queues_it_when_the_scheduler_returns(bus, store, cipher, reminders):
    bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    bus.handle(CreateTask("acct-1", "x", DUE, reminders=("PT1H",)))

    class Down(FakeMailer):
        def queue(self, *args, **options):
            raise ConnectionError("database down")

    assert scheduler(store, cipher, reminders, Down(), Clock(DUE)).fire_due() == 0  # logged, left for next time
    assert len(fired_events(store)) == 1
    mailer = FakeMailer()
    assert scheduler(store, cipher, reminders, mailer, Clock(DUE + timedelta(minutes=5))).fire_due() == 1
    assert len(fired_events(store)) == 1 and len(mailer.queued) == 1


def test_a_reminder_due_while_no_scheduler_ran_fires_late_and_none_fires_without_the_lease(
        bus, store, cipher, reminders):
    bus.handle(CreateTask("acct-1", "x", DUE, reminders=("PT1H",)))
    mailer, clock = FakeMailer(), Clock(DUE)
    assert scheduler(store, cipher, reminders, mailer, clock, held=False).fire_due() == 0
    assert scheduler(store, cipher, reminders, mailer, clock).fire_due() == 1
    [event] = fired_events(store)
    assert event.payload["late"] is True and mailer.queued == {}  # no notification address: no e-mail


def test_done_and_rescheduled_tasks_fire_only_what_is_scheduled(bus, store, cipher, reminders):
    done = bus.handle(CreateTask("acct-1", "done", DUE, reminders=("PT1H",)))
    bus.handle(CompleteTask("acct-1", done.id))
    moved = bus.handle(CreateTask("acct-1", "moved", DUE, reminders=("PT1H",)))
    bus.handle(RescheduleTask("acct-1", moved.id, None, DUE + timedelta(days=2)))
    run = scheduler(store, cipher, reminders, FakeMailer(), Clock(DUE))
    assert run.fire_due() == 0 and fired_events(store) == []
    run = scheduler(store, cipher, reminders, FakeMailer(), Clock(DUE + timedelta(days=2)))
    assert run.fire_due() == 1
    [event] = fired_events(store)
    assert event.aggregate_id == moved.id and event.payload["remind_at"] == "2026-12-26T07:00:00+00:00"


def test_a_reminder_that_fails_blocks_none_after_it_and_a_refused_address_is_not_retried(bus, store, cipher, reminders):
    bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    first = bus.handle(CreateTask("acct-1", "first", DUE, reminders=("PT2H",)))
    bus.handle(CreateTask("acct-1", "second", DUE, reminders=("PT1H",)))

    class Refusing(FakeMailer):
        def queue(self, mail_id, account_id, subject_key, to, subject, text, reference, about_contact_id=None):
            if reference["task_id"] == first.id:
                raise InvalidInput("the mail's to is refused", {"to": ["refused"]})
            return super().queue(mail_id, account_id, subject_key, to, subject, text, reference)

    mailer = Refusing()
    run = scheduler(store, cipher, reminders, mailer, Clock(DUE))
    assert run.fire_due() == 2 and len(mailer.queued) == 1 and run.fire_due() == 0


class FailingFor(FakeMailer):
    """Queues every reminder's e-mail but those of `failing` tasks, which raise as a bug or bad data would."""

    def __init__(self, failing: set[str]) -> None:
        super().__init__()
        self.failing = failing

    def queue(self, mail_id, account_id, subject_key, to, subject, text, reference, about_contact_id=None):
        if reference["task_id"] in self.failing:
            raise RuntimeError("cannot build this one")
        return super().queue(mail_id, account_id, subject_key, to, subject, text, reference)


def test_reminders_that_keep_failing_are_put_off_so_a_batch_of_them_never_stalls_the_ones_after(
        bus, store, cipher, reminders):
    bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    bad = {bus.handle(CreateTask("acct-1", f"bad {i}", DUE, reminders=("PT2H",))).id for i in range(2)}
    good = bus.handle(CreateTask("acct-1", "good", DUE, reminders=("PT1H",)))
    mailer, clock = FailingFor(bad), Clock(DUE)
    run = ReminderScheduler(lambda: UnitOfWork(store, cipher), reminders, mailer, HeldLease(), clock, batch=2)
    assert run.fire_due() == 0  # the two earliest failed: a whole batch
    assert run.fire_due() == 1  # put off, they no longer hide the next one
    assert [mail["reference"]["task_id"] for mail in mailer.queued.values()] == [good.id]


def test_a_reminder_that_keeps_failing_is_retried_later_then_given_up(bus, store, cipher, reminders):
    bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    task = bus.handle(CreateTask("acct-1", "x", DUE, reminders=("PT1H",)))
    mailer, clock = FailingFor({task.id}), Clock(DUE)
    run = scheduler(store, cipher, reminders, mailer, clock)
    tries = 0
    for _ in range(200):
        clock.now += timedelta(minutes=30)
        if reminders.due(utc_text(clock.now), 10):
            tries += 1
        run.fire_due()
    assert tries == MAX_FIRE_FAILURES and reminders.due(utc_text(clock.now), 10) == []
    mailer.failing = set()  # whatever changes later, a given-up reminder is not fired again
    assert run.fire_due() == 0 and mailer.queued == {}


def test_a_round_reads_each_accounts_settings_once_however_many_of_its_reminders_fire(bus, store, cipher, reminders):
    """Issue 12: one read of an account's settings per round, not one per reminder (on FerretDB each read is a
    statement of its own); every reminder still goes to its own account's address."""
    bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "un@example.org"))
    bus.handle(ChangeWorkflowSettings("acct-2", "Europe/Paris", "deux@example.org"))
    for n in range(5):
        bus.handle(CreateTask("acct-1", f"one {n}", DUE, reminders=("PT1H",)))
    bus.handle(CreateTask("acct-2", "two", DUE, reminders=("PT1H",)))
    settings_reads = []
    load = store.load

    def counted_load(aggregate_id):
        if aggregate_id.startswith("workflow-settings:"):
            settings_reads.append(aggregate_id)
        return load(aggregate_id)

    store.load = counted_load
    mailer = FakeMailer()
    assert scheduler(store, cipher, reminders, mailer, Clock(DUE)).fire_due() == 6
    assert sorted(settings_reads) == ["workflow-settings:acct-1", "workflow-settings:acct-2"]
    assert sorted(mail["to"] for mail in mailer.queued.values()) == ["deux@example.org"] + ["un@example.org"] * 5


class SentMails:
    def __init__(self) -> None:
        self.sent = []

    def send(self, mail) -> None:
        self.sent.append(mail)


def test_a_reminder_about_a_contact_restricted_after_it_was_queued_goes_without_the_task_s_details(
        bus, store, cipher, reminders):
    from crm_platform.mail.dispatcher import MailDispatcher
    from crm_platform.testing.in_memory_mail_outbox import in_memory_mail_outbox
    from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions

    from workflows.adapters.reminder_mail import RESTRICTED_SUBJECT, OutboxReminderMailer, restricted_reminder

    bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    for title, contact_id in (("Appeler Louise", "contact:1"), ("Relancer Marc", "contact:2"), ("Ranger", None)):
        bus.handle(CreateTask("acct-1", title, DUE, notes="au 06 12 34 56 78", reminders=("PT1H",),
                              **({"link_kind": "contact", "link_id": contact_id} if contact_id else {})))
    outbox = in_memory_mail_outbox(cipher)
    assert scheduler(store, cipher, reminders, OutboxReminderMailer(outbox), Clock(DUE)).fire_due() == 3
    restrictions = InMemoryProcessingRestrictions()
    restrictions.restrict("acct-1", ["contact:1"], "request:1")  # after the mail was queued
    smtp = SentMails()
    MailDispatcher(outbox, smtp, lambda outcome: None, restrictions=restrictions,
                   restricted_notice=restricted_reminder).dispatch_due()
    sent = {mail.subject.split(" — ")[0]: mail for mail in smtp.sent}
    assert sorted(sent) == sorted([RESTRICTED_SUBJECT, "Rappel : Relancer Marc", "Rappel : Ranger"])
    restricted = sent[RESTRICTED_SUBJECT]
    assert restricted.to == "moi@example.org" and "Louise" not in restricted.text and "06 12" not in restricted.text
    assert "06 12" in sent["Rappel : Relancer Marc"].text  # another contact's task: as it was queued
