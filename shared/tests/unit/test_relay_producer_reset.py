"""Dropping the relay's producer after a failure drops the records it has not delivered too."""
from datetime import timedelta
from types import SimpleNamespace

from kafka.errors import KafkaTimeoutError

from crm_platform.outbox_relay import OutboxRelay


class Sender:
    """kafka-python's sender thread, as far as closing goes: it keeps retrying its records until force-closed."""

    def __init__(self) -> None:
        self.force_closed = False

    def force_close(self) -> None:
        self.force_closed = True


class UnreachableBrokerProducer:
    """A producer holding records the broker (down) never acknowledged: like kafka-python's, close() flushes first
    and raises while they are pending, before it would force-close its sender."""

    def __init__(self) -> None:
        self._sender = Sender()

    def close(self, timeout=None) -> None:
        if not self._sender.force_closed:  # a force-closed sender fails its records: nothing left pending
            raise KafkaTimeoutError("Timeout waiting for future")


def test_a_producer_whose_close_times_out_has_its_sender_force_closed_so_it_never_delivers_its_records_later():
    producer = UnreachableBrokerProducer()
    relay = OutboxRelay(SimpleNamespace(), "things", producer_factory=lambda: producer,
                        lease=SimpleNamespace(ttl=timedelta(seconds=5)))
    relay._ensure_producer()
    relay.reset_producer()
    assert producer._sender.force_closed, "the old producer would deliver what the relay sends again"
    assert relay._producer is None
