"""A clean-up over many contacts says it is still working after each contact, so that the worker neither takes
it for stuck nor lets Kafka drop its consumer from the group (crm_platform.liveness, event_consumer)."""
import pytest

from crm_platform.errors import NotFound
from crm_platform.liveness import reporting_to
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.labels import LabelDeleted, label_id
from contacts.service_layer import handlers, import_retention, label_handlers
from contacts.service_layer.unit_of_work import UnitOfWork


def test_a_label_clean_up_reports_progress_after_each_contact_it_changes():
    store = InMemoryEventStore()
    uow = UnitOfWork(store, PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())
    label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow)
    contacts = [handlers.create_contact(commands.CreateContact("acct-1", {"first_name": f"C{n}"}), uow) for n in range(12)]
    for contact in contacts:
        label_handlers.assign_label(commands.AssignLabel("acct-1", contact.id, "vip"), uow)
    label_handlers.delete_label(commands.DeleteLabel("acct-1", "vip"), uow)
    deleted = uow.codec.from_envelope(store.load(label_id("acct-1", "vip"))[-1])
    assert isinstance(deleted, LabelDeleted)

    def still_labelled() -> int:
        with uow:
            return sum("vip" in uow.contacts.get("acct-1", c.id).details["labels"] for c in contacts)

    seen = []  # how many contacts still had the label each time the clean-up said it was working
    with reporting_to(lambda: seen.append(still_labelled())):
        changed = label_handlers.remove_deleted_label(deleted, uow, lambda account, key: [c.id for c in contacts])
    assert changed == 12
    assert seen[:12] == list(range(11, -1, -1)), "one report after each contact: never a long silence"


def test_a_clean_up_failing_on_a_contact_raises_its_own_error_without_reporting_progress():
    """Reporting may poll Kafka (and fail too): run while the error unwinds, it would replace it."""
    uow = UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())
    contact = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "Ann"}), uow)

    def broken_change(contact):
        raise ValueError("the change failed")

    reports = []
    with reporting_to(lambda: reports.append(1)), pytest.raises(ValueError, match="the change failed"):
        handlers.change_each(uow, "acct-1", [contact.id], broken_change)
    assert reports == []


class ExpiredImports:
    """The import store, jobs and uploaded files as the retention sweep sees them."""

    def __init__(self, count: int) -> None:
        self.records = [{"_id": f"imp-{n}", "account_id": "acct-1", "job_id": f"job-{n}"} for n in range(count)]
        self.forgotten: list[str] = []

    def past_retention(self):
        return list(self.records)

    def forget(self, record):
        self.forgotten.append(record["_id"])

    def expire(self, import_id):
        pass

    def get(self, account_id, job_id):  # the job store: job-0 still runs, the others are gone
        if job_id == "job-0":
            return {"status": "running"}
        raise NotFound("no such job")


def test_the_import_retention_sweep_reports_progress_after_each_import():
    store = ExpiredImports(count=5)
    seen = []  # how many imports were forgotten each time the sweep said it was working
    with reporting_to(lambda: seen.append(len(store.forgotten))):
        assert import_retention.forget_expired_imports(store, store, store) == 4
    assert seen == [0, 1, 2, 3, 4], "one report per import, the one whose job still runs included"
