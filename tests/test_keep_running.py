"""`make run` keeps each process running: scripts/keep_running.py starts a dead one again, and stops with it."""
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "keep_running.py"
keep_running = runpy.run_path(str(SCRIPT))
KeepRunning = keep_running["KeepRunning"]

# A child that appends its pid to a file, then sleeps (or exits with `code`).
CHILD = "import os, sys, time; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); time.sleep(float(sys.argv[2]))"


def pids_in(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def wait_for(condition, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_process_that_exits_is_started_again_with_a_growing_backoff_until_asked_to_stop(tmp_path):
    runs = tmp_path / "runs"
    keeper = KeepRunning("quick", [sys.executable, "-c", CHILD + "; sys.exit(3)", str(runs), "0"],
                         first_backoff_s=0.05, max_backoff_s=0.2)
    thread = threading.Thread(target=keeper.run, daemon=True)
    thread.start()
    wait_for(lambda: len(pids_in(runs)) >= 4)
    keeper.stop(signal.SIGTERM)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(set(pids_in(runs))) >= 4  # a new process each time


def test_a_worker_killed_with_sigkill_is_started_again_and_sigterm_stops_both(tmp_path):
    runs = tmp_path / "runs"
    wrapper = subprocess.Popen([sys.executable, str(SCRIPT), "sleeper", "--", sys.executable, "-c", CHILD, str(runs), "60"],
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(pids_in(runs)) == 1)
        first = pids_in(runs)[0]
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: len(pids_in(runs)) == 2)
        second = pids_in(runs)[1]
        assert second != first
        wrapper.send_signal(signal.SIGTERM)
        assert wrapper.wait(timeout=10) == 128 + signal.SIGTERM  # it stopped with its process, not started it again
        assert not _alive(second)
        assert "sleeper exited (killed by SIGKILL)" in wrapper.stderr.read()
        assert len(pids_in(runs)) == 2
    finally:
        if wrapper.poll() is None:
            wrapper.kill()


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    runs = tmp_path / "runs"
    stubborn = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + CHILD
    keeper = KeepRunning("stubborn", [sys.executable, "-c", stubborn, str(runs), "60"], stop_grace_s=0.5)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("code", keeper.run()), daemon=True)
    thread.start()
    wait_for(lambda: len(pids_in(runs)) == 1)
    keeper.stop(signal.SIGTERM)
    thread.join(timeout=10)
    assert outcome.get("code") == -signal.SIGKILL


def test_every_process_of_make_run_runs_under_the_wrapper():
    text = runpy.run_path(str(REPO / "scripts" / "procfile.py"))["procfile"]
    from crm_platform import registry

    lines = [line for line in text(registry.load()).splitlines() if line and not line.startswith("#")]
    assert lines
    for line in lines:
        name, command = line.split(":", 1)
        assert command.strip().startswith(f"python scripts/keep_running.py {name} -- "), line


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
