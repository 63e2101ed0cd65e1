"""Which addresses a webhook may be sent to: public ones only (no SSRF into the operator's network).

A URL's host is resolved when the endpoint is registered (to refuse it early, with a clear 422) AND again on
every delivery, right before connecting, to the address then connected to: a name that resolved to a public
address at registration may resolve to 127.0.0.1 later (DNS rebinding). WEBHOOK_ALLOW_PRIVATE_TARGETS lets an
operator send to private addresses (dev and test machines, whose receivers are local).
"""
from __future__ import annotations

import ipaddress


class ForbiddenTarget(Exception):
    """The URL's host resolves to an address webhooks are not sent to (or to none); the message says which kind,
    never the address."""


def forbidden_kind(address: str) -> str | None:
    """Why an IP address is not a public one (loopback, private...), or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope (fe80::1%eth0) is link-local anyway
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, matches in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                          ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                          ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if matches:
            return kind
    if not ip.is_global:  # shared address space (100.64.0.0/10), documentation ranges...
        return "non-global"
    return None


def allowed_addresses(addresses: list[str], allow_private: bool) -> list[str]:
    """The addresses a host resolved to, all of them allowed; ForbiddenTarget if none, or if any is not allowed
    (a name with one private address among public ones is refused: which one a client picks is not ours to say)."""
    if not addresses:
        raise ForbiddenTarget("the host does not resolve to any address")
    if not allow_private:
        kinds = sorted({kind for kind in map(forbidden_kind, addresses) if kind})
        if kinds:
            raise ForbiddenTarget(f"the host resolves to a {', '.join(kinds)} address; webhooks go to public "
                                  "addresses only")
    return addresses
