"""Waiting in a test for what a worker or a loop does in the background."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, timeout_s: float = 30.0) -> T:
    """The first truthy answer of `check`, asked every 0.2 s; AssertionError naming `what` after `timeout_s`."""
    until = time.monotonic() + timeout_s
    while time.monotonic() < until:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"not in time: {what}")
