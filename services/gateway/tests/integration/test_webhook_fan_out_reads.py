"""The webhook fan-out reads the endpoints once per account of a polled batch, on the real broker and database
(issue 14: on FerretDB every statement is its own round trip, and most events are of accounts without endpoints),
and fans out as it did one event at a time."""
import threading

from crm_platform.envelope import EventEnvelope
from crm_platform.kafka_clients import ensure_topics, make_producer
from crm_platform.mongo import MongoConnection
from crm_platform.testing.statements import Statements

from gateway import config
from gateway.bootstrap import Container
from gateway.testing.scripted_upstreams import gateway

from .test_webhook_deliveries import contact_created


def test_a_polled_batch_reads_the_endpoints_of_each_of_its_accounts_once_and_fans_out_as_before(
        infra, unique_suffix, mongo_client, topic_namespace):
    client, auth, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:9",
                                      KAFKA_TOPIC_NAMESPACE=topic_namespace, WEBHOOK_ALLOW_PRIVATE_TARGETS="true")
    try:
        with_endpoints = container.accounts.authenticate(auth["Authorization"].split(" ")[1]).account_id
        without_endpoints, _ = container.accounts.create_account("No webhooks")
        created = client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/a", "events": ["contact.created"]},
                              headers=auth).get_json()
        every = client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/b", "events": ["*"]},
                            headers=auth).get_json()
        disabled = client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/c", "events": ["*"]},
                               headers=auth).get_json()
        client.patch(f"/v1/webhook-endpoints/{disabled['id']}", json={"enabled": False}, headers=auth)
        topic = container.topic("contacts.events")
        ensure_topics(infra.kafka_bootstrap, [container.topic(name) for name in config.WEBHOOK_TOPICS], 1)
        producer = make_producer(infra.kafka_bootstrap, "webhook-reads-test")
        events = []
        for n in range(30):
            account = with_endpoints if n % 3 == 0 else without_endpoints
            event_type, payload = ("ContactCreated", contact_created(f"c-{n}")) if n % 2 else \
                ("ContactUpdated", {**contact_created(f"c-{n}"), "changed": ["emails"]})
            events.append(EventEnvelope(event_type=event_type, aggregate_type="Contact", aggregate_id=f"c-{n}",
                                        aggregate_version=1, account_id=account, payload=payload))
            producer.send(topic, key=f"c-{n}".encode(), value=events[-1].to_json_bytes())
        producer.flush(timeout=30)
        producer.close()

        statements = Statements("webhook_endpoints")
        counted = Container(container.settings)
        counted.mongo = MongoConnection(infra.mongo_uri, "test", event_listeners=[statements])
        fan_out = counted.webhook_fan_out_loop(retry_delay_s=0.01)
        kafka_consumer = counted.consumer("webhooks", *[counted.topic(name) for name in config.WEBHOOK_TOPICS])
        try:
            polls_with_events, handled = 0, 0
            for _ in range(200):
                got = fan_out.poll_once(kafka_consumer, threading.Event())
                polls_with_events, handled = polls_with_events + (got > 0), handled + got
                if handled >= len(events):
                    break
        finally:
            kafka_consumer.close()
        assert handled == len(events)
        # an indexed equality per account of a batch (two accounts here), never an `$in`; was one per event: 30
        assert 1 <= statements.names.count("find") <= 2 * polls_with_events

        mine = [e for e in events if e.account_id == with_endpoints]
        expected = {f"{e.event_id}:{every['id']}" for e in mine} | {
            f"{e.event_id}:{created['id']}" for e in mine if e.event_type == "ContactCreated"}
        assert {d["_id"] for d in container.db["webhook_deliveries"].find({})} == expected
    finally:
        mongo_client.drop_database(f"test_{unique_suffix}_gateway")
