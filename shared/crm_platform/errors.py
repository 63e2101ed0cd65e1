"""Typed errors shared by every service; stdlib only so domains may import them.

Each error carries the HTTP status and problem title the app shell renders, so
views never translate errors by hand.
"""
from __future__ import annotations


class CrmError(Exception):
    """Base of every error the platform knows how to show to a client."""

    status = 500
    title = "Internal error"
    slug = "internal-error"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(CrmError):
    """The request is well-formed but breaks a rule; `errors` maps field -> messages."""

    status = 422
    title = "Invalid input"
    slug = "invalid-input"

    def __init__(self, detail: str, errors: dict | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or {}


class NotFound(CrmError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(CrmError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class StaleRevision(Conflict):
    """The change was based on a revision that is no longer the current one."""

    title = "Stale revision"
    slug = "stale-revision"


class PayloadTooLarge(CrmError):
    """A body or file is larger than accepted; the detail and `max_bytes` state the limit."""

    status = 413
    title = "Payload too large"
    slug = "payload-too-large"

    def __init__(self, what: str, max_bytes: int, size: int | None = None) -> None:
        given = "" if size is None else f" ({size} bytes)"
        super().__init__(f"{what}{given} is larger than the {max_bytes} bytes ({max_bytes / 2**20:.3g} MiB) accepted",
                         max_bytes=max_bytes)


class UnsupportedMediaType(CrmError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class Unauthorized(CrmError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class Forbidden(CrmError):
    """The caller is known but may not do this (e.g. its API key lacks the scope); `extra` names what is needed."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


class DependencyUnavailable(CrmError):
    """A database, broker or upstream service did not answer; the client may retry."""

    status = 503
    title = "Service unavailable"
    slug = "dependency-unavailable"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ConfigurationError(Exception):
    """Settings from the environment are missing or invalid; raised at start-up."""
