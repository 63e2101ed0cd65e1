"""The contacts read model fed a polled batch at once, on the real broker and database: what the worker's
projection consumer must keep doing when it writes in bulk (dead letters per event, idempotence, order per
contact, tombstones for erased people), and that it does write in bulk."""
import base64
import os
import threading
import time

from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_consumer, make_producer
from crm_platform.mongo import MongoConnection
from crm_platform.testing.statements import Statements
from crm_platform.testing.topics import read_topic

from contacts.adapters.activity import as_stored
from contacts.bootstrap import Container
from contacts.domain import commands
from contacts.domain.events import data_subject
from contacts.service_layer import handlers


def create(container, account, first_name, **details):
    details = {"first_name": first_name, "emails": [{"address": f"{first_name.lower()}@{account}.example"}], **details}
    return handlers.create_contact(commands.CreateContact(account, details), container.unit_of_work())


def update(container, account, contact, revision, **changes):
    return handlers.update_contact(commands.UpdateContact(account, contact.id, revision, changes), container.unit_of_work())


def new_events(container, seen: set) -> list:
    events = [e for e in container.event_store.read_all() if e.event_id not in seen]
    seen.update(e.event_id for e in events)
    return events


def apply_as_one_batch(container, envelopes) -> None:
    """What the worker's consumer does with a polled batch, without Kafka: the batch block, then each event."""
    with container.projection_batch(envelopes):
        for envelope in envelopes:
            container.apply_to_projections(envelope)


def poisoned(envelope):
    """The event with its sealed personal data damaged: it never opens (InvalidTag), on any try."""
    personal = {**envelope.payload["personal"], "ciphertext": base64.b64encode(os.urandom(64)).decode()}
    return envelope.with_payload({**envelope.payload, "personal": personal})


def consume(container, group: str, until, timeout_s: float = 60.0) -> EventConsumer:
    consumer = EventConsumer(
        "contacts.projection",
        lambda: make_consumer(container.settings["KAFKA_BOOTSTRAP_SERVERS"], group, [container.events_topic], "test"),
        container.producer, container.apply_to_projections, retry_delay_s=0.01,
        batch_context=container.projection_batch)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + timeout_s
    try:
        while not until(consumer) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert until(consumer), "the consumer did not get there in time"
    return consumer


def publish(container, envelopes) -> None:
    topic = container.events_topic
    ensure_topics(container.settings["KAFKA_BOOTSTRAP_SERVERS"], [topic, dead_letter_topic(topic)], partitions=3)
    producer = make_producer(container.settings["KAFKA_BOOTSTRAP_SERVERS"], "test-publisher")
    for envelope in envelopes:
        producer.send(topic, key=envelope.aggregate_id.encode(), value=envelope.to_json_bytes())
    producer.flush()
    producer.close()


def two_accounts_with_a_poison_event(container):
    """Account A: Louise created and updated (the update poisoned), Paul created and updated; account B: Jeanne
    created and updated. Returns (contacts, envelopes, poison)."""
    louise, paul, jeanne = create(container, "acct-a", "Louise"), create(container, "acct-a", "Paul"), \
        create(container, "acct-b", "Jeanne")
    for account, contact in (("acct-a", louise), ("acct-a", paul), ("acct-b", jeanne)):
        update(container, account, contact, 1, company=f"Maison {contact.details['first_name']}")
    envelopes = list(container.event_store.read_all())
    [louise_update] = [e for e in envelopes if e.aggregate_id == louise.id and e.aggregate_version == 2]
    poison = poisoned(louise_update)
    envelopes = [poison if e.event_id == poison.event_id else e for e in envelopes]
    return (louise, paul, jeanne), envelopes, poison


def test_a_batch_mixing_two_accounts_dead_letters_only_its_poison_event_and_applies_the_rest(container, topic_namespace):
    (louise, paul, jeanne), envelopes, poison = two_accounts_with_a_poison_event(container)
    publish(container, envelopes)
    view = container.projection.collection
    consumer = consume(container, f"{topic_namespace}projection", lambda c: c.processed + c.dead_lettered >= 6)
    assert consumer.dead_lettered == 1
    [dead] = read_topic(container.settings["KAFKA_BOOTSTRAP_SERVERS"], dead_letter_topic(container.events_topic), expected=1)
    assert dead.key == louise.id.encode() and b'"event_id":"%s"' % poison.event_id.encode() in dead.value
    assert dict(dead.headers)["dead_letter_error"].startswith(b"InvalidTag")
    assert view.find_one({"_id": louise.id})["version"] == 1  # its good event applied, the poison alone left out
    for contact in (paul, jeanne):
        doc = view.find_one({"_id": contact.id})
        assert (doc["version"], doc["company"]) == (2, f"Maison {contact.details['first_name']}")
    assert {d["account_id"] for d in view.find()} == {"acct-a", "acct-b"}


