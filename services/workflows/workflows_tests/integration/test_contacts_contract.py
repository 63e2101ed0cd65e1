"""The worker's consumer of contacts.events on the real broker and database: an event breaking the published
contract is bad data, dead-lettered whole, and the next account's event is applied; a polled batch's new contacts
are recorded at once."""
import json

from pymongo import MongoClient

from crm_platform.contracts.contacts import CONTACT_FACT_CLASSES, ContactCreatedFact
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_producer
from crm_platform.message_bus import EventsToBus, MessageBus
from crm_platform.testing.consumers import run_until
from crm_platform.testing.statements import Statements
from crm_platform.testing.topics import read_topic

from workflows.adapters.contacts_directory import MongoContactsDirectory
from workflows.bootstrap import recording_new_contacts
from workflows.service_layer import dispatch

SEALED = {"sealed": 1, "subject": "contact:c-1", "nonce": "bm9uY2U=", "ciphertext": "c2VhbGVk"}


def merged(account_id: str, contact_id: str, source_ids) -> EventEnvelope:
    return EventEnvelope(event_type="ContactsMerged", aggregate_type="Contact", aggregate_id=contact_id,
                         aggregate_version=2, account_id=account_id, payload={
                             "contact_id": contact_id, "details": {}, "personal": SEALED,
                             "created_at": "2026-01-01T00:00:00+00:00", "source_ids": source_ids})


def publish(container, envelopes: list[EventEnvelope]) -> None:
    """On the contacts topic (one partition, and its dead-letter topic), keyed by contact, as JSON with non-ASCII
    escaped (a lone surrogate travels as \\ud800, as JSON may carry it)."""
    topic = container.contacts_topic
    ensure_topics(container.settings["KAFKA_BOOTSTRAP_SERVERS"], [topic, dead_letter_topic(topic)], partitions=1)
    producer = make_producer(container.settings["KAFKA_BOOTSTRAP_SERVERS"], "test-contacts")
    for envelope in envelopes:
        producer.send(topic, key=envelope.aggregate_id.encode("utf-8", "surrogatepass"),
                      value=json.dumps(envelope.to_dict()).encode())
    producer.flush()
    producer.close()


def worker_s_consumer(container) -> EventConsumer:
    """The consumer of contacts.events as workflows.entrypoints.worker builds it."""
    facts = EventCodec(CONTACT_FACT_CLASSES)
    return EventConsumer("workflows.contacts", container.contacts_consumer, container.producer,
                         EventsToBus(facts, container.bus), retry_delay_s=0.01,
                         batch_context=container.contacts_batch(facts))


def test_a_merge_breaking_its_contract_is_dead_lettered_whole_and_the_next_account_is_applied(container):
    publish(container, [merged("acct-bad", "c-1", "abc"),  # a text: its characters were relinked as contacts
                         merged("acct-bad", "c-2", ["c-8", "c-\x009"]),  # FerretDB refused the second, after the first
                         merged("acct-other", "c-5", ["c-6"])])
    consumer = worker_s_consumer(container)
    topic = container.contacts_topic
    directory = container.db["contacts"]

    run_until(consumer, lambda: directory.find_one({"_id": "c-6"}) is not None, timeout_s=60.0)

    assert directory.find_one({"_id": "c-6"}, {"_id": 0}) == {"account_id": "acct-other", "gone": True,
                                                             "merged_into": "c-5"}
    assert list(directory.find({"account_id": "acct-bad"})) == [], "nothing of a bad event written, not half of it"
    assert consumer.dead_lettered == 2
    dead = read_topic(container.settings["KAFKA_BOOTSTRAP_SERVERS"], dead_letter_topic(topic), expected=2)
    errors = [dict(record.headers)["dead_letter_error"] for record in dead]
    assert errors == [b"PayloadBreaksContract: ContactsMerged v1 breaks its contract: source_ids"] * 2


def created(account_id: str, contact_id: str) -> EventEnvelope:
    return EventEnvelope(event_type="ContactCreated", aggregate_type="Contact", aggregate_id=contact_id,
                         aggregate_version=1, account_id=account_id, payload={
                             "contact_id": contact_id, "details": {}, "personal": SEALED,
                             "created_at": "2026-01-01T00:00:00+00:00"})


