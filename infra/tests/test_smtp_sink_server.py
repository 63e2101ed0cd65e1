"""devinfra's SMTP sink for `make run`: started, found again, keeping mail in <var>/mail, and named by `env`."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from devinfra import cli
from devinfra.config import Config
from devinfra.ports import free_port
from devinfra.smtp import SmtpSinkServer, smtp_ready


def test_the_sink_starts_keeps_mail_as_files_and_stops(tmp_path):
    port = free_port()
    sink = SmtpSinkServer(port, tmp_path / "mail", tmp_path / "smtp.log", pid_path=tmp_path / "smtp.pid")
    sink.start(timeout=30)
    try:
        assert sink.is_ready()
        found = SmtpSinkServer(port, tmp_path / "mail", tmp_path / "smtp.log", pid_path=tmp_path / "smtp.pid")
        assert found.pid() == sink.pid()  # another devinfra run finds it by its pid file and command line
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "crm@crm.example", "ada@example.com", "Bonjour"
        message.set_content("Hello")
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.send_message(message)
        kept, = (tmp_path / "mail").glob("*.eml")
        assert b"Subject: Bonjour" in kept.read_bytes()
    finally:
        assert sink.stop() == "SIGTERM"
    assert not sink.is_running() and not smtp_ready(port)


def test_env_points_the_services_at_the_sink(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_SMTP_PORT", "22999")
    assert cli.main(["env", "--format", "dotenv"]) == 0
    values = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    assert (values["SMTP_HOST"], values["SMTP_PORT"]) == ("127.0.0.1", "22999")
    assert Config.from_env().mail_dir == tmp_path / "mail" and tmp_path / "mail" in Config.from_env().wipeable
