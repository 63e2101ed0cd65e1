"""Issue 14: an endpoint disabled after persistent failure is announced to the account as a
`webhook_endpoint.disabled` event, delivered to its other endpoints subscribed to it: once per disabling, even when
two workers disable it at once or one stops between the disabling and the queuing. On the in-memory stores."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.envelope import EventEnvelope

from gateway.domain.webhook_deliveries import DisablePolicy, Outcome, RetrySchedule
from gateway.domain.webhook_endpoint_notices import disabled_notice, disabled_notice_id
from gateway.domain.webhook_events import ENDPOINT_DISABLED, GATEWAY_EVENTS
from gateway.service_layer import webhook_endpoints
from gateway.service_layer.webhook_delivery import DeliveryLoop
from gateway.service_layer.webhook_endpoint_notices import queue_owed_notices
from gateway.service_layer.webhook_endpoints import RegisterEndpoint, WebhookPorts
from gateway.service_layer.webhook_fan_out import WebhookFanOut
from gateway.testing.in_memory_webhooks import InMemoryWebhookDeliveries, InMemoryWebhookEndpoints
from gateway.testing.webhook_stores_contract import WebhookStoresContract
from gateway.testing.webhook_targets import fake_dns

START = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
GIVE_UP_AT_ONCE = RetrySchedule(delays=(timedelta(milliseconds=1),), window=timedelta(0))
FAILING = "https://failing.example.com/hooks"


class TestInMemoryWebhookStores(WebhookStoresContract):
    @pytest.fixture
    def stores(self):
        return InMemoryWebhookEndpoints(), InMemoryWebhookDeliveries()


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class ScriptedSender:
    """Answers 500 to FAILING, 204 to every other URL; keeps what it was given to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict]] = []  # url, webhook-id, body

    def send(self, url, msg_id, timestamp, body, secrets) -> Outcome:
        self.sent.append((url, msg_id, json.loads(body)))
        return Outcome(status_code=500 if url == FAILING else 204)

    def notices_to(self, url: str) -> list[dict]:
        return [body for to, _, body in self.sent if to == url and body["type"] == ENDPOINT_DISABLED]


class HeldLease:
    def acquire_or_renew(self) -> bool:
        return True


class EveryDisableWins(InMemoryWebhookEndpoints):
    """As FerretDB may answer two simultaneous compare-and-sets: both believe they disabled the endpoint."""

    def disable(self, endpoint_id, reason, now):
        super().disable(endpoint_id, reason, now)
        return True


@pytest.fixture
def ports():
    return WebhookPorts(InMemoryWebhookEndpoints(), InMemoryWebhookDeliveries(), fake_dns, False, Clock())


def register(ports, url, events, account_id="acc1"):
    return webhook_endpoints.register(RegisterEndpoint(account_id, url, list(events)), ports)[0]


def loop(ports, sender) -> DeliveryLoop:
    return DeliveryLoop(ports, sender, HeldLease(), GIVE_UP_AT_ONCE, DisablePolicy(after_failed_deliveries=1),
                        concurrency=8)


def publish_contact_created(ports, account_id="acc1"):
    ports.clock.now += timedelta(seconds=1)
    WebhookFanOut(ports, privacy_request_kinds=None).handle(EventEnvelope(
        event_type="ContactCreated", aggregate_type="Contact", aggregate_id="c-1", aggregate_version=1,
        account_id=account_id, payload={"contact_id": "c-1", "created_at": "2026-12-03T09:00:00+00:00"},
        occurred_at=ports.clock.now))


def notices_of(ports, endpoint_id):
    return [d for d in ports.deliveries.deliveries.values()
            if d.endpoint_id == endpoint_id and d.event_type == ENDPOINT_DISABLED]


