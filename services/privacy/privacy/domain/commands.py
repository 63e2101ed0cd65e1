"""Commands to the privacy service (imperative): what a caller or a sweep asks for."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReceivePrivacyRequest:
    account_id: str
    type: str  # access, portability or erasure
    contact_id: str
    requester: str
    reason: str


@dataclass(frozen=True)
class TimeOutRequest:
    """Complete a request still waiting for replies past the timeout, as partially completed."""

    account_id: str
    request_id: str


@dataclass(frozen=True)
class ExpireExport:
    """Make a request's export unreadable (its key shredded) and free its space."""

    account_id: str
    request_id: str
