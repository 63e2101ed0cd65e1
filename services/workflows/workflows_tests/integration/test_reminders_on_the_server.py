"""Task reminders on the real database and a real SMTP server: each fires once, with two schedulers running
(issue 12)."""
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.contracts.contacts import ContactCreatedFact
from crm_platform.leases import Lease
from crm_platform.personal_data import SubjectErased
from crm_platform.testing.service_fixtures import service_settings
from crm_platform.worker_runtime import every

from workflows import config
from workflows.adapters.reminder_mail import (RESTRICTED_SUBJECT, OutboxReminderMailer, note_reminder_mail_outcome,
                                             restricted_reminder)
from workflows.domain.cards import CARD_SUBJECT
from workflows.domain.task_commands import ChangeWorkflowSettings, CreateTask
from workflows.service_layer.reminder_scheduler import LEASE_NAME, ReminderScheduler, reminder_mail_id

from .conftest import project_all


@pytest.fixture
def settings(infra, unique_suffix, topic_namespace, smtp_sink):
    return service_settings(config, "WORKFLOWS_DB", infra, unique_suffix, topic_namespace, KAFKA_TOPIC_PARTITIONS="1",
                            SMTP_HOST=smtp_sink.host, SMTP_PORT=str(smtp_sink.port), SMTP_TLS="none")


def scheduler(container, clock, lease=None):
    return ReminderScheduler(container.unit_of_work, container.due_reminders,
                             OutboxReminderMailer(container.mail_outbox()), lease or container.lease(LEASE_NAME),
                             clock)


def reminder_events(container):
    return [e for e in container.event_store.read_all() if e.event_type == "TaskReminderDue"]


def test_two_scheduler_loops_fire_each_reminder_once_and_send_each_mail_once(container, smtp_sink):
    container.bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    task = container.bus.handle(CreateTask("acct-1", "Appeler Louise", due, reminders=("PT1H", "PT30M")))
    project_all(container)
    at_due = lambda: due  # noqa: E731 -- the schedulers' clock: both reminders are due, and late
    stop = threading.Event()
    loops = [threading.Thread(target=every(0.05, scheduler(container, at_due).fire_due, "reminders"), args=(stop,))
             for _ in range(2)]
    mail = threading.Thread(target=container.mail_loop(note_reminder_mail_outcome), args=(stop,))
    for thread in [*loops, mail]:
        thread.start()
    try:
        received = smtp_sink.wait_for(2, timeout_s=20)
        stop.wait(1.5)  # time for a second send, were there one
    finally:
        stop.set()
        for thread in [*loops, mail]:
            thread.join(timeout=10)
    assert len(smtp_sink.messages) == 2
    assert sorted(m.message["Subject"].split(" — ")[0] for m in received) == ["Rappel : Appeler Louise"] * 2
    assert all(m.message["To"] == "moi@example.org" for m in received)
    events = reminder_events(container)
    assert sorted(e.payload["reminder"] for e in events) == ["PT1H", "PT30M"]
    assert all(e.aggregate_id == task.id and e.payload["late"] for e in events)


class Held:
    """Two schedulers each sure to hold the lease (a hand-over's overlap): the task still refuses a second."""

    def acquire_or_renew(self):
        return True


def test_even_schedulers_that_both_think_they_hold_the_lease_record_one_event(container):
    container.bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    container.bus.handle(CreateTask("acct-1", "x", due, reminders=("PT1H",)))
    project_all(container)
    start = threading.Barrier(4)
    errors = []

    def fire():
        start.wait()
        try:
            scheduler(container, lambda: due, Held()).fire_due()
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and len(reminder_events(container)) == 1
    assert container.db["mail_outbox"].count_documents({}) == 1
    assert container.db["task_reminders"].count_documents({"handled": False}) == 0


