"""Privacy requests answered end to end on the real database and broker: a person's cards exported, then erased,
the replies published on workflows.events as its contract says (issue 13)."""
import threading

import pytest

from crm_platform.contracts.contacts import ContactCreatedFact, ContactErasedFact
from crm_platform.contracts.privacy import (
    PRIVACY_REQUEST_AGGREGATE_TYPE, SUBJECT_REQUEST_CLASSES, ErasureRequested, SubjectExportRequested,
)
from crm_platform.contracts.workflows import WORKFLOWS_EVENTS
from crm_platform.envelope import envelope_from_json_bytes
from crm_platform.event_codec import EventCodec
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_producer
from crm_platform.personal_data import SubjectErased
from crm_platform.testing.topics import read_topic
from crm_platform.testing.consumers import run_until_processed
from crm_platform.testing.statements import Statements
from crm_platform.mongo import MongoConnection

from workflows.bootstrap import Container
from workflows.domain.cards import Card

from .conftest import headers, project_all
from .test_api import board_with_contact, new_card
from .test_tasks_api import new_task

REQUESTS = EventCodec(SUBJECT_REQUEST_CLASSES)


def request_envelope(request):
    return REQUESTS.to_envelope(request, PRIVACY_REQUEST_AGGREGATE_TYPE, request.request_id, 1, request.account_id)


def replies(container):
    return [e for e in container.event_store.read_all() if e.aggregate_type == "PrivacyReply"]


def test_a_person_s_cards_are_exported_then_erased_each_request_answered_once(client, container, settings):
    board = board_with_contact(client, container)
    container.bus.handle(ContactCreatedFact("contact:2", "acct-1"))
    alone = new_card(client, board, "Projet de Louise", description="Louise, 12 rue des Lilas", value="900.00",
                     currency="EUR")
    shared = new_card(client, board, "Louise et Marc", stage=1, other_contact_ids=["contact:2"])
    project_all(container)
    handler = container.privacy_handler()

    export = SubjectExportRequested("req-export", "acct-1", ["contact:1"], ["contacts", "workflows"],
                                    "2026-12-02T10:00:00+00:00")
    handler.handle(request_envelope(export))
    [exported] = replies(container)
    assert (exported.event_type, exported.aggregate_id, exported.payload["item_count"]) == (
        "SubjectDataExported", "req-export", 2)
    part = container.privacy_exchange.read_part("req-export", exported.payload["part_blob_id"])
    rows = {row["card_id"]: row for row in part["data"]["cards"]}
    assert (rows[alone["id"]]["title"], rows[alone["id"]]["description"], rows[alone["id"]]["value"]) == (
        "Projet de Louise", "Louise, 12 rue des Lilas", "900.00")
    assert (rows[shared["id"]]["board"], rows[shared["id"]]["stage"]) == ("Ventes", "B")

    erasure = ErasureRequested("req-erase", "acct-1", ["contact:1"], ["workflows"], "2026-12-02T10:05:00+00:00")
    for _ in range(2):  # redelivered: no second reply, no error
        handler.handle(request_envelope(erasure))
    erased = [reply for reply in replies(container) if reply.aggregate_id == "req-erase"]
    assert len(erased) == 1 and erased[0].aggregate_version == 1
    assert (erased[0].payload["outcome"], erased[0].payload["keys_destroyed"], erased[0].payload["items_erased"]) == (
        "erased", ["workflows-subject:contact:1"], 2)

    # readable nowhere as soon as workflows answers: its read models too, before the projection consumer runs
    cards = container.cards_projection.collection
    assert cards.count_documents({"$or": [{"title": {"$regex": "Louise"}}, {"description": {"$regex": "Louise"}}]}) == 0
    assert cards.find_one({"_id": shared["id"]})["contact_ids"] == ["contact:2"]
    project_all(container)  # and the consumer's later pass changes nothing
    assert cards.count_documents({"$or": [{"title": {"$regex": "Louise"}}, {"description": {"$regex": "Louise"}}]}) == 0
    assert cards.find_one({"_id": shared["id"]})["contact_ids"] == ["contact:2"]
    sealed = [e for e in container.event_store.read_all() if e.aggregate_type == "Card"
              and e.payload["personal"]["subject"] == "workflows-subject:contact:1"]
    assert sealed
    for envelope in sealed:
        with pytest.raises(SubjectErased):
            container.codec.from_envelope(envelope)
    assert client.get(f"/v1/cards/{alone['id']}", headers=headers()).status_code == 404

    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [container.events_topic], 1)
    published = container.outbox_relay().publish_pending()
    records = read_topic(settings["KAFKA_BOOTSTRAP_SERVERS"], container.events_topic, expected=published)
    answers = [e for e in map(envelope_from_json_bytes, (r.value for r in records))
               if e.aggregate_type == "PrivacyReply"]
    assert sorted(e.event_type for e in answers) == ["SubjectDataExported", "SubjectErased"]
    for envelope in answers:  # as privacy reads them: the topic's contract
        assert WORKFLOWS_EVENTS.contract(envelope.event_type).validate(envelope.payload) == {}


