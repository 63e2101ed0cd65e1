"""One gunicorn configuration for every service: port and app from the registry, overrides from the environment."""
import os
from pathlib import Path

import pytest

from crm_platform import registry
from crm_platform.gunicorn_config import prepare_metrics_directory, remove_metrics_directory, settings_for


def test_a_service_listens_on_its_registry_port_and_serves_its_registry_app(monkeypatch):
    monkeypatch.delenv("BIND", raising=False)
    settings = settings_for("contacts")
    assert settings["bind"] == "0.0.0.0:8101"
    assert settings["wsgi_app"] == "contacts.entrypoints.api:create_app()"
    assert settings["logconfig_dict"]["filters"]["trace"]["service"] == "contacts"


def test_the_environment_overrides_bind_workers_and_threads(monkeypatch):
    monkeypatch.setenv("BIND", "127.0.0.1:9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = settings_for("gateway", threads=8, timeout_s=60)
    assert (settings["bind"], settings["workers"], settings["threads"], settings["timeout"]) == ("127.0.0.1:9000", 3, 8, 60)


def test_the_settings_check_stops_start_up_with_one_line(monkeypatch):
    monkeypatch.delenv("CONTACTS_URL", raising=False)
    with pytest.raises(SystemExit, match="^gateway: invalid configuration: .*CONTACTS_URL"):
        settings_for("gateway")["on_starting"](server=None)


def test_gunicorn_access_lines_with_query_strings_are_not_logged(capsys):
    """An access line holds the full query string (?q=<a person's name>): no personal data in logs."""
    import logging
    import logging.config

    from crm_platform.json_logging import gunicorn_logconfig

    names = ("", "gunicorn.access", "gunicorn.error")
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
                    logging.getLogger(name).propagate) for name in names}
    logging.config.dictConfig(gunicorn_logconfig("contacts"))
    try:
        logging.getLogger("gunicorn.access").info('"GET /v1/contacts?q=louise.desnotes HTTP/1.1" 200')
        logging.getLogger("gunicorn.error").info("Booting worker")
        written = capsys.readouterr().err
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate
    assert "louise" not in written and "Booting worker" in written


def test_without_a_metrics_directory_each_run_gets_a_fresh_one_removed_at_exit(monkeypatch, tmp_path):
    """`make run` and the e2e system set no PROMETHEUS_MULTIPROC_DIR: the master makes one for its workers."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    for name in ("PROMETHEUS_MULTIPROC_DIR", "CRM_METRICS_DIR_MADE_BY"):
        monkeypatch.setenv(name, "")  # restored (unset) after the test
        monkeypatch.delenv(name)
    upstreams = {service.url_variable: f"http://127.0.0.1:{service.port}" for service in registry.load().upstreams}
    for name, value in {**upstreams, "MONGO_URI": "mongodb://127.0.0.1:1/",
                        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "INTERNAL_TOKEN": "x" * 16}.items():
        monkeypatch.setenv(name, value)
    settings = settings_for("gateway")
    settings["on_starting"](server=None)
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert made.is_dir() and made.parent == tmp_path and made.name.startswith("gateway-metrics-")
    settings["on_exit"](server=None)
    assert not made.exists()


def test_a_given_metrics_directory_loses_the_last_runs_files_and_stays(tmp_path):
    (tmp_path / "counter_4242.db").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("not ours")
    environ = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    assert prepare_metrics_directory("contacts", environ) == (tmp_path, False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "master.pid"]


def test_a_worker_that_exits_has_its_live_gauges_dropped_and_its_counts_kept(monkeypatch, tmp_path):
    from types import SimpleNamespace

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db", "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")
    settings_for("contacts")["child_exit"](server=None, worker=SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_4343.db"]


def test_a_usr2_upgrade_leaves_the_old_masters_directory_alone(monkeypatch, tmp_path):
    """The new master inherits PROMETHEUS_MULTIPROC_DIR from the old one, whose workers still write there:
    it makes its own directory, and the old master, exiting, removes only its own."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    environ: dict[str, str] = {}
    old, made = prepare_metrics_directory("contacts", environ, pid=os.getpid())
    (old / "counter_4242.db").write_bytes(b"live")
    inherited = dict(environ)  # what the re-executed master starts with
    new, made_too = prepare_metrics_directory("contacts", inherited, pid=os.getppid())
    assert made and made_too and new != old and inherited["PROMETHEUS_MULTIPROC_DIR"] == str(new)
    assert (old / "counter_4242.db").read_bytes() == b"live"
    remove_metrics_directory(new, pid=os.getpid())  # the old master's on_exit, handed the wrong directory
    assert new.is_dir()
    remove_metrics_directory(old, pid=os.getpid())
    assert not old.exists() and new.is_dir()


def test_a_given_directory_a_live_master_uses_is_refused_and_a_dead_ones_is_taken(tmp_path):
    (tmp_path / "master.pid").write_text(str(os.getppid()))  # alive: the process that runs the tests
    (tmp_path / "counter_4242.db").write_bytes(b"live")
    with pytest.raises(SystemExit, match="in use by gunicorn master"):
        prepare_metrics_directory("contacts", {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, pid=os.getpid())
    assert (tmp_path / "counter_4242.db").exists()
    (tmp_path / "master.pid").write_text(str(2**22 + 1))  # above pid_max: no such process
    assert prepare_metrics_directory("contacts", {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, pid=os.getpid()) \
        == (tmp_path, False)
    assert not (tmp_path / "counter_4242.db").exists()
    assert (tmp_path / "master.pid").read_text() == str(os.getpid())


def test_every_api_runs_the_worker_that_answers_refusals_with_problems():
    from crm_platform.gunicorn_worker import ProblemThreadWorker, refusal_of
    from gunicorn.http import errors
    from gunicorn.util import load_class

    assert load_class(settings_for("billing")["worker_class"]) is ProblemThreadWorker
    assert refusal_of(errors.LimitRequestLine(6731, 4094))[:2] == (414, "URI Too Long")
    assert refusal_of(errors.LimitRequestHeaders("too many"))[0] == 431
    assert refusal_of(errors.InvalidRequestLine("GET / x"))[0] == 400
    assert refusal_of(errors.InvalidResponseHeader("bad"))[0] == 500  # the app's fault, not the client's
    assert refusal_of(RuntimeError())[0] == 500
