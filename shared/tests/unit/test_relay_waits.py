"""How long the relay's loop waits: an idle one looks less and less often, a standby asks for the lease a few times a
second, an outage is backed off."""
from datetime import timedelta
from types import SimpleNamespace

from crm_platform.outbox_relay import LeaseLost, OutboxRelay


class CountedStop:
    """The loop's stop event: notes each wait, and is set after `waits` of them."""

    def __init__(self, waits: int) -> None:
        self.waited: list[float] = []
        self._waits = waits

    def is_set(self) -> bool:
        return len(self.waited) >= self._waits

    def wait(self, timeout: float) -> bool:
        self.waited.append(timeout)
        return self.is_set()


class Lease:
    """Held by another relay at first; then the database is down for good."""

    ttl = timedelta(seconds=5)  # a standby asks every 0.5 s

    def __init__(self) -> None:
        self.asked = 0

    def acquire_or_renew(self) -> bool:
        self.asked += 1
        if self.asked == 1:
            return False
        raise ConnectionError("the database is down")

    def release(self) -> None:
        pass


def test_a_standby_relay_backs_off_a_database_outage_like_any_other_failure():
    relay = OutboxRelay(SimpleNamespace(), "things", producer_factory=None, lease=Lease())
    stop = CountedStop(waits=6)
    relay.run(stop)
    assert stop.waited == [0.5, 0.5, 1.0, 2.0, 4.0, 5.0]


def test_a_relay_that_lost_its_lease_during_a_batch_waits_as_a_standby():
    class LosingRelay(OutboxRelay):
        def publish_pending(self) -> int:
            raise LeaseLost("another relay took the lease over")

    relay = LosingRelay(SimpleNamespace(), "things", producer_factory=None, lease=Lease())
    stop = CountedStop(waits=2)
    relay.run(stop)
    assert stop.waited == [0.5, 0.5], "not back at the lease every 20 ms"


def test_an_idle_relay_looks_less_often_until_it_has_something_to_send():
    class QuietThenBusyRelay(OutboxRelay):
        sends = iter([0] * 10 + [5, 0, 0])

        def publish_pending(self) -> int:
            return next(self.sends)

    relay = QuietThenBusyRelay(SimpleNamespace(), "things", producer_factory=None, lease=Lease())
    relay.mark_published = lambda: None
    stop = CountedStop(waits=12)
    relay.run(stop, idle_interval_s=0.02, idle_max_s=0.1)
    quiet, after_sending = stop.waited[:10], stop.waited[10:]
    assert quiet[0] == 0.02 and quiet == sorted(quiet) and quiet[-2:] == [0.1, 0.1]
    assert after_sending == [0.02, 0.025], "back to looking often once it had something to send"
