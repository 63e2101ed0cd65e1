"""Whether a worker's loop still makes progress, and how long work inside a loop says that it does.

Every loop of a worker (relay, consumers, job runner, sweeps) looks at its `stop`
event at least once per unit of work (an event, a batch, a job item) and waits
on it when it has nothing to do. `run_loops` gives each loop a LoopStop, which
notes when the loop last looked: a loop that has neither looked nor waited for
a while is stuck (a handler blocked on a lock, a poll wedged in the client),
and the worker withholds its heartbeat (see worker_runtime).

Work that is long for good reasons (a clean-up over 100,000 contacts) calls
`still_working()` as it goes. That counts as looking, and whoever runs the work
may add its own callback with `reporting_to`: a consumer uses it to stay in its
group past Kafka's `max_poll_interval_ms` (see event_consumer).
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable, Iterator

# Above the longest a unit of work may go without a word: one statement up to MONGO_SOCKET_TIMEOUT_MS (60 s).
DEFAULT_STUCK_AFTER_S = 120.0

_local = threading.local()


def still_working() -> None:
    """Say, from inside a unit of work, that it makes progress (cheap: call it for every item done)."""
    for callback in getattr(_local, "callbacks", ()):
        callback()


@contextlib.contextmanager
def reporting_to(callback: Callable[[], None]) -> Iterator[None]:
    """Within the block, `still_working()` in this thread calls `callback` too."""
    if not hasattr(_local, "callbacks"):
        _local.callbacks = []
    _local.callbacks.append(callback)
    try:
        yield
    finally:
        _local.callbacks.pop()


class LoopStop:
    """The worker's stop event as one loop sees it, noting when the loop last looked at it and whether it waits."""

    def __init__(self, stop: threading.Event, clock: Callable[[], float] = time.monotonic) -> None:
        self._stop = stop
        self._clock = clock
        self._last_seen = clock()
        self._waiting = 0

    def is_set(self) -> bool:
        self.seen()
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait as on the event; a loop waiting here is idle, not stuck."""
        self._waiting += 1
        try:
            return self._stop.wait(timeout)
        finally:
            self._waiting -= 1
            self.seen()

    def set(self) -> None:
        self._stop.set()

    def seen(self) -> None:
        """The loop shows progress (it looked at the event, or its work called still_working)."""
        self._last_seen = self._clock()

    def stuck_for(self) -> float:
        """Seconds since the loop last showed progress; 0 while it waits on the event."""
        return 0.0 if self._waiting else max(0.0, self._clock() - self._last_seen)
