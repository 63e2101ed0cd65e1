"""The worker's mail loop in a thread of a test (integration tests of a service that mails)."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def mail_loop_running(container, on_outcome: Callable) -> Iterator[None]:
    """`container.mail_loop(on_outcome)`, as the service's worker runs it, until the block ends."""
    stop = threading.Event()
    thread = threading.Thread(target=container.mail_loop(on_outcome), args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=20)
