"""The SMTP sink as `make run` starts it: a process keeping each message it receives as an .eml file."""
from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage

from crm_platform.testing.smtp_sink import free_port


def test_the_sink_process_keeps_each_message_as_an_eml_file(tmp_path):
    port, maildir = free_port(), tmp_path / "mail"
    sink = subprocess.Popen([sys.executable, "-m", "crm_platform.testing.smtp_sink", "--port", str(port),
                             "--maildir", str(maildir)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=2)
                break
            except OSError:
                assert sink.poll() is None and time.monotonic() < deadline, "the sink did not start"
                time.sleep(0.1)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "crm@crm.example", "ada@example.com", "Bonjour"
        message.set_content("Hello")
        with smtp:
            smtp.send_message(message)
        kept, = maildir.glob("*.eml")
        assert b"Subject: Bonjour" in kept.read_bytes()
    finally:
        sink.terminate()
        assert sink.wait(timeout=10) == 0
