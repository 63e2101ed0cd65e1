"""The retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h...) with jitter, for up to 3 days; and when an endpoint
that keeps failing is disabled."""
from datetime import datetime, timedelta, timezone

from gateway.domain.webhook_deliveries import DisablePolicy, Outcome, RetrySchedule, delivery_id, fair_share

START = datetime(2026, 12, 1, tzinfo=timezone.utc)


def schedule(fraction=0.5):
    return RetrySchedule(random_fraction=lambda: fraction)


def test_delays_grow_then_repeat_every_10_hours():
    expected = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)]
    for failed, delay in enumerate(expected, start=1):
        assert schedule().next_attempt(failed, START, START) == START + delay  # fraction 0.5: no jitter


def test_jitter_moves_a_retry_by_at_most_a_tenth_of_its_delay():
    early = schedule(0.0).next_attempt(2, START, START)
    late = schedule(0.999999).next_attempt(2, START, START)
    assert early == START + timedelta(minutes=4, seconds=30)
    assert START + timedelta(minutes=5) < late <= START + timedelta(minutes=5, seconds=30)


def test_attempts_stop_three_days_after_the_first():
    now, failed = START, 0
    while (at := schedule().next_attempt(failed + 1, START, now)) is not None:
        now, failed = at, failed + 1
    assert now <= START + timedelta(days=3) < now + timedelta(hours=10)
    assert failed == 11  # 17 h 35 min for the first six, then 10 h each


def test_only_2xx_is_delivered():
    assert Outcome(status_code=204).delivered and Outcome(status_code=200).delivered
    assert not Outcome(status_code=301).delivered and not Outcome(status_code=500).delivered
    assert not Outcome(error="no answer within 10 s").delivered


def test_an_endpoint_failing_for_five_days_or_n_deliveries_in_a_row_is_disabled():
    policy = DisablePolicy(after=timedelta(days=5), after_failed_deliveries=3)
    assert policy.reason(None, 0, START) is None
    assert policy.reason(START, 2, START + timedelta(days=4, hours=23)) is None
    assert "5 days" in policy.reason(START, 0, START + timedelta(days=5))
    assert "3 deliveries" in policy.reason(None, 3, START)


def test_a_delivery_id_is_the_event_and_the_endpoint():
    assert delivery_id("evt1", "we_1") == delivery_id("evt1", "we_1") != delivery_id("evt1", "we_2")


def test_a_round_takes_at_most_n_deliveries_of_one_endpoint_in_their_order():
    from types import SimpleNamespace

    due = [SimpleNamespace(endpoint_id=e, n=i) for i, e in enumerate(["slow"] * 5 + ["a", "slow", "b", "a", "a"])]
    taken = fair_share(due, limit=4, per_endpoint=2)
    assert [(d.endpoint_id, d.n) for d in taken] == [("slow", 0), ("slow", 1), ("a", 5), ("b", 7)]
    assert len(fair_share(due, limit=10, per_endpoint=2)) == 5


def test_the_operator_setting_gives_the_delays_and_bad_ones_are_named_at_start_up():
    import pytest

    from crm_platform.errors import ConfigurationError
    from gateway import config
    base = {"MONGO_URI": "mongodb://db", "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "INTERNAL_TOKEN": "t" * 32}
    urls = {s.url_variable: "http://x:1" for s in config.REGISTRY.upstreams}
    assert config.webhook_retry_delays(config.load({**base, **urls})) == RetrySchedule().delays
    assert config.webhook_retry_delays(config.load({**base, **urls, "WEBHOOK_RETRY_DELAYS_S": "0.2,1"})) == (
        timedelta(seconds=0.2), timedelta(seconds=1))
    with pytest.raises(ConfigurationError, match="WEBHOOK_RETRY_DELAYS_S"):
        config.load({**base, **urls, "WEBHOOK_RETRY_DELAYS_S": "5,,x"})