def test_a_scheduler_killed_between_the_event_and_the_mail_is_taken_over_and_the_mail_goes_once(
        container, smtp_sink):
    container.bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    container.bus.handle(CreateTask("acct-1", "Appeler Louise", due, reminders=("PT1H",)))
    project_all(container)

    class Killed(OutboxReminderMailer):
        def queue(self, *args, **options):
            raise SystemExit("killed")  # the process dies here: the event is stored, the mail is not queued

    def lease():
        return Lease(container.db["leases"], LEASE_NAME, ttl=timedelta(seconds=1))

    dead = ReminderScheduler(container.unit_of_work, container.due_reminders, Killed(container.mail_outbox()),
                             lease(), lambda: due)
    with pytest.raises(SystemExit):
        dead.fire_due()
    assert len(reminder_events(container)) == 1 and container.db["mail_outbox"].count_documents({}) == 0
    successor = scheduler(container, lambda: due, lease())
    deadline = time.monotonic() + 10
    while successor.fire_due() == 0:  # the dead one's lease runs out within 1.5 ttl
        assert time.monotonic() < deadline, "the lease was never taken over"
        time.sleep(0.2)
    stop = threading.Event()
    mail = threading.Thread(target=container.mail_loop(note_reminder_mail_outcome), args=(stop,))
    mail.start()
    try:
        smtp_sink.wait_for(1, timeout_s=20)
        assert successor.fire_due() == 0
        stop.wait(1.5)
    finally:
        stop.set()
        mail.join(timeout=10)
    assert len(smtp_sink.messages) == 1 and len(reminder_events(container)) == 1


def test_a_queued_reminder_mail_about_a_contact_is_unreadable_once_that_contact_is_erased(container):
    # its subject and text are the task's title and notes, the contact's data: sealed under the contact's key as
    # the task's events are, so the contact's erasure reaches a mail not sent yet (the dispatcher then fails it)
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    container.bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    due = datetime(2026, 12, 24, 9, tzinfo=timezone.utc)
    task = container.bus.handle(CreateTask("acct-1", "Appeler Louise", due, notes="au 06 12 34 56 78",
                                           link_kind="contact", link_id="contact:1", reminders=("PT1H",)))
    project_all(container)
    assert scheduler(container, lambda: due).fire_due() == 1
    mail_id = reminder_mail_id(task.id, "PT1H", "2026-12-24T08:00:00+00:00")
    assert "Appeler Louise" in container.mail_outbox().open(mail_id).subject
    container.cipher.shred(CARD_SUBJECT.format(contact_id="contact:1"))
    with pytest.raises(SubjectErased):
        container.mail_outbox().open(mail_id)


def test_a_reminder_about_a_contact_restricted_after_it_was_queued_reaches_smtp_without_the_task_s_details(
        container, smtp_sink):
    # the user still hears that their task is due; the restricted contact's data is not written into a mail
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    container.bus.handle(ChangeWorkflowSettings("acct-1", "Europe/Paris", "moi@example.org"))
    due = datetime(2026, 12, 24, 9, tzinfo=timezone.utc)
    container.bus.handle(CreateTask("acct-1", "Appeler Louise", due, notes="au 06 12 34 56 78",
                                    link_kind="contact", link_id="contact:1", reminders=("PT1H",)))
    project_all(container)
    assert scheduler(container, lambda: due).fire_due() == 1
    container.processing_restrictions().restrict("acct-1", ["contact:1"], "request:1")  # after queueing
    stop = threading.Event()
    mail = threading.Thread(target=container.mail_loop(note_reminder_mail_outcome,
                                                       restricted_notice=restricted_reminder), args=(stop,))
    mail.start()
    try:
        [received] = smtp_sink.wait_for(1, timeout_s=20)
    finally:
        stop.set()
        mail.join(timeout=10)
    assert received.message["Subject"] == RESTRICTED_SUBJECT and received.message["To"] == "moi@example.org"
    text = received.message.get_body(("plain",)).get_content()
    assert "contact dont le traitement des données est limité" in text
    assert "Louise" not in text and "06 12" not in text