def test_a_polled_batch_s_new_contacts_are_recorded_in_one_insert_and_one_known_stays_as_it_was(container):
    directory = MongoContactsDirectory(container.db["contacts"])
    directory.record_gone("acct-1", "c-3")
    directory.record_existing("acct-1", "c-4")
    statements = Statements("contacts")
    counted = MongoContactsDirectory(MongoClient(container.settings["MONGO_URI"], event_listeners=[statements])[
        container.db.name]["contacts"])
    bus = MessageBus.build({}, {ContactCreatedFact: dispatch.EVENT_HANDLERS[ContactCreatedFact]}, {"contacts": counted})
    batch = [created("acct-1", "c-1"), created("acct-1", "c-2"), created("acct-1", "c-3"), created("acct-1", "c-4"),
             created("acct-2", "c-1")]  # another account's news of acct-1's id
    handler = EventsToBus(EventCodec(CONTACT_FACT_CLASSES), bus)

    with recording_new_contacts(counted, EventCodec(CONTACT_FACT_CLASSES))(batch):
        for envelope in batch:
            handler(envelope)

    assert statements.names == ["insert"], "one insert for the batch, no upsert per event"
    assert directory.unknown("acct-1", ["c-1", "c-2", "c-3", "c-4"]) == {"c-3"}, "c-3 stays gone"
    assert directory.unknown("acct-2", ["c-1"]) == {"c-1"}, "acct-1's contact is not acct-2's"
    handler(created("acct-1", "c-5"))  # after the block: one by one again
    assert statements.names == ["insert", "update"]


def test_unknown_contacts_and_merge_families_are_read_by_equalities_never_one_in(container):
    directory = MongoContactsDirectory(container.db["contacts"])
    directory.record_existing("acct-1", "c-1")
    directory.record_existing("acct-2", "c-2")
    directory.record_gone("acct-1", "c-3")
    statements = Statements("contacts")
    counted = MongoContactsDirectory(MongoClient(container.settings["MONGO_URI"], event_listeners=[statements])[
        container.db.name]["contacts"])
    assert counted.unknown("acct-1", ["c-1", "c-2", "c-3", "c-4", "c-1"]) == {"c-2", "c-3", "c-4"}
    assert statements.names == ["find"] * 4 and not statements.using("$in"), "one _id equality per contact"
    directory.record_merged("acct-1", "c-5", "c-1")
    directory.record_merged("acct-2", "c-6", "c-1")  # another account's news of the same id
    statements.commands.clear()
    assert sorted(counted.merge_family("acct-1", ["c-1"])) == ["c-1", "c-5"]
    assert statements.commands and not statements.using("$in")
    by_survivor = [c["filter"] for c in statements.commands if "merged_into" in c["filter"]]
    assert by_survivor and all(f.get("account_id") == "acct-1" for f in by_survivor), "the account's index serves it"


def test_a_server_that_scans_gets_one_read_of_the_account_s_merged_contacts_a_round(container, monkeypatch):
    from workflows.adapters import contacts_directory

    directory = MongoContactsDirectory(container.db["contacts"])
    for contact_id in ("c-1", "c-2", "c-3"):
        directory.record_existing("acct-1", contact_id)
    directory.record_merged("acct-1", "c-2", "c-1")
    directory.record_merged("acct-1", "c-3", "c-2")
    directory.record_merged("acct-2", "c-9", "c-1")
    monkeypatch.setattr(contacts_directory, "server_scans_for", lambda collection, sample: True)
    assert sorted(directory.merge_family("acct-1", ["c-1"])) == ["c-1", "c-2", "c-3"]
    assert sorted(directory.merge_family("acct-1", ["c-3"])) == ["c-1", "c-2", "c-3"]
    assert sorted(directory.merge_family("acct-2", ["c-1"])) == ["c-1", "c-9"]  # its c-9, merged into c-1


def test_a_new_contact_the_database_cannot_take_sends_its_batch_one_by_one_and_the_others_are_recorded(container):
    """A lone surrogate passes the envelope and the contract but no BSON encoder: the batch's one insert fails, the
    batch goes one by one, that event is dead-lettered and the next ones are recorded, nothing stalls."""
    publish(container, [created("acct-bad", "c-\ud800"), created("acct-other", "c-7"), created("acct-other", "c-8")])
    consumer = worker_s_consumer(container)

    run_until(consumer, lambda: container.db["contacts"].find_one({"_id": "c-8"}) is not None, timeout_s=60.0)

    assert consumer.dead_lettered == 1
    assert container.contacts_directory.unknown("acct-other", ["c-7", "c-8"]) == set()