def test_the_worker_s_privacy_loop_takes_requests_from_the_privacy_topic(client, container, settings, topic_namespace):
    board = board_with_contact(client, container)
    new_card(client, board, "Projet de Louise")
    project_all(container)
    topic = container.privacy_topic
    assert topic == f"{topic_namespace}privacy.events"
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [topic, dead_letter_topic(topic)], 1)
    request = SubjectExportRequested("req-1", "acct-1", ["contact:1"], ["workflows"], "2026-12-02T10:00:00+00:00")
    envelope = request_envelope(request)
    producer = make_producer(settings["KAFKA_BOOTSTRAP_SERVERS"], "test-privacy")
    producer.send(topic, key=envelope.aggregate_id.encode(), value=envelope.to_json_bytes())
    producer.flush()
    producer.close()
    probe = container.privacy_consumer()
    assert probe.config["group_id"] == f"{topic_namespace}workflows.privacy"
    probe.close()
    consumer = container.privacy_loop(retry_delay_s=0.01)  # the worker's own loop
    run_until_processed(consumer, 1)
    assert consumer.processed == 1 and consumer.dead_lettered == 0
    [reply] = replies(container)
    assert (reply.event_type, reply.aggregate_id, reply.payload["item_count"]) == ("SubjectDataExported", "req-1", 1)


