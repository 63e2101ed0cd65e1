"""The upstream client tells a request that was never sent from one that was sent and got no answer."""
import socket
import threading

import pytest
import requests

from crm_platform.errors import DependencyUnavailable
from devinfra.ports import free_port

from gateway.adapters.upstream import UpstreamClient, UpstreamNotReached, UpstreamTimeout


def test_a_refused_connection_is_not_reached():
    with pytest.raises(UpstreamNotReached):
        UpstreamClient("t" * 32, 1.0).call("contacts", "POST", f"http://127.0.0.1:{free_port()}/v1/contacts", {})


def test_a_connect_timeout_is_not_reached_not_a_gateway_timeout(monkeypatch):
    def no_connection(*args, **kwargs):
        raise requests.ConnectTimeout("connect timed out")

    monkeypatch.setattr(requests.Session, "request", no_connection)
    with pytest.raises(UpstreamNotReached):
        UpstreamClient("t" * 32, 1.0).call("contacts", "POST", "http://contacts-api:8101/v1/contacts", {})


@pytest.fixture
def silent_service():
    """A service that reads the request and never answers; yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        connection, _ = listener.accept()
        accepted.append(connection)
        connection.recv(65536)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_request_sent_without_an_answer_in_time_is_a_gateway_timeout(silent_service):
    with pytest.raises(UpstreamTimeout) as raised:
        UpstreamClient("t" * 32, 0.2).call("contacts", "POST", f"{silent_service}/v1/contacts", {}, data=b"{}")
    assert not isinstance(raised.value, UpstreamNotReached) and raised.value.status == 504


def test_a_connection_dropped_after_the_request_was_sent_may_have_run(monkeypatch):
    def dropped(*args, **kwargs):
        raise requests.ConnectionError("Connection aborted.")

    monkeypatch.setattr(requests.Session, "request", dropped)
    with pytest.raises(DependencyUnavailable) as raised:
        UpstreamClient("t" * 32, 1.0).call("contacts", "POST", "http://contacts-api:8101/v1/contacts", {})
    assert not isinstance(raised.value, UpstreamNotReached)
