"""Runs a service worker's loops (outbox relay, consumers, jobs) in threads until SIGTERM/SIGINT.

The worker touches a heartbeat file while every loop is alive and makes
progress, so that an orchestrator can probe it without an HTTP server (see
`crm_platform.heartbeat`). Progress is what `crm_platform.liveness` sees: a loop
looks at its stop event once per unit of work and waits on it when idle, and
long work says `still_working()`. A loop that does none of these for
`stuck_after_s` (a handler blocked on a lock, a poll wedged in the client) is
stuck: the heartbeat is withheld until it moves again, so the probes restart a
worker that would otherwise look alive forever. A loop that ends stops the worker.

With METRICS_PORT set, the worker serves its metrics (crm_platform.metrics: relay, consumers, jobs)
over HTTP on that port for Prometheus to scrape, next to the heartbeat.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Callable

from crm_platform.liveness import DEFAULT_STUCK_AFTER_S, LoopStop, reporting_to
from crm_platform.metrics import serve_worker_metrics

log = logging.getLogger(__name__)

Loop = Callable[[threading.Event], None]  # given a LoopStop, which behaves as the worker's stop event


class WorkerLoops:
    """A worker's loops, each in its own thread with its own view of the stop event."""

    def __init__(self, loops: dict[str, Loop], stop: threading.Event) -> None:
        self._stops = {name: LoopStop(stop) for name in loops}
        self._threads = [threading.Thread(target=_reporting(loop, self._stops[name]), name=name, daemon=True)
                         for name, loop in loops.items()]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        log.info("worker started", extra={"loops": [t.name for t in self._threads]})

    def dead(self) -> list[str]:
        return [t.name for t in self._threads if not t.is_alive()]

    def stuck(self, after_s: float) -> dict[str, float]:
        """The loops without progress for longer than `after_s`, with for how long (seconds)."""
        return {name: round(s, 1) for name, stop in self._stops.items() if (s := stop.stuck_for()) > after_s}

    def join(self, timeout_s: float) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout_s)


def every(every_s: float, work: Callable[[], int], what: str) -> Loop:
    """A loop doing `work` at start and then every `every_s` until stopped (a sweep). It outlives any failure,
    an outage above all (the next round tries again), and logs how many items a round handled, if any."""

    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                count = work()
                if count:
                    log.info("%s: done", what, extra={"count": count})
            except Exception:  # the loop must survive a database outage: the next round tries again
                log.exception("%s: failed; the next round tries again", what)
            stop.wait(every_s)

    return run


def _reporting(loop: Loop, stop: LoopStop) -> Callable[[], None]:
    def run() -> None:
        with reporting_to(stop.seen):  # still_working() in this thread is progress of this loop
            loop(stop)

    return run


def supervise(loops: WorkerLoops, stop: threading.Event, heartbeat_file: str | None, every_s: float,
              stuck_after_s: float) -> int:
    """Check the loops every `every_s` until `stop`: beat while all make progress; 1 once a loop has ended."""
    stuck_before: set[str] = set()
    while not stop.wait(every_s):
        if dead := loops.dead():
            log.error("worker loop ended unexpectedly; stopping", extra={"loops": dead})
            stop.set()
            return 1
        stuck = loops.stuck(stuck_after_s)
        if set(stuck) != stuck_before:  # logged when it changes, not at every beat
            if stuck:
                log.error("worker loop makes no progress; heartbeat withheld", extra={"stuck_s": stuck})
            else:
                log.warning("worker loops make progress again", extra={"loops": sorted(stuck_before)})
            stuck_before = set(stuck)
        if heartbeat_file and not stuck:
            _beat(Path(heartbeat_file))
    return 0


def _beat(path: Path) -> None:
    """Write the time atomically: a probe reading a half-written file would take the worker for dead."""
    fresh = path.with_name(f".{path.name}.new")
    fresh.write_text(str(time.time()))
    fresh.replace(path)


def run_loops(loops: dict[str, Loop], heartbeat_file: str | None = None, heartbeat_every_s: float = 5.0,
              stuck_after_s: float = DEFAULT_STUCK_AFTER_S, metrics_port: int = 0, metrics_addr: str = "0.0.0.0") -> int:
    """Run every loop in its own thread; return an exit code once stopped or if a loop dies.

    With `metrics_port` (the service's METRICS_PORT, validated with its other settings), serve the metrics there."""
    stop = threading.Event()

    def _request_stop(signum, _frame) -> None:
        log.info("stopping worker", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    metrics_server = serve_worker_metrics(metrics_port, metrics_addr) if metrics_port else None
    worker_loops = WorkerLoops(loops, stop)
    worker_loops.start()
    exit_code = supervise(worker_loops, stop, heartbeat_file, heartbeat_every_s if heartbeat_file else 1.0,
                          stuck_after_s)
    worker_loops.join(timeout_s=15)
    if metrics_server is not None:
        metrics_server.shutdown()
        metrics_server.server_close()
    log.info("worker stopped")
    return exit_code
