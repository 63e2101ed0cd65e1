"""Runs one process of `make run` and starts it again when it dies, as an orchestrator would.

    python scripts/keep_running.py <name> -- <command> [args...]

honcho stops every process (and `make run`) as soon as one of them exits, so a worker killed
with SIGKILL, or crashed, took the whole system down. Each Procfile line runs its process
under this wrapper instead: when the process exits without being asked to, it logs one line
and starts it again after a backoff (1 s, doubling to 30 s; back to 1 s once a run lasted
60 s). SIGTERM or SIGINT (Ctrl-C, `make stop`, honcho stopping) go to the process, and the
wrapper exits with it once it has stopped, so Ctrl-C still stops everything. honcho signals the
whole process group (the process gets its SIGTERM from honcho too) and sends SIGKILL to the
group 5 s later; the wrapper's own grace period (STOP_GRACE_S) matters only when the wrapper
is signalled alone.

Why a wrapper of our own rather than supervisor or circus: honcho already gives `make run`
one terminal with every process's output, coloured and prefixed, and the Procfile stays the
registry's (scripts/procfile.py); supervisor and circus each bring a daemon, their own
configuration and log files to learn for the same forty lines of restart logic.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
HEALTHY_RUN_S = 60.0  # a run this long resets the backoff
STOP_GRACE_S = 20.0  # after SIGTERM, how long the process has before SIGKILL


class KeepRunning:
    def __init__(self, name: str, command: list[str], *, first_backoff_s: float = FIRST_BACKOFF_S,
                 max_backoff_s: float = MAX_BACKOFF_S, healthy_run_s: float = HEALTHY_RUN_S,
                 stop_grace_s: float = STOP_GRACE_S) -> None:
        self.name, self.command = name, command
        self.first_backoff_s, self.max_backoff_s, self.healthy_run_s = first_backoff_s, max_backoff_s, healthy_run_s
        self.stop_grace_s = stop_grace_s
        self.stopping = False
        self.child: subprocess.Popen | None = None

    def stop(self, signum: int, _frame=None) -> None:
        """Asked to stop: pass the signal on; the loop ends when the process has exited."""
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        backoff = self.first_backoff_s
        while not self.stopping:  # a stop during the backoff's last instant starts nothing
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)
            code = self._wait_for_child()
            if self.stopping:
                return code
            lasted = time.monotonic() - started
            backoff = self.first_backoff_s if lasted >= self.healthy_run_s else backoff
            log(f"{self.name} exited ({describe(code)}) after {lasted:.1f} s; starting it again in {backoff:.0f} s")
            if self._sleep(backoff):
                return code
            backoff = min(backoff * 2, self.max_backoff_s)
        return 0

    def _wait_for_child(self) -> int:
        asked_at = None
        while True:
            try:
                return self.child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if not self.stopping:
                    continue
                asked_at = asked_at or time.monotonic()
                if time.monotonic() - asked_at > self.stop_grace_s:  # it ignored SIGTERM for the grace period
                    log(f"{self.name} did not stop within {self.stop_grace_s:.0f} s: killing it")
                    self.child.kill()

    def _sleep(self, seconds: float) -> bool:
        """Wait before a restart; True if asked to stop meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, deadline - time.monotonic()))
        return self.stopping


def describe(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def log(line: str) -> None:
    print(f"keep_running: {line}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    keeper = KeepRunning(argv[0], argv[2:])
    signal.signal(signal.SIGTERM, keeper.stop)
    signal.signal(signal.SIGINT, keeper.stop)
    code = keeper.run()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
