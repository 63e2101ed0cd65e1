"""Billing's customers from `contacts.events`, on the real broker and database: idempotent, in any order,
merged contacts followed, erased people forgotten."""

import pytest

from crm_platform import id_guards
from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import make_consumer
from crm_platform.testing.consumers import run_until_processed
from crm_platform.testing.topics import publish_envelopes

from billing import views
from billing.adapters import customers_projection

from ..contact_events import LOUISE, ContactEvents


def apply_as_one_batch(container, envelopes) -> None:
    """What the worker's consumer does with a polled batch, without Kafka: the batch block, then each event."""
    with container.customers_batch(envelopes):
        for envelope in envelopes:
            container.apply_to_customers(envelope)


def customer(container, contact_id, account="acct-1"):
    return container.customers.collection.find_one({"_id": contact_id, "account_id": account})


def test_the_worker_s_consumer_builds_customers_from_the_contacts_topic(container, settings, topic_namespace):
    events = ContactEvents(container.cipher)
    envelopes = [events.created("contact:1", LOUISE), events.created("contact:2", {"company": "B & fils"}),
                 events.updated("contact:1", {**LOUISE, "company": "Papeterie Desnotes"})]
    topic = container.contacts_topic
    publish_envelopes(settings["KAFKA_BOOTSTRAP_SERVERS"], topic, envelopes, "test-contacts")
    consumer = EventConsumer("billing.customers", lambda: make_consumer(
        settings["KAFKA_BOOTSTRAP_SERVERS"], f"{topic_namespace}billing.customers", [topic], "test"),
        container.producer, container.apply_to_customers, retry_delay_s=0.01, batch_context=container.customers_batch)
    run_until_processed(consumer, 3)
    assert consumer.processed == 3 and consumer.dead_lettered == 0
    louise = customer(container, "contact:1")
    assert (louise["company"], louise["version"], louise["deleted"]) == ("Papeterie Desnotes", 2, False)
    assert louise["billing_address"]["city"] == "Lille" and customer(container, "contact:2")["name"] == "B & fils"


def test_redelivered_and_out_of_order_events_change_nothing(container):
    events = ContactEvents(container.cipher)
    created = events.created("contact:1", LOUISE)
    renamed = events.updated("contact:1", {**LOUISE, "company": "Papeterie Desnotes"})
    apply_as_one_batch(container, [renamed])
    apply_as_one_batch(container, [created, renamed, created])  # the older one late, the newer one again
    assert container.customers.apply(created) is False and container.customers.apply(renamed) is False
    assert customer(container, "contact:1")["company"] == "Papeterie Desnotes"
    assert customer(container, "contact:1", account="acct-2") is None


def test_documents_follow_the_contact_a_contact_was_merged_into(container):
    events = ContactEvents(container.cipher)
    apply_as_one_batch(container, [events.created("contact:a", LOUISE), events.created("contact:b", {"company": "B"}),
                                   events.created("contact:c", {"company": "C"})])
    apply_as_one_batch(container, [events.merged("contact:b", {"company": "B"}, ["contact:a"]),
                                   events.deleted("contact:a", merged_into="contact:b")])
    apply_as_one_batch(container, [events.merged("contact:c", {"company": "C"}, ["contact:b"]),
                                   events.deleted("contact:b", merged_into="contact:c")])
    source = customer(container, "contact:a")
    assert source["deleted"] and source["merged_into"] == "contact:b" and "name" not in source
    assert views.current_customer(container.customers.collection, "acct-1", "contact:a")["_id"] == "contact:c"
    assert views.current_customer(container.customers.collection, "acct-2", "contact:a") is None


def test_an_erased_person_is_forgotten_and_a_late_event_brings_nothing_back(container):
    events = ContactEvents(container.cipher)
    created = events.created("contact:1", LOUISE)
    apply_as_one_batch(container, [created])
    container.cipher.shred("contact:contact:1")  # what the contacts service does when it erases the person
    apply_as_one_batch(container, [events.erased("contact:1")])
    forgotten = customer(container, "contact:1")
    assert forgotten["erased"] and forgotten["deleted"]
    assert not set(forgotten) & {"name", "first_name", "last_name", "company", "vat_number", "billing_address", "emails"}
    assert container.customers.apply(created) is False
    assert "name" not in customer(container, "contact:1")


@pytest.mark.parametrize("scanning", [False, True], ids=["guards in the statements", "guards read by _id"])
def test_a_customer_billing_forgot_for_an_erasure_stays_forgotten_whatever_arrives_late(container, monkeypatch,
                                                                                       scanning):
    """Billing may erase the person before contacts does: an event of the contact sent before the erasure, still
    readable (its key not shredded yet), arrives after it, one by one or in a batch: nothing comes back. Also as on a
    server that would scan for the guards (FerretDB over SQLite): crm_platform.id_guards."""
    if scanning:
        for module in (id_guards, customers_projection):
            monkeypatch.setattr(module, "server_scans_for", lambda collection, sample: True)
    events = ContactEvents(container.cipher)
    apply_as_one_batch(container, [events.created("contact:1", LOUISE)])
    late_alone = events.updated("contact:1", {**LOUISE, "first_name": "Lou"})
    late_in_batch = events.updated("contact:1", {**LOUISE, "first_name": "Loulou"})
    container.privacy_participant()._index.forget_contacts("acct-1", ["contact:1"])

    container.apply_to_customers(late_alone)
    apply_as_one_batch(container, [late_in_batch])
    forgotten = customer(container, "contact:1")
    assert forgotten["erased"] and forgotten["deleted"]
    assert not set(forgotten) & {"name", "first_name", "last_name", "company", "vat_number", "billing_address", "emails"}
    assert views.current_customer(container.customers.collection, "acct-1", "contact:1")["deleted"]


def test_the_erased_among_a_batch_s_customers_are_found_by_an_indexed_equality(container):
    """keep_erased asks `erased: true` with the batch's ids after every write: FerretDB pushes the equality down,
    not the `$in`, and without an index on `erased` PostgreSQL read every customer (156 ms at 122,000)."""
    container.customers.ensure_indexes()
    first_keys = [next(iter(index["key"])) for index in container.customers.collection.list_indexes()]
    assert "erased" in first_keys
