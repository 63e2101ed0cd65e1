"""The webhook consumer on the real broker and database, fed events no service should publish: a lone surrogate
in a copied field, a 10**30 number, a payload nested 10,000 deep. Each bad one is dead-lettered (at once, or after
its retries) without holding up the good events behind it."""
import json
import uuid

from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_producer

from . import test_webhook_deliveries
from .test_webhook_deliveries import Receiver, contact_created, wait_for

system = test_webhook_deliveries.system  # the fixture: a gateway with its worker loops, on the test's topics

DEPTH = 10_000


def test_bad_events_are_dead_lettered_and_the_next_ones_are_delivered(system, infra):
    client, auth, publish, fan_out, container = system
    ensure_topics(infra.kafka_bootstrap, [dead_letter_topic(container.topic("contacts.events"))], 1)  # as the worker
    receiver = Receiver([204])
    producer = make_producer(infra.kafka_bootstrap, "webhook-hostile-test")
    try:
        client.post("/v1/webhook-endpoints", json={"url": receiver.url, "events": ["label.assigned"]}, headers=auth)
        good = publish("LabelAssigned", "c-1", {**contact_created("c-1"), "label_key": "vip"})
        as_sent = json.loads(good.to_json_bytes())

        def send_raw(label_key_json: str) -> None:
            """The good event under a new id, its label_key replaced by this JSON text (escaped as sent)."""
            envelope = {**as_sent, "event_id": str(uuid.uuid4()), "payload": {**as_sent["payload"], "label_key": 0}}
            text = json.dumps(envelope).replace('"label_key": 0', f'"label_key": {label_key_json}')
            producer.send(container.topic("contacts.events"), key=b"c-1", value=text.encode()).get(timeout=30)

        send_raw('"\\ud800"')  # a lone surrogate: valid JSON, text no database stores
        send_raw("[" * DEPTH + "]" * DEPTH)
        huge = publish("LabelAssigned", "c-2", {**contact_created("c-2"), "label_key": 10**30})
        last = publish("LabelAssigned", "c-3", {**contact_created("c-3"), "label_key": "fidele"})
        wait_for(lambda: len(receiver.received) >= 3)
        delivered = sorted(json.loads(body)["id"] for _, body in receiver.received)
        assert delivered == sorted([good.event_id, huge.event_id, last.event_id])
        assert fan_out.dead_lettered == 2
    finally:
        producer.close()
        receiver.close()
