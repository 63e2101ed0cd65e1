"""Test support for rate limits counted in windows of the minute: start a burst early enough in a minute."""
from __future__ import annotations

import time

from gateway.domain.rate_limits import MINUTE_S


def with_a_minute_ahead(needed_s: float = 10.0) -> None:
    """Wait, if need be, for the next minute, so that `needed_s` of requests fall in one minute's window."""
    left = MINUTE_S - time.time() % MINUTE_S
    if left < needed_s:
        time.sleep(left + 0.05)