def test_replaying_the_same_batch_changes_nothing(container, topic_namespace):
    _, envelopes, poison = two_accounts_with_a_poison_event(container)
    publish(container, envelopes)
    view = container.projection.collection
    consume(container, f"{topic_namespace}first", lambda c: c.processed + c.dead_lettered >= 6)
    once = sorted(view.find(), key=lambda d: d["_id"])
    replay = consume(container, f"{topic_namespace}replay", lambda c: c.processed + c.dead_lettered >= 6)
    assert replay.dead_lettered == 1  # the poison again, and nothing else
    assert sorted(view.find(), key=lambda d: d["_id"]) == once
    apply_as_one_batch(container, [e for e in envelopes if e.event_id != poison.event_id])  # and once more, at once
    assert sorted(view.find(), key=lambda d: d["_id"]) == once


def test_a_contacts_events_in_one_batch_apply_in_order(container, topic_namespace):
    kept, gone = create(container, "acct-a", "Louise"), create(container, "acct-b", "Paul")
    update(container, "acct-a", kept, 1, company="Papeterie")
    update(container, "acct-a", kept, 2, company="Papeterie Desnotés")
    update(container, "acct-b", gone, 1, company="Encres")
    handlers.delete_contact(commands.DeleteContact("acct-b", gone.id, 2), container.unit_of_work())
    envelopes = list(container.event_store.read_all())
    view = container.projection.collection

    def assert_in_order():
        kept_doc, gone_doc = view.find_one({"_id": kept.id}), view.find_one({"_id": gone.id})
        assert (kept_doc["version"], kept_doc["company"], kept_doc["deleted"]) == (3, "Papeterie Desnotés", False)
        assert kept_doc["last_activity_at"] == as_stored(max(e.occurred_at for e in envelopes if e.aggregate_id == kept.id))
        assert (gone_doc["version"], gone_doc["deleted"]) == (3, True) and "first_name" not in gone_doc

    publish(container, envelopes)  # through the broker: the worker's consumer, batches as polled
    consume(container, f"{topic_namespace}projection", lambda c: c.processed >= len(envelopes))
    assert_in_order()
    view.delete_many({})
    apply_as_one_batch(container, envelopes)  # and all seven in one batch for sure
    assert_in_order()


def test_events_of_an_erased_person_in_a_batch_leave_a_tombstone(container):
    seen: set = set()
    louise, paul = create(container, "acct-a", "Louise"), create(container, "acct-a", "Paul")
    apply_as_one_batch(container, new_events(container, seen))
    update(container, "acct-a", louise, 1, company="Papeterie")
    update(container, "acct-a", paul, 1, company="Encres")
    container.cipher.shred(data_subject(louise.id))  # shredded before the worker reads the update
    apply_as_one_batch(container, new_events(container, seen))
    doc = container.projection.collection.find_one({"_id": louise.id})
    assert (doc["version"], doc["erased"], doc["deleted"]) == (2, True, True)
    assert not {"first_name", "emails", "search_text"} & set(doc)
    assert container.projection.collection.find_one({"_id": paul.id})["company"] == "Encres"


def test_a_batch_of_changes_reaches_the_read_model_in_one_update_statement(container):
    statements = Statements("contacts")
    counted = Container(container.settings)
    counted.mongo = MongoConnection(container.settings["MONGO_URI"], "test", event_listeners=[statements])
    seen: set = set()
    contacts = [create(counted, "acct-a", f"Person{i}") for i in range(30)]
    apply_as_one_batch(counted, new_events(counted, seen))
    assert statements.names.count("insert") == 1  # the 30 new contacts
    for contact in contacts:
        update(counted, "acct-a", contact, 1, company="Papeterie")
    statements.names.clear()
    apply_as_one_batch(counted, new_events(counted, seen))
    assert statements.names == ["update"]  # no read, no write per event
    assert counted.projection.collection.count_documents({"account_id": "acct-a", "company": "Papeterie"}) == 30
