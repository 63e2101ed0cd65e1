"""Cards of a contact whose processing is restricted (Art. 18) on the real MongoDB server: no card naming them
is created or edited (409 `processing-restricted`) until the restriction is lifted; other cards go on."""
from dataclasses import replace

from crm_platform.contracts.contacts import ContactCreatedFact
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_producer
from crm_platform.openapi import documented_statuses
from crm_platform.testing.consumers import run_until_processed
from crm_platform.testing.restriction_events import restriction_applied, restriction_lifted

from .conftest import headers
from .test_api import board_with_contact

PROBLEM = "/problems/processing-restricted"


def refused(response):
    return (response.status_code == 409 and response.mimetype == "application/problem+json"
            and response.get_json()["type"] == PROBLEM and response.get_json()["contact_ids"] == ["contact:1"])


def test_a_restricted_contact_gets_no_card_created_or_edited_until_lifted(client, container):
    board = board_with_contact(client, container)
    container.bus.handle(ContactCreatedFact("contact:2", "acct-1"))

    def card(contact_id, **fields):
        return client.post("/v1/cards", headers=headers(), json={"board_id": board["id"], "title": "Devis",
                                                                 "contact_id": contact_id, **fields})

    theirs, others = card("contact:1").get_json(), card("contact:2").get_json()
    handler = container.privacy_handler()
    handler.handle(restriction_applied("acct-1", ["contact:1"], ["workflows"]))
    [reply] = container.event_store.load("privacy-request:r18")
    assert (reply.event_type, reply.payload["outcome"]) == ("SubjectRestricted", "restricted")

    assert refused(card("contact:1"))
    for method, path in (("POST", "/v1/cards"), ("PATCH", f"/v1/cards/{theirs['id']}")):  # as the OpenAPI says
        assert "409" in documented_statuses(client.application, method, path), (method, path)
    assert refused(card("contact:2", other_contact_ids=["contact:1"]))
    assert refused(client.patch(f"/v1/cards/{theirs['id']}", headers=headers(), json={"revision": 1, "title": "x"}))
    assert refused(client.patch(f"/v1/cards/{others['id']}", headers=headers(),
                                json={"revision": 1, "other_contact_ids": ["contact:1"]}))
    edited = client.patch(f"/v1/cards/{others['id']}", headers=headers(), json={"revision": 1, "title": "y"})
    assert edited.status_code == 200, edited.get_json()

    handler.handle(restriction_lifted("acct-1", ["contact:1"]))
    lifted = client.patch(f"/v1/cards/{theirs['id']}", headers=headers(), json={"revision": 1, "title": "x"})
    assert lifted.status_code == 200, lifted.get_json()


def test_a_malformed_restriction_is_dead_lettered_and_the_next_one_still_applied(container, settings):
    """On the real broker: a restriction whose contact_ids is a text (not the contract's list) restricts nothing
    and gets no reply; it is dead-lettered after its retries and the request behind it is applied."""
    topic = container.privacy_topic
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [topic, dead_letter_topic(topic)], 1)
    good = restriction_applied("acct-1", ["contact:1"], ["workflows"], request_id="privacy-request:good")
    bad = restriction_applied("acct-2", ["contact:9"], ["workflows"], request_id="privacy-request:bad")
    bad = replace(bad, payload={**bad.payload, "contact_ids": "contact:9"})
    producer = make_producer(settings["KAFKA_BOOTSTRAP_SERVERS"], "test-privacy")
    for envelope in (bad, good):
        producer.send(topic, key=envelope.aggregate_id.encode(), value=envelope.to_json_bytes())
    producer.flush()
    producer.close()
    consumer = run_until_processed(container.privacy_loop(retry_delay_s=0.01), 1)
    assert (consumer.processed, consumer.dead_lettered) == (1, 1)
    restrictions = container.processing_restrictions()
    assert restrictions.restricted("acct-1", ["contact:1"]) == {"contact:1"}
    assert restrictions.restricted("acct-2", ["contact:9", "c", "o"]) == set()
    assert container.event_store.load("privacy-request:bad") == []
    assert [e.event_type for e in container.event_store.load("privacy-request:good")] == ["SubjectRestricted"]


def test_every_operation_refusing_a_restricted_contact_documents_the_409(client):
    for method, path in (("POST", "/v1/cards"), ("PATCH", "/v1/cards/c-1"), ("POST", "/v1/cards/c-1/move"),
                         ("POST", "/v1/cards/c-1/archive"), ("POST", "/v1/tasks"), ("PATCH", "/v1/tasks/t-1"),
                         ("POST", "/v1/tasks/t-1/complete")):
        assert "409" in documented_statuses(client.application, method, path), (method, path)
