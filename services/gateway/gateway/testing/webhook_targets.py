"""Webhook targets for tests: a public-looking endpoint URL, and a resolver standing in for DNS."""
from __future__ import annotations

import ipaddress

PUBLIC = "93.184.216.34"
HOOK = "https://hooks.example.com/crm"


def fake_dns(host: str, port: int) -> list[str]:
    """An address literal is itself (as getaddrinfo answers); a few names are private; the rest public."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return {"localhost": ["127.0.0.1"], "metadata.internal": ["169.254.169.254"]}.get(host, [PUBLIC])
