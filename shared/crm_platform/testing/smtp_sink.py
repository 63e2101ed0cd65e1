"""A real SMTP server (aiosmtpd) that keeps what it receives: for tests, and for `make run` (devinfra).

In a test, `SmtpSink()` listens on a free port of 127.0.0.1 and collects every message in memory; it can
refuse chosen recipients for good (550) or for now (451), as a real server would. The pytest fixture
`smtp_sink` (crm_platform.testing.plugin) gives a test a started one.

As a process, `python -m crm_platform.testing.smtp_sink --port N --maildir DIR` writes each message it
receives to DIR as an .eml file (open it with any mail client) and sends nothing on: what `make run` gives
the services as their SMTP server, so that no mail from a development machine reaches anyone.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import logging
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class _Handler:
    def __init__(self, sink: "SmtpSink") -> None:
        self._sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self._sink.refused:
            return "550 5.1.1 mailbox unavailable"
        if address.lower() in self._sink.deferred:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = bytes(envelope.original_content)
        self._sink.received(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), raw))
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1 keeping every message (in `messages`, and in `maildir` if given)."""

    def __init__(self, port: int = 0, maildir: Path | None = None, host: str = HOST) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.maildir = maildir
        self.messages: list[ReceivedMail] = []
        self.refused: set[str] = set()  # recipients answered 550 (a permanent refusal)
        self.deferred: set[str] = set()  # recipients answered 451 (try again later)
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    def start(self) -> "SmtpSink":
        if self.maildir is not None:
            self.maildir.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, enable_SMTPUTF8=True,
                                      ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def received(self, mail: ReceivedMail) -> None:
        if self.maildir is not None:
            path = self.maildir / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(mail.raw)
            log.info("kept a message as %s", path.name)
        with self._arrived:
            self.messages.append(mail)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[ReceivedMail]:
        """The messages once at least `count` have arrived; AssertionError after `timeout_s`."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout_s):
                raise AssertionError(f"{len(self.messages)} messages arrived in {timeout_s} s, not {count}")
            return list(self.messages)


def free_port(host: str = HOST) -> int:
    """A TCP port free on `host` right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_platform.testing.smtp_sink", description=__doc__)
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True, help="where each message is written as an .eml file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s smtp-sink %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with SmtpSink(args.port, args.maildir.resolve(), args.host):
        log.info("listening on %s:%d, keeping messages in %s", args.host, args.port, args.maildir)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
