"""The contract the webhook endpoints and deliveries stores keep where the disabling notice relies on them; run
against the fakes AND the MongoDB adapters.

Subclass `WebhookStoresContract` and provide a `stores` fixture: (endpoints, deliveries), empty.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gateway.adapters.webhook_endpoints import Endpoint
from gateway.domain.webhook_endpoints import SigningSecret

# MongoDB keeps milliseconds: a whole millisecond reads back equal.
NOW = datetime(2026, 12, 3, 9, 30, 0, 123000, tzinfo=timezone.utc)


def endpoint(endpoint_id: str, account_id: str = "acc1", events: tuple[str, ...] = ("*",)) -> Endpoint:
    return Endpoint(id=endpoint_id, account_id=account_id, url=f"https://hooks.example.com/{endpoint_id}",
                    events=list(events), description="", enabled=True, created_at=NOW, updated_at=NOW,
                    secrets=[SigningSecret("whsec_c2VjcmV0")])


class WebhookStoresContract:
    def test_a_registered_endpoint_is_enabled_since_it_was_made_and_owes_no_notice(self, stores):
        endpoints, _ = stores
        endpoints.add(endpoint("we_1"))
        found = endpoints.get("acc1", "we_1")
        assert found.enabled_since == NOW and found.disabled_notice_pending is False
        assert endpoints.owing_a_notice() == []

    def test_an_endpoint_is_disabled_once_and_its_disabling_owes_a_notice(self, stores):
        endpoints, _ = stores
        endpoints.add(endpoint("we_1"))
        endpoints.add(endpoint("we_2"))
        assert endpoints.disable("we_1", "10 deliveries in a row failed", NOW) is True
        assert endpoints.disable("we_1", "10 deliveries in a row failed", NOW + timedelta(seconds=1)) is False
        assert endpoints.disable("we_gone", "x", NOW) is False
        [owing] = endpoints.owing_a_notice()
        assert (owing.id, owing.enabled, owing.disabled_at, owing.disabled_reason) == (
            "we_1", False, NOW, "10 deliveries in a row failed")
        assert [e.id for e in endpoints.enabled_of_account("acc1")] == ["we_2"]

    def test_the_notice_is_no_longer_owed_once_queued_for_that_disabling_only(self, stores):
        endpoints, _ = stores
        endpoints.add(endpoint("we_1"))
        endpoints.disable("we_1", "x", NOW)
        endpoints.notice_queued("we_1", NOW - timedelta(days=1))  # an earlier disabling's: this one is still owed
        assert [e.id for e in endpoints.owing_a_notice()] == ["we_1"]
        endpoints.notice_queued("we_1", NOW)
        assert endpoints.owing_a_notice() == [] and endpoints.get("acc1", "we_1").disabled_notice_pending is False

    def test_enabling_again_starts_a_new_period_and_forgets_an_owed_notice(self, stores):
        endpoints, _ = stores
        endpoints.add(endpoint("we_1"))
        endpoints.disable("we_1", "x", NOW)
        later = NOW + timedelta(hours=1)
        endpoints.update("acc1", "we_1", {"enabled": True, "enabled_since": later, "disabled_notice_pending": False})
        again = endpoints.get("acc1", "we_1")
        assert again.enabled and again.enabled_since == later and endpoints.owing_a_notice() == []

    def test_a_delivery_is_inserted_once_per_id(self, stores):
        _, deliveries = stores
        made = dict(account_id="acc1", endpoint_id="we_2", event_id="evt", event_type="webhook_endpoint.disabled",
                    now=NOW)
        assert deliveries.add("evt:we_2", body="{}", **made) is True
        assert deliveries.add("evt:we_2", body='{"other":1}', **made) is False
        [due] = deliveries.due(NOW, 10)
        assert (due.id, due.body, due.state) == ("evt:we_2", "{}", "pending")
