"""Webhooks end to end on the real broker and database: an event published on a topic reaches a local receiver
(a thread running http.server) signed so that the `standardwebhooks` library verifies it; a receiver answering
500 twice then 200 gets three attempts and the delivery is delivered; after the endpoint is deleted it gets
nothing more. Retries are 100 ms apart here (an injected schedule)."""
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from crm_platform.envelope import EventEnvelope
from crm_platform.kafka_clients import ensure_topics, make_producer

from gateway import config
from gateway.domain.webhook_deliveries import RetrySchedule
from gateway.testing.scripted_upstreams import gateway

FAST_RETRIES = RetrySchedule(delays=(timedelta(milliseconds=100),), window=timedelta(minutes=1))


class Receiver:
    """A local HTTP receiver answering POSTs with the statuses given, in turn (the last one repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received, self.delay_s = list(statuses), [], 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                time.sleep(receiver.delay_s)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body.decode()))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def system(infra, unique_suffix, mongo_client, topic_namespace):
    """A gateway (API and worker loops) on the test's database and topics, allowed to send to a local receiver."""
    client, auth, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:9",
                                      KAFKA_TOPIC_NAMESPACE=topic_namespace, WEBHOOK_ALLOW_PRIVATE_TARGETS="true")
    topics = {name: container.topic(name) for name in config.WEBHOOK_TOPICS}
    ensure_topics(infra.kafka_bootstrap, list(topics.values()), 1)
    fan_out = container.webhook_fan_out_loop(retry_delay_s=0.01)
    delivery = container.webhook_delivery_loop(FAST_RETRIES, idle_s=0.05)
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,)) for loop in (fan_out.run, delivery.run)]
    for thread in threads:
        thread.start()
    producer = make_producer(infra.kafka_bootstrap, "webhook-test")
    account_id = container.accounts.authenticate(auth["Authorization"].split(" ")[1]).account_id

    def publish(event_type: str, aggregate_id: str, payload: dict, topic: str = "contacts.events") -> EventEnvelope:
        envelope = EventEnvelope(event_type=event_type, aggregate_type="Contact", aggregate_id=aggregate_id,
                                 aggregate_version=1, account_id=account_id, payload=payload)
        producer.send(topics[topic], key=aggregate_id.encode(), value=envelope.to_json_bytes()).get(timeout=30)
        return envelope

    yield client, auth, publish, fan_out, container
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    producer.close()
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def contact_created(contact_id: str) -> dict:
    sealed = {"sealed": "v1", "subject": f"contact:{contact_id}", "nonce": "bm9uY2U=", "ciphertext": "c2VjcmV0"}
    return {"contact_id": contact_id, "details": {"labels": []}, "personal": sealed,
            "created_at": datetime.now(timezone.utc).isoformat()}


def wait_for(condition, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_published_event_reaches_the_receiver_signed_after_two_500s_and_nothing_after_a_delete(system):
    client, auth, publish, fan_out, _ = system
    receiver = Receiver([500, 500, 200])
    try:
        created = client.post("/v1/webhook-endpoints", json={"url": receiver.url, "events": ["contact.created"]},
                              headers=auth).get_json()
        endpoint, secret = created["id"], created["secret"]
        event = publish("ContactCreated", "c-1", contact_created("c-1"))

        deliveries = f"/v1/webhook-endpoints/{endpoint}/deliveries"
        delivered = wait_for(lambda: [d for d in client.get(deliveries, headers=auth).get_json()["items"]
                                      if d["state"] == "delivered"])
        assert len(receiver.received) == 3
        assert delivered[0]["attempts"] == 3 and delivered[0]["last_status_code"] == 200
        assert delivered[0]["event_id"] == event.event_id and delivered[0]["event_type"] == "contact.created"
        for headers, body in receiver.received:
            payload = Webhook(secret).verify(body, headers)
            assert headers["webhook-id"] == event.event_id
        assert payload == {"id": event.event_id, "type": "contact.created", "account_id": event.account_id,
                           "timestamp": payload["timestamp"], "data": {"contact_id": "c-1",
                                                                       "created_at": payload["data"]["created_at"]}}
        assert "c2VjcmV0" not in body and "personal" not in body  # nothing sealed, nothing personal
        log = client.get(f"{deliveries}/{delivered[0]['id']}", headers=auth).get_json()["log"]
        assert [attempt["status_code"] for attempt in log] == [200, 500, 500]  # newest first

        assert client.delete(f"/v1/webhook-endpoints/{endpoint}", headers=auth).status_code == 204
        publish("ContactCreated", "c-2", contact_created("c-2"))
        wait_for(lambda: fan_out.processed >= 2)
        time.sleep(1.0)  # time enough for a delivery to be made and sent, were there one
        assert len(receiver.received) == 3
    finally:
        receiver.close()


def test_an_event_consumed_twice_is_delivered_once_and_events_not_subscribed_to_are_not(system):
    client, auth, publish, fan_out, container = system
    receiver = Receiver([204])
    try:
        endpoint = client.post("/v1/webhook-endpoints", json={"url": receiver.url, "events": ["label.assigned"]},
                               headers=auth).get_json()["id"]
        other = publish("ContactCreated", "c-3", contact_created("c-3"))
        assigned = publish("LabelAssigned", "c-3", {**contact_created("c-3"), "label_key": "vip"})
        wait_for(lambda: fan_out.processed >= 2)
        fan_out_again = container.webhook_fan_out_loop()._handler  # the same events handled again
        fan_out_again(other)
        fan_out_again(assigned)
        wait_for(lambda: len(receiver.received) >= 1)
        time.sleep(0.5)
        assert len(receiver.received) == 1
        assert json.loads(receiver.received[0][1])["data"] == {"contact_id": "c-3", "label_key": "vip"}
        items = client.get(f"/v1/webhook-endpoints/{endpoint}/deliveries", headers=auth).get_json()["items"]
        assert [item["event_type"] for item in items] == ["label.assigned"]
    finally:
        receiver.close()
