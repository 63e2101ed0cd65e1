"""A clean-up over many contacts says it is still working after each contact, so that the worker neither takes
it for stuck nor lets Kafka drop its consumer from the group (crm_platform.liveness, event_consumer)."""
from crm_platform.liveness import reporting_to
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.labels import LabelDeleted, label_id
from contacts.service_layer import handlers, label_handlers
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