def test_the_other_subscribed_endpoints_get_a_signed_notice_and_the_disabled_one_and_the_others_nothing(ports):
    failing = register(ports, FAILING, ["contact.created", ENDPOINT_DISABLED])
    register(ports, "https://ops.example.com/notices", [ENDPOINT_DISABLED])
    register(ports, "https://all.example.com/hooks", ["*"])
    register(ports, "https://contacts.example.com/hooks", ["contact.created"])
    register(ports, "https://elsewhere.example.com/hooks", ["*"], account_id="acc2")
    sender = ScriptedSender()
    publish_contact_created(ports)
    loop(ports, sender).run_once()  # the failing endpoint's one delivery fails for good: it is disabled
    assert ports.endpoints.get("acc1", failing.id).enabled is False
    loop(ports, sender).run_once()
    [notice] = sender.notices_to("https://ops.example.com/notices")
    assert sender.notices_to("https://all.example.com/hooks") == [notice]
    assert notice["account_id"] == "acc1" and notice["timestamp"] == "2026-12-03T09:00:01Z"
    assert notice["data"] == {"endpoint_id": failing.id, "reason": "1 deliveries in a row failed",
                              "disabled_at": "2026-12-03T09:00:01Z", "failing_since": "2026-12-03T09:00:01Z",
                              "failed_deliveries": 1}
    assert [msg_id for _, msg_id, body in sender.sent if body["type"] == ENDPOINT_DISABLED] == [notice["id"]] * 2
    assert FAILING not in json.dumps(notice)  # named by its id, not its URL
    for url in (FAILING, "https://contacts.example.com/hooks", "https://elsewhere.example.com/hooks"):
        assert sender.notices_to(url) == [], url
    assert notices_of(ports, failing.id) == []  # not even queued (then cancelled) for the disabled one
    assert ports.endpoints.owing_a_notice() == []


@pytest.mark.parametrize("endpoints", [InMemoryWebhookEndpoints, EveryDisableWins])
def test_two_workers_disabling_the_endpoint_at_once_queue_one_notice(endpoints):
    ports = WebhookPorts(endpoints(), InMemoryWebhookDeliveries(), fake_dns, False, Clock())
    failing = register(ports, FAILING, ["*"])
    watcher = register(ports, "https://ops.example.com/notices", [ENDPOINT_DISABLED])
    # both saw the endpoint enabled and failing (each noted a failure) before either disabled it
    seen = ports.endpoints.note_failure(failing.id, START, delivery_failed=True, failing_already=False)
    loop(ports, ScriptedSender()).disable_if_failing(seen, START + timedelta(seconds=1))
    loop(ports, ScriptedSender()).disable_if_failing(seen, START + timedelta(seconds=2))
    assert len(notices_of(ports, watcher.id)) == 1
    assert notices_of(ports, failing.id) == []


def test_a_notice_left_owed_by_a_worker_that_stopped_is_queued_by_the_sweep_once(ports):
    failing = register(ports, FAILING, ["contact.created"])
    watcher = register(ports, "https://ops.example.com/notices", [ENDPOINT_DISABLED])
    ports.endpoints.note_failure(failing.id, START, delivery_failed=True, failing_already=False)
    ports.endpoints.disable(failing.id, "10 deliveries in a row failed", START)  # and the worker stopped here
    assert queue_owed_notices(ports) == 1
    assert ports.endpoints.owing_a_notice() == []
    assert queue_owed_notices(ports) == 0
    [notice] = notices_of(ports, watcher.id)
    assert json.loads(notice.body)["data"]["reason"] == "10 deliveries in a row failed"


def test_the_sweep_queues_nothing_again_for_a_notice_the_loop_queued(ports):
    failing = register(ports, FAILING, ["contact.created"])
    watcher = register(ports, "https://ops.example.com/notices", [ENDPOINT_DISABLED])
    publish_contact_created(ports)
    loop(ports, ScriptedSender()).run_once()
    assert len(notices_of(ports, watcher.id)) == 1 and ports.endpoints.owing_a_notice() == []
    assert queue_owed_notices(ports) == 0 and not ports.endpoints.get("acc1", failing.id).enabled


