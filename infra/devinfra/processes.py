"""Detached server processes: spawn in their own session, pid files, stop the whole group."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path

from .ports import HOST, wait_port_free


class InfraError(Exception):
    """An operator-facing failure: the message is printed without a traceback."""

    exit_code = 1


class PrereqError(InfraError):
    """A missing tool; the message names what to install or which variable to set."""

    exit_code = 2


def say(msg: str) -> None:
    print(f"devinfra: {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def timed(label: str):
    """Print a step's start and how long it took, so the operator sees progress."""
    say(f"{label} ...")
    t0 = time.monotonic()
    yield
    say(f"{label}: done in {time.monotonic() - t0:.1f}s")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a pid, or None if it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[2])


def _live_state(state: str, pid: int) -> bool:
    if state not in ("Z", "X"):
        return True
    # A zombie leader may still have threads tearing down (a JVM after SIGKILL) that hold
    # its sockets; it is only gone once no other thread is left.
    try:
        return any(t != str(pid) for t in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return False


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and _live_state(st[0], pid)


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _is_ours(pid: int, marker: str, programs: tuple[str, ...]) -> bool:
    """``marker`` is one whole argument and argv[0] is one of ``programs`` (prefix match)."""
    args = cmdline(pid)
    return bool(args) and Path(args[0]).name.startswith(programs) and marker in args[1:] and alive(pid)


def find_by_marker(marker: str, programs: tuple[str, ...]) -> int | None:
    """A live ``programs`` process that has ``marker`` (e.g. its config path) as an argument."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != me and _is_ours(int(entry.name), marker, programs):
            return int(entry.name)
    return None


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st and st[1] == pgid and _live_state(st[0], int(entry.name)):
                members.append(int(entry.name))
    return members


def read_pid(path: Path) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def write_pid(path: Path, pid: int) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{pid}\n")
    os.replace(tmp, path)


def tracked_pid(pid_path: Path, marker: str, programs: tuple[str, ...]) -> int | None:
    """The pid from ``pid_path`` if that process is alive and really ours; otherwise a stray
    process of ours (pid file lost) found by its command line."""
    pid = read_pid(pid_path)
    if pid and _is_ours(pid, marker, programs):
        return pid
    return find_by_marker(marker, programs)


def as_user(user: str | None) -> dict:
    """Popen arguments that run the child as ``user`` (uid, its group, no other groups); {} for None."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def require_port_free(port: int, setting: str) -> None:
    """InfraError naming ``setting`` (the variable that moves it) if ``port`` stays taken."""
    if not wait_port_free(port):
        raise InfraError(f"port {port} on {HOST} is already in use by another process: "
                         f"stop it or choose another port ({setting})")


def run(cmd: list[str], what: str, cwd: Path | None = None, env: dict | None = None,
        user: str | None = None, input: str | None = None) -> str:
    """Run a tool to completion (as ``user`` if given) and return its output; InfraError with the
    last lines of output if it fails."""
    res = subprocess.run(cmd, cwd=cwd, env=env, input=input, stdin=subprocess.DEVNULL if input is None else None,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **as_user(user))
    if res.returncode != 0:
        last = "\n".join(res.stdout.splitlines()[-20:])
        raise InfraError(f"{what} failed (exit {res.returncode}): {' '.join(cmd)}\n{last}")
    return res.stdout


def spawn(cmd: list[str], log_path: Path, pid_path: Path, cwd: Path | None = None,
          env: dict | None = None, user: str | None = None) -> subprocess.Popen:
    """Start ``cmd`` detached (new session, stdin closed, output appended to ``log_path``),
    as ``user`` if given (the pid is then still ``cmd``'s own: no su/runuser in between)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n==== devinfra {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=cwd, env=env, start_new_session=True, close_fds=True, **as_user(user))
    write_pid(pid_path, proc.pid)
    return proc


def stop_group(pid: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> str:
    """SIGTERM the process group led by ``pid``, wait up to ``timeout`` s, then SIGKILL.
    Returns how it ended: "SIGTERM", "SIGKILL" or "already gone"."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return "already gone"
    target = pgid if pgid == pid else None  # only signal a group the process leads

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(target, sig) if target else os.kill(pid, sig)

    def gone(deadline: float) -> bool:
        while time.monotonic() < deadline:
            if proc is not None:
                proc.poll()  # reap our own child so it does not linger as a zombie
            if not (group_members(target) if target else alive(pid) and [pid]):
                return True
            time.sleep(0.1)
        return False

    send(signal.SIGTERM)
    if gone(time.monotonic() + timeout):
        return "SIGTERM"
    send(signal.SIGKILL)
    if gone(time.monotonic() + 10):
        return "SIGKILL"
    raise InfraError(f"process group {pgid} survived SIGKILL; check `ps -g {pgid}`")


def tail(path: Path, lines: int = 20, offset: int = 0) -> str:
    """The last ``lines`` lines of ``path``, only from byte ``offset`` on (this start's output)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(offset, f.tell() - 64 * 1024))
            data = f.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data.splitlines()[-lines:])


class LocalServer:
    """What every local server shares: finding its process, stopping its group, `with` support.

    Subclasses set `port`, `pid_path`, `_proc` and `log_path`, and say how to recognise their
    process; those that start through `_launch` also have a `description` and a `_probe`.
    """

    port: int
    pid_path: Path
    log_path: Path
    _proc: subprocess.Popen | None
    programs: tuple[str, ...] = ()
    description: str

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def process_marker(self) -> str:
        """A string on the server's command line that tells our process from any other."""
        raise NotImplementedError

    def start(self, timeout: float = 90.0) -> None:
        raise NotImplementedError

    def _probe(self) -> bool:
        """True if the running server answers (a quick check, about a second at most)."""
        raise NotImplementedError

    def _launch(self, cmd: list[str], timeout: float, cwd: Path | None = None, user: str | None = None,
                env: dict | None = None) -> None:
        """Spawn ``cmd`` (in ``env`` if given, else ours) and wait until it answers; stop it again if it does not
        in time."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with timed(f"start {self.description} on {self.address} (log {self.log_path})"):
            self._proc = spawn(cmd, self.log_path, self.pid_path, cwd=cwd, env=env, user=user)
            try:
                self._wait_ready(time.monotonic() + timeout, offset)
            except BaseException:
                self.stop()
                raise

    def _wait_ready(self, deadline: float, log_offset: int = 0) -> None:
        while time.monotonic() < deadline:
            if not self.is_running():
                code = self._proc.poll() if self._proc else None
                raise InfraError(f"{self.description} exited (code {code}) before it was ready; "
                                 f"last lines of {self.log_path}:\n{tail(self.log_path, offset=log_offset)}")
            if self._probe():
                return
            time.sleep(0.2)
        raise InfraError(f"{self.description} on {self.address} did not answer in time; "
                         f"last lines of {self.log_path}:\n{tail(self.log_path, offset=log_offset)}")

    def pid(self) -> int | None:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid  # our own child: no /proc race right after exec
        return tracked_pid(self.pid_path, self.process_marker(), self.programs)

    def is_running(self) -> bool:
        return self.pid() is not None

    def stop(self, timeout: float = 20.0) -> str:
        """SIGTERM (then SIGKILL after ``timeout`` s) the server's process group."""
        pid = self.pid()
        how = stop_group(pid, timeout, self._proc) if pid else "not running"
        if self._proc is not None:
            self._proc.poll()
            self._proc = None
        self.pid_path.unlink(missing_ok=True)
        return how

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
