"""A contact merged into another: its timeline entries go to the survivor (issue 14), on fakes."""
from crm_platform.contracts.contacts import CONTACT_LIFECYCLE_CLASSES
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from billing.adapters.customers_projection import CustomersProjection
from billing.service_layer.contact_merges import move_merged_contact_timeline

from ..contact_events import LOUISE, ContactEvents


class MovedTimelines:
    def __init__(self) -> None:
        self.moved: list[tuple[str, str, str]] = []

    def move_contact(self, account_id, from_contact_id, to_contact_id):
        self.moved.append((account_id, from_contact_id, to_contact_id))
        return 1


def projection_and_events():
    cipher = PersonalDataCipher(InMemorySubjectKeyStore())
    return CustomersProjection(InMemoryCollection(), EventCodec(CONTACT_LIFECYCLE_CLASSES, cipher)), ContactEvents(cipher)


def test_a_contact_deleted_as_merged_gives_its_entries_to_the_survivor_and_no_other_event_moves_any():
    customers, events = projection_and_events()
    timelines = MovedTimelines()
    for envelope in (events.created("contact:2", LOUISE), events.deleted("contact:3"), events.erased("contact:4"),
                     events.merged("contact:1", LOUISE, ["contact:2"])):
        assert move_merged_contact_timeline(customers.event_of(envelope), timelines) == 0
    assert timelines.moved == []
    merged = events.deleted("contact:2", merged_into="contact:1")
    assert move_merged_contact_timeline(customers.event_of(merged), timelines) == 1
    assert timelines.moved == [("acct-1", "contact:2", "contact:1")]


def test_a_merged_contact_s_survivor_is_followed_through_later_merges_in_its_account_only():
    customers, _ = projection_and_events()
    for contact_id, merged_into in (("contact:2", "contact:1"), ("contact:1", "contact:4"), ("contact:4", None)):
        # the documents ContactDeleted(merged_into) leaves (test_customers_projection.py)
        customers.collection.insert_one({"_id": contact_id, "account_id": "acct-1", "deleted": bool(merged_into),
                                         **({"merged_into": merged_into} if merged_into else {})})
    assert customers.survivor("acct-1", "contact:2") == "contact:4"
    assert customers.survivor("acct-1", "contact:4") == "contact:4"  # not merged: itself
    assert customers.survivor("acct-1", "contact:9") == "contact:9"  # never heard of: itself
    assert customers.survivor("acct-2", "contact:2") == "contact:2"  # another account's id: not followed