def test_an_endpoint_not_subscribed_to_the_notice_gets_nothing(ports):
    register(ports, FAILING, ["contact.created"])
    bystander = register(ports, "https://contacts.example.com/hooks", ["contact.created", "invoice.paid"])
    sender = ScriptedSender()
    publish_contact_created(ports)
    loop(ports, sender).run_once()
    loop(ports, sender).run_once()
    assert notices_of(ports, bystander.id) == []
    assert [body["type"] for url, _, body in sender.sent if url != FAILING] == ["contact.created"]


def test_enabled_again_and_disabled_again_is_a_second_notice(ports):
    failing = register(ports, FAILING, ["contact.created"])
    watcher = register(ports, "https://ops.example.com/notices", [ENDPOINT_DISABLED])
    publish_contact_created(ports)
    loop(ports, ScriptedSender()).run_once()
    webhook_endpoints.update("acc1", failing.id, {"enabled": True}, ports)  # the documented way back
    publish_contact_created(ports)
    loop(ports, ScriptedSender()).run_once()
    first, second = sorted(notices_of(ports, watcher.id), key=lambda d: d.created_at)
    assert first.event_id != second.event_id


def test_the_notice_type_can_be_subscribed_to():
    ports = WebhookPorts(InMemoryWebhookEndpoints(), InMemoryWebhookDeliveries(), fake_dns, False, Clock())
    assert register(ports, "https://ops.example.com/notices", [ENDPOINT_DISABLED]).events == [ENDPOINT_DISABLED]


def test_a_notice_id_is_one_per_endpoint_and_enabled_period_whatever_the_datetime_read_back():
    since = datetime(2026, 12, 3, 9, 0, 0, 123456, tzinfo=timezone.utc)
    stored = datetime(2026, 12, 3, 9, 0, 0, 123000)  # as MongoDB gives it back: milliseconds, maybe naive
    assert disabled_notice_id("we_1", since) == disabled_notice_id("we_1", stored)
    assert disabled_notice_id("we_1", since) != disabled_notice_id("we_2", since)
    assert disabled_notice_id("we_1", since) != disabled_notice_id("we_1", since + timedelta(hours=1))


def test_the_declared_fields_are_the_notice_data():
    [declared] = [event for event in GATEWAY_EVENTS if event.type == ENDPOINT_DISABLED]
    body = disabled_notice("evt", account_id="a", endpoint_id="we_1", reason="r", disabled_at=START,
                           failing_since=None, failed_deliveries=0)
    assert tuple(body["data"]) == declared.fields and body["type"] == ENDPOINT_DISABLED


def test_a_notice_that_cannot_be_queued_leaves_the_disabling_done_and_the_notice_owed(ports, monkeypatch):
    """A database error while queuing the notice must not undo what the disabling does (its pending deliveries
    cancelled) nor lose the notice: it stays owed on the endpoint for the sweep."""
    from gateway.service_layer import webhook_delivery

    def unreachable(*_args, **_kwargs):
        raise ConnectionError("database unreachable")

    failing = register(ports, FAILING, ["contact.created"])
    watcher = register(ports, "https://ops.example.com/notices", [ENDPOINT_DISABLED])
    publish_contact_created(ports)  # a delivery pending to the failing endpoint
    seen = ports.endpoints.note_failure(failing.id, START, delivery_failed=True, failing_already=False)
    monkeypatch.setattr(webhook_delivery, "queue_disabled_notice", unreachable)
    loop(ports, ScriptedSender()).disable_if_failing(seen, START + timedelta(seconds=1))
    assert not ports.endpoints.get("acc1", failing.id).enabled
    assert [d.state for d in ports.deliveries.deliveries.values() if d.endpoint_id == failing.id] == ["cancelled"]
    assert [e.id for e in ports.endpoints.owing_a_notice()] == [failing.id]
    assert notices_of(ports, watcher.id) == []
