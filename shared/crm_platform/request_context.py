"""Request, correlation and actor ids of the work in progress, for logs and events.

Held in contextvars so that HTTP requests, consumer loops and threads each see
their own values.
"""
from __future__ import annotations

import contextlib
import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class TraceContext:
    request_id: str
    correlation_id: str
    causation_id: str | None = None
    actor: str | None = None


_current: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar("trace", default=None)


def new_id() -> str:
    """A new random identifier (UUID4, canonical text form)."""
    return str(uuid.uuid4())


def current() -> TraceContext:
    """The trace of the work in progress, or a fresh one outside any request."""
    trace = _current.get()
    if trace is None:
        rid = new_id()
        trace = TraceContext(request_id=rid, correlation_id=rid)
    return trace


def bind(trace: TraceContext) -> contextvars.Token:
    """Make `trace` current; return the token that `reset` takes."""
    return _current.set(trace)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def tracing(trace: TraceContext):
    """Run a block with `trace` as the current trace."""
    token = bind(trace)
    try:
        yield trace
    finally:
        reset(token)
