"""Privacy's projection of contacts on the real database: a request names the subject's whole merge family."""
from crm_platform.contracts.contacts import (
    CONTACT_FACT_CLASSES, ContactCreatedFact, ContactDeletedFact, ContactErasedFact, ContactsMergedFact,
)
from crm_platform.envelope import new_envelope
from crm_platform.event_codec import EventCodec

from .conftest import headers

FACTS = EventCodec(CONTACT_FACT_CLASSES)


def feed(container, *facts, account="acct-1"):
    for version, fact in enumerate(facts, start=1):
        envelope = FACTS.to_envelope(fact, "Contact", fact.contact_id, version, account)
        assert container.contacts_directory.apply(envelope)
        assert container.contacts_directory.apply(envelope)  # redelivered: the same


def test_the_family_is_every_contact_merged_with_the_subject_up_and_down(container):
    feed(container, *(ContactCreatedFact(f"contact:{n}", "acct-1") for n in range(1, 6)),
         ContactsMergedFact("contact:2", "acct-1", ["contact:3"]),
         ContactDeletedFact("contact:3", "acct-1", merged_into="contact:2"),
         ContactsMergedFact("contact:1", "acct-1", ["contact:2", "contact:4"]),
         ContactDeletedFact("contact:2", "acct-1", merged_into="contact:1"),
         ContactDeletedFact("contact:4", "acct-1", merged_into="contact:1"),
         ContactErasedFact("contact:5", "acct-1"))
    family = container.contacts_directory.family
    assert family("acct-1", "contact:1") == ["contact:1", "contact:2", "contact:3", "contact:4"]
    assert family("acct-1", "contact:3") == ["contact:3", "contact:1", "contact:2", "contact:4"]
    assert family("acct-1", "contact:5") == ["contact:5"]
    assert family("acct-2", "contact:1") == ["contact:1"]  # another account knows none of them
    assert family("acct-1", "contact:unknown") == ["contact:unknown"]


def test_other_events_of_contacts_are_passed_over(container):
    envelope = new_envelope(event_type="LabelCreated", aggregate_type="Label", aggregate_id="label:1",
                            aggregate_version=1, account_id="acct-1", payload={"name": "VIP"})
    assert not container.contacts_directory.apply(envelope)


def test_a_request_asks_about_the_whole_family(client, container):
    feed(container, ContactCreatedFact("contact:1", "acct-1"), ContactCreatedFact("contact:7", "acct-1"),
         ContactsMergedFact("contact:1", "acct-1", ["contact:7"]),
         ContactDeletedFact("contact:7", "acct-1", merged_into="contact:1"))
    body = {"type": "erasure", "subject": {"contact_id": "contact:7"}, "requester": "Louise", "reason": "e-mail"}
    created = client.post("/v1/privacy/requests", json=body, headers=headers()).get_json()
    assert created["contact_id"] == "contact:7" and created["contact_ids"] == ["contact:7", "contact:1"]
