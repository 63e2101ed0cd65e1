"""The cluster id given to Kafka's storage tool is never read as an option."""
from unittest import mock

from devinfra import kafka


def test_a_cluster_id_never_starts_with_a_dash():
    drawn = iter([b"\xfb" + bytes(15), bytes(16)])  # the first encodes to "-w...", the second to "AAAA..."
    with mock.patch.object(kafka.os, "urandom", lambda n: next(drawn)):
        assert kafka.new_cluster_id() == "A" * 22
    assert all(not kafka.new_cluster_id().startswith("-") for _ in range(500))
