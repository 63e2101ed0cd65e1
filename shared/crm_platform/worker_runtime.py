"""Runs a service worker's loops (outbox relay, consumers) in threads until SIGTERM/SIGINT.

The worker touches a heartbeat file while every loop is alive, so that an
orchestrator can probe it without an HTTP server (see `crm_platform.heartbeat`).
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

Loop = Callable[[threading.Event], None]


def run_loops(loops: dict[str, Loop], heartbeat_file: str | None = None, heartbeat_every_s: float = 5.0) -> int:
    """Run every loop in its own thread; return an exit code once stopped or if a loop dies."""
    stop = threading.Event()

    def _request_stop(signum, _frame) -> None:
        log.info("stopping worker", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    threads = [threading.Thread(target=loop, args=(stop,), name=name, daemon=True) for name, loop in loops.items()]
    for thread in threads:
        thread.start()
    log.info("worker started", extra={"loops": list(loops)})
    exit_code = 0
    while not stop.wait(heartbeat_every_s if heartbeat_file else 1.0):
        dead = [t.name for t in threads if not t.is_alive()]
        if dead:
            log.error("worker loop ended unexpectedly; stopping", extra={"loops": dead})
            exit_code = 1
            stop.set()
        elif heartbeat_file:
            Path(heartbeat_file).write_text(str(time.time()))
    for thread in threads:
        thread.join(timeout=15)
    log.info("worker stopped")
    return exit_code
