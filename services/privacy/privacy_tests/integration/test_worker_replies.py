"""The worker's replies consumers on the real broker: a reply on an asked service's own topic reaches its request;
the service's other events, replies to requests not of this account, and a reply naming another service than
the topic's producer are passed over."""

from crm_platform.contracts.privacy import PRIVACY_REPLY_AGGREGATE_TYPE, SubjectErasedReply
from crm_platform.envelope import new_envelope
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_producer
from crm_platform.testing.consumers import run_until_processed

from privacy.entrypoints.worker import replies_consumer

from .conftest import REPLIES, headers


def test_a_reply_on_a_services_topic_is_recorded_on_its_request(client, container, settings):
    body = {"type": "erasure", "subject": {"contact_id": "contact:1"}, "requester": "L", "reason": "e-mail"}
    request_id = client.post("/v1/privacy/requests", json=body, headers=headers()).get_json()["id"]
    topics = container.reply_topics
    assert len(topics) == 3 and all(t.startswith(settings["KAFKA_TOPIC_NAMESPACE"]) for t in topics)
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [*topics, *map(dead_letter_topic, topics)], 1)
    reply = SubjectErasedReply(request_id, "acct-1", "billing", "erased", ["billing:contact:1"], [], 1, "now")
    other_account = SubjectErasedReply(request_id, "acct-2", "billing", "erased", [], [], 0, "now")
    impostor = SubjectErasedReply(request_id, "acct-1", "workflows", "erased", ["forged"], [], 0, "now")
    billing_topic = next(t for t in topics if t.endswith("billing.events"))
    records = [
        new_envelope(event_type="InvoiceIssued", aggregate_type="Invoice", aggregate_id="invoice:1",
                     aggregate_version=1, account_id="acct-1", payload={"unreadable": "by privacy"}),
        REPLIES.to_envelope(other_account, PRIVACY_REPLY_AGGREGATE_TYPE, request_id, 1, "acct-2"),
        REPLIES.to_envelope(impostor, PRIVACY_REPLY_AGGREGATE_TYPE, request_id, 1, "acct-1"),
        REPLIES.to_envelope(reply, PRIVACY_REPLY_AGGREGATE_TYPE, request_id, 1, "acct-1"),
    ]
    producer = make_producer(settings["KAFKA_BOOTSTRAP_SERVERS"], "test-billing")
    for envelope in records:
        producer.send(billing_topic, key=envelope.aggregate_id.encode(), value=envelope.to_json_bytes())
    producer.flush()
    producer.close()

    consumer = replies_consumer(container, "billing")
    run_until_processed(consumer, 4)
    assert consumer.processed == 4 and consumer.dead_lettered == 0
    shown = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    billing = next(s for s in shown["services"] if s["service"] == "billing")
    assert billing["answered"] and billing["keys_destroyed"] == ["billing:contact:1"]
    assert [e["what"] for e in shown["audit_trail"]].count("ReplyRecorded") == 1
    assert not next(s for s in shown["services"] if s["service"] == "workflows")["answered"]
