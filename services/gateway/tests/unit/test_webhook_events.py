"""The table of public webhook events: each row names a published contract event and copies only fields that the
contract publishes in clear (never a sealed one), and payloads are thin."""
import re
from datetime import datetime, timezone
from pathlib import Path

from marshmallow import fields

from crm_platform.contracts import SealedField
from crm_platform.contracts.catalog import TOPICS

from gateway import config
from gateway.domain.webhook_events import (
    GATEWAY_EVENTS, PUBLIC_EVENTS, PUBLIC_TYPES, public_event_of, subscribed, thin_payload, unknown_types)

TOPICS_BY_NAME = {topic.name: topic for topic in TOPICS}
DOCS = Path(__file__).resolve().parents[4] / "docs" / "webhooks.md"


def test_every_row_names_a_published_event_of_a_topic_the_worker_consumes():
    for event in PUBLIC_EVENTS:
        assert event.topic in config.WEBHOOK_TOPICS, event
        assert TOPICS_BY_NAME[event.topic].contract(event.event_type) is not None, event


def test_each_mapped_event_type_is_declared_on_one_topic_only():
    for event in PUBLIC_EVENTS:
        declaring = [topic.name for topic in TOPICS if topic.contract(event.event_type)]
        assert declaring == [event.topic], event


def test_copied_fields_are_declared_in_clear_by_the_contract():
    for event in PUBLIC_EVENTS:
        declared = TOPICS_BY_NAME[event.topic].contract(event.event_type).schema().fields
        for name in event.fields:
            assert name in declared, (event.type, name)
            assert not isinstance(declared[name], (SealedField, fields.Dict)), (event.type, name)
            assert name != "personal"


def test_the_worker_consumes_every_published_topic_but_the_gateways_own():
    assert set(config.WEBHOOK_TOPICS) == {"contacts.events", "billing.events", "workflows.events", "privacy.events"}


def test_public_types_are_unique_and_the_brief_ones_exist():
    assert len(PUBLIC_TYPES) == len(PUBLIC_EVENTS) + len(GATEWAY_EVENTS)
    assert {"contact.created", "contact.updated", "contact.deleted", "contacts.merged", "label.assigned",
            "invoice.issued", "invoice.paid", "quote.accepted", "card.moved", "card.won", "card.lost",
            "privacy.erasure_completed"} <= PUBLIC_TYPES


def test_the_gateways_own_events_come_from_no_contract_and_say_so_in_their_name():
    """They are made by the gateway (the disabling notice), not mapped from a published event: no topic may
    publish them under another name, and their type names the gateway's own resource."""
    published = {event.type for event in PUBLIC_EVENTS}
    for event in GATEWAY_EVENTS:
        assert event.type not in published and event.type.startswith("webhook_endpoint."), event
        assert not any(topic.contract(event.type) for topic in TOPICS), event
        assert "url" not in event.fields and "description" not in event.fields, event  # the account's own text


def test_the_documented_catalog_lists_every_public_type_and_no_other():
    section = DOCS.read_text().split("## Event types", 1)[1].split("\n## ", 1)[0]
    documented = {name for row in section.splitlines() if row.startswith("| `")
                  for name in re.findall(r"`([a-z_]+\.[a-z_]+)`", row.split("|")[1])}
    assert documented == PUBLIC_TYPES


def test_a_payload_is_thin_ids_and_non_personal_fields_only():
    sealed = {"sealed": "v1", "subject": "contact:c1", "nonce": "n", "ciphertext": "secret name"}
    event = public_event_of("ContactCreated")
    body = thin_payload(event, event_id="evt1", occurred_at=datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc),
                        account_id="acc1", aggregate_id="c1",
                        payload={"contact_id": "c1", "details": {"labels": ["vip"]}, "personal": sealed,
                                 "created_at": "2026-12-02T10:00:00+00:00"})
    assert body == {"id": "evt1", "type": "contact.created", "timestamp": "2026-12-02T10:00:00Z", "account_id": "acc1",
                    "data": {"contact_id": "c1", "created_at": "2026-12-02T10:00:00+00:00"}}


def test_a_resource_id_comes_from_the_aggregate_when_the_payload_does_not_carry_it():
    body = thin_payload(public_event_of("InvoicePaid"), event_id="e", occurred_at=datetime.now(timezone.utc),
                        account_id="a", aggregate_id="inv1", payload={"contact_id": "c1", "paid_on": "2026-12-01"})
    assert body["data"] == {"invoice_id": "inv1", "contact_id": "c1", "paid_on": "2026-12-01"}


def test_events_without_a_public_type_are_not_sent():
    assert public_event_of("InvoiceDrafted") is None and public_event_of("SubjectErased") is None


def test_subscriptions_and_unknown_types():
    assert subscribed(["*"], "card.won") and subscribed(["card.won"], "card.won")
    assert not subscribed(["card.lost"], "card.won")
    assert unknown_types(["contact.created", "contact.create", "*", "nope"]) == ["contact.create", "nope"]


def test_a_task_reminder_is_published_as_task_reminder_due_without_its_title_notes_or_assignee():
    sealed = {"sealed": "v1", "subject": "contact:c1", "nonce": "n", "ciphertext": "Call Sophie about the quote"}
    payload = {"due_at": "2026-12-04T09:00:00+00:00", "time_zone": "Europe/Paris", "reminder_time_zone": "Europe/Paris",
               "link_kind": "card", "link_id": "card1", "contact_id": "c1", "assignee": "Sophie Marchal",
               "reminders": [{"before": "P1D", "at": "2026-12-03T09:00:00+00:00"}], "fired": ["P1D@2026-12-03"],
               "reminders_after": "2026-12-01T00:00:00+00:00", "status": "open", "deleted": False,
               "created_at": "2026-12-01T08:00:00+00:00", "personal": sealed, "reminder": "P1D",
               "remind_at": "2026-12-03T09:00:00+00:00", "fired_at": "2026-12-03T09:00:02+00:00", "late": False}
    event = public_event_of("TaskReminderDue")
    body = thin_payload(event, event_id="e", occurred_at=datetime(2026, 12, 3, 9, 0, 2, tzinfo=timezone.utc),
                        account_id="a", aggregate_id="task1", payload=payload)
    assert body["type"] == "task.reminder_due"
    assert body["data"] == {"task_id": "task1", "contact_id": "c1", "link_kind": "card", "link_id": "card1",
                            "due_at": "2026-12-04T09:00:00+00:00", "reminder": "P1D",
                            "remind_at": "2026-12-03T09:00:00+00:00", "late": False}
