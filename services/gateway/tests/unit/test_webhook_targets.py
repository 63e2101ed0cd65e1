"""SSRF: webhooks go to public addresses only, checked at registration and again when connecting (DNS rebinding),
unless the operator allows private targets."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway.adapters.webhook_sender import WebhookSender, resolve
from gateway.domain.webhook_endpoints import url_problem
from gateway.domain.webhook_targets import ForbiddenTarget, allowed_addresses, forbidden_kind

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"), ("240.0.0.1", "private"), ("100.64.0.1", "non-global"), ("192.0.2.1", "private"),
])
def test_addresses_that_are_not_public_are_named(address, kind):
    assert forbidden_kind(address) == kind


def test_public_addresses_are_allowed():
    assert forbidden_kind(PUBLIC) is None and forbidden_kind("2606:4700:4700::1111") is None
    assert allowed_addresses([PUBLIC], allow_private=False) == [PUBLIC]


def test_a_host_with_one_private_address_among_public_ones_is_refused():
    with pytest.raises(ForbiddenTarget, match="private"):
        allowed_addresses([PUBLIC, "10.0.0.5"], allow_private=False)


def test_a_host_that_does_not_resolve_is_refused_even_when_private_targets_are_allowed():
    with pytest.raises(ForbiddenTarget, match="does not resolve"):
        allowed_addresses([], allow_private=True)


def test_the_operator_may_allow_private_targets():
    assert allowed_addresses(["127.0.0.1"], allow_private=True) == ["127.0.0.1"]


def test_localhost_resolves_to_loopback_and_is_refused():
    with pytest.raises(ForbiddenTarget, match="loopback"):
        allowed_addresses(resolve("localhost", 80), allow_private=False)


@pytest.mark.parametrize("url, problem", [
    ("ftp://example.com/hook", "http or https"), ("file:///etc/passwd", "http or https"),
    ("https://user:pw@example.com/hook", "credentials"), ("https://token@example.com/", "credentials"),
    ("https:///nohost", "host"), ("https://example.com/" + "a" * 2048, "2048"),
    ("https://example.com/a b", "spaces"), ("https://example.com:99999/", "valid"), ("example.com", "http or https"),
])
def test_urls_that_are_not_webhook_targets(url, problem):
    assert problem in url_problem(url)


def test_a_plain_https_url_is_fine():
    assert url_problem("https://hooks.example.com/crm?x=1") is None


class Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self):
        Counting.hits += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_a_name_that_resolves_to_loopback_at_delivery_time_is_not_connected_to(local_receiver):
    """DNS rebinding: the name resolved to a public address when registered; now it resolves to 127.0.0.1."""
    Counting.hits = 0
    sender = WebhookSender(timeout_s=2, resolver=lambda host, port: ["127.0.0.1"])
    outcome = sender.send(f"http://rebind.example:{local_receiver}/hook", "msg", _now(), "{}", ["whsec_AAAA"])
    assert outcome.status_code is None and "loopback" in outcome.error
    assert Counting.hits == 0


def test_the_connection_goes_to_the_address_checked_with_the_url_host_name(local_receiver):
    Counting.hits = 0
    sender = WebhookSender(timeout_s=2, allow_private=True, resolver=lambda host, port: ["127.0.0.1"])
    outcome = sender.send(f"http://receiver.invalid:{local_receiver}/hook", "msg", _now(), "{}", ["whsec_AAAA"])
    assert outcome.status_code == 204 and Counting.hits == 1


def test_redirects_are_not_followed(local_receiver):
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{local_receiver}/")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        Counting.hits = 0
        sender = WebhookSender(timeout_s=2, allow_private=True)
        outcome = sender.send(f"http://127.0.0.1:{server.server_address[1]}/", "msg", _now(), "{}", ["whsec_AAAA"])
        assert outcome.status_code == 307 and not outcome.delivered and Counting.hits == 0
    finally:
        server.shutdown()


def _now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)
