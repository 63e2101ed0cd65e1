"""The worker's heartbeat says every loop makes progress, not only that its threads are alive."""
import threading
import time

import pytest

from crm_platform.heartbeat import is_fresh
from crm_platform.liveness import still_working
from crm_platform.worker_runtime import WorkerLoops, supervise

STUCK_AFTER_S = 0.5
BEAT_EVERY_S = 0.05
MAX_AGE_S = 0.3  # what the probe accepts


@pytest.fixture
def worker(tmp_path):
    """Starts loops under a supervisor that beats every BEAT_EVERY_S; stops them after the test."""
    stop = threading.Event()
    beat = str(tmp_path / "heartbeat")
    exit_codes = []
    threads = []

    def start(loops):
        loops = WorkerLoops(loops, stop)
        loops.start()
        supervisor = threading.Thread(target=lambda: exit_codes.append(
            supervise(loops, stop, beat, every_s=BEAT_EVERY_S, stuck_after_s=STUCK_AFTER_S)))
        supervisor.start()
        threads.append(supervisor)
        return beat

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)


def eventually(condition, within_s):
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_loop_whose_handler_blocks_makes_the_heartbeat_stale_within_the_bound_and_fresh_once_it_moves(worker):
    blocked, release, handled = threading.Event(), threading.Event(), []

    def consumer(stop):  # a consumer's shape: look at `stop`, handle one event, and again
        while not stop.is_set():
            handled.append(1)
            if len(handled) == 20:
                blocked.set()
                release.wait()  # a handler blocked on a lock or a socket without timeout
            time.sleep(0.01)

    beat = worker({"consumer": consumer})
    assert eventually(lambda: is_fresh(beat, MAX_AGE_S), within_s=2), "a loop at work keeps the heartbeat fresh"
    assert blocked.wait(timeout=5)
    blocked_at = time.monotonic()
    assert eventually(lambda: not is_fresh(beat, MAX_AGE_S), within_s=STUCK_AFTER_S + MAX_AGE_S + 1.0)
    assert time.monotonic() - blocked_at >= STUCK_AFTER_S, "not reported stuck before the bound"
    release.set()
    assert eventually(lambda: is_fresh(beat, MAX_AGE_S), within_s=2), "fresh again once the loop moves"


def test_a_loop_waiting_for_work_is_idle_not_stuck(worker):
    beat = worker({"hourly-sweep": lambda stop: stop.wait(3600)})
    time.sleep(STUCK_AFTER_S + 3 * BEAT_EVERY_S)  # past the bound: the sweep has been waiting all along
    assert is_fresh(beat, MAX_AGE_S)


def test_long_work_that_says_it_is_still_working_is_not_stuck(worker):
    def cleanup(stop):
        while not stop.is_set():
            end = time.monotonic() + 3 * STUCK_AFTER_S  # one event whose clean-up outlasts the bound
            while time.monotonic() < end:
                still_working()
                time.sleep(0.01)

    beat = worker({"cleanup": cleanup})
    assert eventually(lambda: is_fresh(beat, MAX_AGE_S), within_s=2)
    deadline = time.monotonic() + 2 * STUCK_AFTER_S
    while time.monotonic() < deadline:
        assert is_fresh(beat, MAX_AGE_S), "the clean-up said it was working: the heartbeat must not lapse"
        time.sleep(0.05)


def test_a_loop_that_dies_stops_the_worker_with_exit_code_1(tmp_path):
    stop = threading.Event()
    loops = WorkerLoops({"dies": lambda stop: None, "waits": lambda stop: stop.wait(30)}, stop)
    loops.start()
    assert supervise(loops, stop, str(tmp_path / "heartbeat"), every_s=BEAT_EVERY_S, stuck_after_s=STUCK_AFTER_S) == 1
    assert stop.is_set()


@pytest.fixture
def signal_handlers():
    """run_loops installs its SIGTERM/SIGINT handlers: pytest's come back after the test."""
    import signal

    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_a_worker_given_a_metrics_port_serves_its_metrics_there_until_it_stops(monkeypatch, signal_handlers):
    import requests
    from devinfra.ports import free_ports

    from crm_platform.worker_runtime import run_loops

    port = free_ports(1)[0]
    monkeypatch.setenv("METRICS_PORT", "not a port")  # the service's settings say where, not the environment
    scraped = []

    def scrape_once(stop):  # a loop that ends: the worker stops with exit code 1 once it has scraped
        scraped.append(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5))

    assert run_loops({"scrape": scrape_once}, heartbeat_every_s=0.05, metrics_port=port, metrics_addr="127.0.0.1") == 1
    assert scraped[0].status_code == 200 and "crm_outbox_events_relayed_total" in scraped[0].text
    with pytest.raises(requests.ConnectionError):  # the listener is closed with the worker
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_without_a_metrics_port_a_worker_listens_on_nothing(monkeypatch, signal_handlers):
    from crm_platform.worker_runtime import run_loops

    monkeypatch.setenv("METRICS_PORT", "9100")  # not the service's setting: ignored
    served = []
    monkeypatch.setattr("crm_platform.worker_runtime.serve_worker_metrics", served.append)
    assert run_loops({"ends": lambda stop: None}, heartbeat_every_s=0.05) == 1
    assert served == []