def test_a_request_and_contacts_own_erasure_working_through_the_same_cards_at_once_both_end_done(
        client, container):
    # privacy sends ErasureRequested to contacts and workflows at once; contacts' ContactErased follows: in the
    # worker the loops workflows.privacy and workflows.contacts then erase the same cards, each on its thread
    board = board_with_contact(client, container)
    container.bus.handle(ContactCreatedFact("contact:2", "acct-1"))
    alone, shared = many_cards(container, board, ALONE_AND_SHARED)
    project_all(container)
    erasure = ErasureRequested("req-erase", "acct-1", ["contact:1"], ["workflows"], "2026-12-02T10:05:00+00:00")
    failures = []

    def run(work):
        try:
            work()
        except Exception as error:  # noqa: BLE001 - the test reports it
            failures.append(error)

    threads = [threading.Thread(target=run, args=(lambda: container.privacy_handler().handle(
                   request_envelope(erasure)),)),
               threading.Thread(target=run, args=(lambda: container.bus.handle(
                   ContactErasedFact("contact:1", "acct-1")),))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    [reply] = replies(container)
    assert reply.payload["outcome"] in ("erased", "nothing_held")
    assert reply.payload["keys_destroyed"] in ([], ["workflows-subject:contact:1"])
    assert container.cipher.is_erased("workflows-subject:contact:1")
    with container.unit_of_work() as uow:
        assert all(uow.cards.find("acct-1", card_id) is None for card_id in alone)
        for card_id in shared:
            card = uow.cards.find("acct-1", card_id)
            assert (card.contact_id, card.other_contact_ids, card.title) == ("contact:2", [], "")


ALONE_AND_SHARED = 100  # of each: 200 cards; without the retry the erasure failed in each of 3 runs


def many_cards(container, board, count):
    """`count` cards of contact:1 alone and `count` of contact:1 with contact:2, stored directly (no API round
    trips): a card per commit, as the API would."""
    stage_id = board["stages"][0]["id"]
    alone, shared = [], []
    for n in range(2 * count):
        others = ["contact:2"] if n % 2 else []
        with container.unit_of_work() as uow:
            card = Card.create("acct-1", board["id"], stage_id, f"a{n:04d}", "2026-12-01T10:00:00+00:00",
                               title="Projet de Louise", description="Louise, 12 rue des Lilas",
                               contact_id="contact:1", other_contact_ids=others)
            uow.cards.add(card)
            uow.commit()
        (shared if others else alone).append(card.id)
    return alone, shared


def erased_counting_statements(container, request_id: str):
    """contact:1 erased in workflows by request `request_id`, counting the statements on the event store and on
    the keys: (workflows' reply, the event-store statements, the key statements)."""
    commits, keys = Statements("event_commits"), Statements("subject_keys")
    counted = Container(container.settings)
    counted.mongo = MongoConnection(container.settings["MONGO_URI"], "test", event_listeners=[commits, keys])
    erasure = ErasureRequested(request_id, "acct-1", ["contact:1"], ["workflows"], "2026-12-02T10:05:00+00:00")
    counted.privacy_handler().handle(request_envelope(erasure))
    [reply] = [reply for reply in replies(container) if reply.aggregate_id == request_id]
    return reply, commits, keys


def test_a_person_s_cards_are_erased_with_one_bulk_write_and_one_key_read_not_a_commit_and_key_read_each(
        client, container):
    """Issue 13's target (an erasure in under 5 s with 50 cards): the cards are read under one read of the
    person's key and written with one bulk insert of their commits, not one key read and one commit (three
    statements) per card."""
    board = board_with_contact(client, container)
    cards = [new_card(client, board, f"Projet {n} de Louise", description="Louise, 12 rue des Lilas")
             for n in range(12)]
    project_all(container)
    reply, commits, keys = erased_counting_statements(container, "req-bulk")
    assert (reply.payload["outcome"], reply.payload["items_erased"]) == ("erased", 12)
    assert commits.names.count("insert") == 2, commits.names  # the 12 cards in one statement, then the reply
    # the person's key, once to read and once to seal, and once as the read models take the 12 cards (shredded)
    assert keys.names.count("find") <= 4, keys.names
    with container.unit_of_work() as uow:
        assert [uow.cards.find("acct-1", card["id"]) for card in cards] == [None] * 12  # key shredded


def test_a_person_s_tasks_are_erased_with_one_bulk_write_not_a_commit_each(client, container):
    """Issue 13: a person's tasks were erased one commit after the other (three statements each); now read at once
    and written with one bulk insert of their commits, as their cards are."""
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    tasks = [new_task(client, title=f"Rappeler Louise {n}", notes="au 06 12 34 56 78", contact_id="contact:1")
             for n in range(8)]
    project_all(container)
    reply, commits, keys = erased_counting_statements(container, "req-tasks")
    assert (reply.payload["outcome"], reply.payload["items_erased"]) == ("erased", 8)
    assert commits.names.count("insert") == 2, commits.names  # the 8 tasks in one statement, then the reply
    read_model = container.tasks_projection.collection  # readable nowhere as soon as workflows answers
    assert read_model.count_documents({"$or": [{"title": {"$regex": "Louise"}}, {"notes": {"$regex": "06 12"}}]}) == 0
    with container.unit_of_work() as uow:
        for task in tasks:
            found = uow.tasks.find("acct-1", task["id"])
            assert found is not None and found.contact_id is None and "Louise" not in repr(found.state), found
    # the person's key read once for the 8 tasks (11 reads, one per task, before), the reply's keys aside; then the
    # read models take the 8 tasks, each sealed under its own key once unlinked (workflows-task:<id>): one read each
    assert keys.names.count("find") <= 3 + 8, keys.names


def test_a_person_s_cards_are_exported_with_one_read_of_their_key_not_one_per_card(client, container):
    board = board_with_contact(client, container)
    for n in range(12):
        new_card(client, board, f"Projet {n} de Louise")
    project_all(container)
    keys = Statements("subject_keys")
    counted = Container(container.settings)
    counted.mongo = MongoConnection(container.settings["MONGO_URI"], "test", event_listeners=[keys])
    export = SubjectExportRequested("req-export-keys", "acct-1", ["contact:1"], ["workflows"],
                                    "2026-12-02T10:00:00+00:00")
    counted.privacy_handler().handle(request_envelope(export))
    [exported] = [reply for reply in replies(container) if reply.aggregate_id == "req-export-keys"]
    assert exported.payload["item_count"] == 12
    # the person's key once for the cards, the export's key made and read to seal the part (12 reads before)
    assert keys.names.count("find") <= 3, keys.names


def test_cards_blanked_first_by_contacts_own_erasure_are_not_readable_when_the_request_answers(client, container):
    """Contacts' erasure (ContactErased, another loop of the worker) may blank a person's cards before the privacy
    request does: the request then changes nothing, yet the read models must not show the cards' text still."""
    board = board_with_contact(client, container)
    for n in range(3):
        new_card(client, board, f"Projet {n} de Louise", description="Louise, 12 rue des Lilas")
    project_all(container)
    container.bus.handle(ContactErasedFact("contact:1", "acct-1"))  # its commits stored, not projected yet
    erasure = ErasureRequested("req-late", "acct-1", ["contact:1"], ["workflows"], "2026-12-02T10:05:00+00:00")
    container.privacy_handler().handle(request_envelope(erasure))
    [reply] = [reply for reply in replies(container) if reply.aggregate_id == "req-late"]
    assert reply.payload["outcome"] == "nothing_held"
    cards = container.cards_projection.collection
    assert cards.count_documents({"$or": [{"title": {"$regex": "Louise"}}, {"description": {"$regex": "Louise"}}]}) == 0
