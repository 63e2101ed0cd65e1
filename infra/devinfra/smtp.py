"""A local SMTP sink for `make run`: the services' mail goes here, each message kept as an .eml file, none sent on.

It is crm_platform.testing.smtp_sink run as a process (aiosmtpd, from the repository's dev requirements) by the
venv's Python; `python -m devinfra env` points SMTP_HOST/SMTP_PORT at it. Open var/mail/*.eml in a mail client.
"""

from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from pathlib import Path

from . import processes
from .ports import HOST


def smtp_ready(port: int, timeout: float = 1.0) -> bool:
    """True if an SMTP server on 127.0.0.1:``port`` greets and answers NOOP within ``timeout`` seconds."""
    try:
        with smtplib.SMTP(HOST, port, timeout=timeout) as smtp:
            return smtp.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


class SmtpSinkServer(processes.LocalServer):
    programs = ("python",)
    description = "SMTP sink (aiosmtpd)"

    def __init__(self, port: int, mail_dir: Path, log_path: Path, *, pid_path: Path) -> None:
        self.port = int(port)
        self.data_dir = Path(mail_dir).resolve()
        self.log_path = Path(log_path).resolve()
        self.pid_path = Path(pid_path).resolve()
        self._proc: subprocess.Popen | None = None

    def process_marker(self) -> str:
        return str(self.data_dir)

    def is_ready(self, timeout: float = 3.0) -> bool:
        return self.is_running() and smtp_ready(self.port, timeout)

    def _probe(self) -> bool:
        return smtp_ready(self.port)

    def start(self, timeout: float = 30.0) -> None:
        """Start the sink (no-op if it already runs) and wait until it answers."""
        if self.is_running():
            self._wait_ready(time.monotonic() + timeout)
            return
        processes.require_port_free(self.port, "CRM_SMTP_PORT")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._launch([sys.executable, "-m", "crm_platform.testing.smtp_sink", "--port", str(self.port),
                      "--maildir", str(self.data_dir)], timeout)
