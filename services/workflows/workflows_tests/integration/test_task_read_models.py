"""The tasks and task_reminders read models on the real database, events in any order (issue 12)."""
from datetime import datetime, timedelta, timezone

from crm_platform.contracts.contacts import ContactCreatedFact, ContactErasedFact

from workflows.domain.task_commands import CompleteTask, CreateTask, RescheduleTask
from workflows.service_layer.reminder_scheduler import ReminderScheduler

from ..unit.fakes import FakeMailer, HeldLease
from .conftest import project_all


def reminders(container, **query):
    return sorted((doc["before"], doc["remind_at"]) for doc in container.db["task_reminders"].find(
        {"handled": False, **query}))


def task_events(container, task_id):
    return [e for e in container.event_store.read_all() if e.aggregate_id == task_id]


def test_reminders_follow_reschedules_and_stop_when_the_task_is_done(container):
    due = datetime(2999, 1, 10, 9, tzinfo=timezone.utc)
    task = container.bus.handle(CreateTask("acct-1", "x", due, reminders=("P1D", "PT1H")))
    project_all(container)
    assert reminders(container) == [("P1D", "2999-01-09T09:00:00+00:00"), ("PT1H", "2999-01-10T08:00:00+00:00")]
    container.bus.handle(RescheduleTask("acct-1", task.id, None, due + timedelta(days=1)))
    project_all(container)
    assert reminders(container) == [("P1D", "2999-01-10T09:00:00+00:00"), ("PT1H", "2999-01-11T08:00:00+00:00")]
    container.bus.handle(CompleteTask("acct-1", task.id))
    assert project_all(container) and reminders(container) == []
    assert container.tasks_projection.collection.find_one({"_id": task.id})["status"] == "done"


def test_an_old_event_arriving_last_fires_nothing_that_is_no_longer_scheduled(container):
    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    task = container.bus.handle(CreateTask("acct-1", "x", due, reminders=("PT1H",)))
    container.bus.handle(RescheduleTask("acct-1", task.id, None, due + timedelta(hours=1)))
    for envelope in reversed(task_events(container, task.id)):  # the reschedule first, then the creation
        container.read_models.apply(envelope)
    assert len(reminders(container)) == 2  # the creation's reminder came back: the task decides
    mailer, later = FakeMailer(), due + timedelta(hours=2)
    fired = ReminderScheduler(container.unit_of_work, container.due_reminders, mailer, HeldLease(), lambda: later)
    assert fired.fire_due() == 2 and reminders(container) == []
    [event] = [e for e in task_events(container, task.id) if e.event_type == "TaskReminderDue"]
    assert event.payload["remind_at"] == (due + timedelta(hours=1) - timedelta(hours=1)).isoformat()


def test_a_fired_reminder_stays_until_its_mail_is_queued_and_an_erased_title_reads_blank(container):
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    task = container.bus.handle(CreateTask("acct-1", "Appeler Louise", due, link_kind="contact",
                                           link_id="contact:1", reminders=("PT1H",)))
    project_all(container)
    with container.unit_of_work() as uow:
        loaded = uow.tasks.get("acct-1", task.id)
        [reminder] = loaded.reminders
        loaded.fire(reminder["before"], reminder["at"], due)
        uow.commit()
    project_all(container)
    assert reminders(container) == [("PT1H", reminder["at"])]  # fired, its e-mail not queued yet
    assert container.tasks_projection.collection.find_one({"_id": task.id})["title"] == "Appeler Louise"
    container.bus.handle(ContactErasedFact("contact:1", "acct-1"))
    project_all(container)
    doc = container.tasks_projection.collection.find_one({"_id": task.id})
    assert (doc["title"], doc["notes"], doc["contact_id"]) == ("", "", None)
    container.tasks_projection.collection.delete_many({})
    project_all(container)  # a rebuild reads events sealed under the shredded key with their text blank
    assert container.tasks_projection.collection.find_one({"_id": task.id})["title"] == ""
