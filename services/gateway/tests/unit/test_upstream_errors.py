"""The upstream client tells a request that was never sent from one that was sent and got no answer."""
import socket
import threading
import time

import pytest
import requests

from crm_platform.errors import DependencyUnavailable
from devinfra.ports import free_port

from gateway.adapters import upstream
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


def accepting(listener: socket.socket, handle) -> list:
    """Accept connections on `listener` on a thread until it is closed, each handed to `handle`; the list of those
    accepted (filled as they come)."""
    accepted = []

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)
            handle(connection)

    threading.Thread(target=accept, daemon=True).start()
    return accepted


@pytest.fixture
def silent_service():
    """A service that reads the request and never answers; yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = accepting(listener, lambda connection: connection.recv(65536))
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_request_sent_without_an_answer_in_time_is_a_gateway_timeout(silent_service):
    url, _ = silent_service
    with pytest.raises(UpstreamTimeout) as raised:
        UpstreamClient("t" * 32, 0.2).call("contacts", "POST", f"{url}/v1/contacts", {}, data=b"{}")
    assert not isinstance(raised.value, UpstreamNotReached) and raised.value.status == 504


def test_a_read_without_an_answer_in_time_is_sent_once(silent_service):
    url, accepted = silent_service
    with pytest.raises(UpstreamTimeout):
        UpstreamClient("t" * 32, 0.2).call("contacts", "GET", f"{url}/v1/contacts/c1", {})
    time.sleep(0.1)
    assert len(accepted) == 1


def test_a_connection_dropped_after_the_request_was_sent_may_have_run(monkeypatch):
    def dropped(*args, **kwargs):
        raise requests.ConnectionError("Connection aborted.")

    monkeypatch.setattr(requests.Session, "request", dropped)
    with pytest.raises(DependencyUnavailable) as raised:
        UpstreamClient("t" * 32, 1.0).call("contacts", "POST", "http://contacts-api:8101/v1/contacts", {})
    assert not isinstance(raised.value, UpstreamNotReached)


@pytest.fixture
def closing_once_service():
    """A service whose first connection is closed with no answer once the request is read (a keep-alive connection
    its server dropped), then answers 200 on the next; yields its URL and the requests it read."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen = []

    def serve():
        for turn in range(2):
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            seen.append(connection.recv(65536))
            if turn:
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    listener.close()


def test_a_read_that_meets_a_connection_closed_by_the_service_is_sent_once_more(closing_once_service):
    """The CI of 2026-12-03 saw a 360 read answer 503 "the contacts service closed the connection": a read is
    safe to send again, so one such drop no longer fails it."""
    url, seen = closing_once_service
    answer = UpstreamClient("t" * 32, 2.0).call("contacts", "GET", f"{url}/v1/contacts/c1", {})
    assert answer.status_code == 200 and len(seen) == 2


def test_a_write_that_meets_a_connection_closed_by_the_service_is_not_sent_again(closing_once_service):
    url, seen = closing_once_service
    with pytest.raises(DependencyUnavailable) as raised:
        UpstreamClient("t" * 32, 2.0).call("contacts", "POST", f"{url}/v1/contacts", {}, data=b"{}")
    assert not isinstance(raised.value, UpstreamNotReached) and len(seen) == 1


def test_a_read_dropped_after_a_while_is_not_sent_again(monkeypatch):
    """A drop long after the request went out is the service failing (a worker killed), not a stale connection:
    sending the read again would let one call take twice its time limit."""
    sent = []

    def dropped_late(*args, **kwargs):
        sent.append(args)
        time.sleep(0.6)
        raise requests.ConnectionError("Connection aborted.")

    monkeypatch.setattr(requests.Session, "request", dropped_late)
    with pytest.raises(DependencyUnavailable):
        UpstreamClient("t" * 32, 2.0).call("contacts", "GET", "http://contacts-api:8101/v1/contacts/c1", {})
    assert len(sent) == 1


@pytest.fixture
def keep_alive_service():
    """A keep-alive service that closes, unanswered, a connection whose next request comes after it was idle
    CLOSES_IDLE_AFTER_S (gunicorn closing it just as the request arrives); yields its URL and the connections it
    accepted."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve(connection):
        last = None
        while True:
            try:
                request = whole_request(connection)
                if not request or (last is not None and time.monotonic() - last >= CLOSES_IDLE_AFTER_S):
                    connection.close()
                    return
                connection.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
            except OSError:  # closed by the fixture's teardown
                return
            last = time.monotonic()

    accepted = accepting(listener, lambda connection: threading.Thread(target=serve, args=(connection,),
                                                                       daemon=True).start())
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    for connection in accepted:
        connection.close()
    listener.close()


CLOSES_IDLE_AFTER_S = upstream.REUSE_FOR_A_WRITE_WITHIN_S + 0.2


def whole_request(connection: socket.socket) -> bytes:
    """One request read whole, its body by its Content-Length (b"" once the client closed): urllib3 sends the
    headers and the body in two writes, and a body read alone as a request of its own was answered, leaving an
    answer nobody asked for on the connection, which the client then dropped (1 run in 4 of a write in a row)."""
    received = b""
    while b"\r\n\r\n" not in received:
        if not (chunk := connection.recv(65536)):
            return b""
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        if not (chunk := connection.recv(65536)):
            return b""
        body += chunk
    return received


def test_a_write_after_a_pause_goes_on_a_new_connection_not_on_one_the_service_may_be_closing(keep_alive_service):
    """The privacy benchmark's seeding (2026-12-04) got a 503 "the contacts service closed the connection" for a
    note's POST: sent on a pooled connection just as gunicorn closed it after its keep-alive."""
    url, accepted = keep_alive_service
    client = UpstreamClient("t" * 32, 2.0)
    assert client.call("contacts", "POST", f"{url}/v1/contacts/c1/notes", {}, data=b"{}").status_code == 201
    time.sleep(CLOSES_IDLE_AFTER_S + 0.1)
    assert client.call("contacts", "POST", f"{url}/v1/contacts/c1/notes", {}, data=b"{}").status_code == 201
    assert len(accepted) == 2


def test_writes_in_a_row_share_one_connection(keep_alive_service):
    url, accepted = keep_alive_service
    client = UpstreamClient("t" * 32, 2.0)
    for _ in range(3):
        assert client.call("contacts", "POST", f"{url}/v1/contacts/c1/notes", {}, data=b"{}").status_code == 201
    assert len(accepted) == 1


def test_the_services_keep_an_idle_connection_longer_than_the_gateway_reuses_one_for_a_write():
    from crm_platform.gunicorn_config import settings_for

    for service in ("contacts", "billing", "workflows", "privacy"):
        assert settings_for(service)["keepalive"] >= 2 * upstream.REUSE_FOR_A_WRITE_WITHIN_S


def test_a_proxy_of_the_environment_is_never_used_to_reach_a_service(keep_alive_service, monkeypatch):
    """An HTTP_PROXY set for the host, with no NO_PROXY naming the services, would send every call through it."""
    url, accepted = keep_alive_service
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert UpstreamClient("t" * 32, 2.0).call("contacts", "POST", f"{url}/v1/contacts", {}, data=b"{}").status_code == 201
    assert len(accepted) == 1
