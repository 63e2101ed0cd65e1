"""devinfra's PostgreSQL works from a clone the `postgres` user cannot enter (as root, a clone in
/root or in a `mktemp -d` folder): its cluster then lives in a root-owned clusters directory, keyed
by the var dir. Free ports and scratch directories only, never the default ones."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from devinfra import cli, postgres
from devinfra.config import Config
from devinfra.ports import free_ports
from devinfra.processes import PrereqError

BIN_DIR = postgres.find_bin_dir()
needs_postgres = pytest.mark.skipif(BIN_DIR is None, reason="PostgreSQL server binaries are not installed")


def _has_postgres_user() -> bool:
    try:
        pwd.getpwnam(postgres.SUPERUSER)
    except KeyError:
        return False
    return True


as_root = pytest.mark.skipif(os.geteuid() != 0 or not _has_postgres_user(),
                             reason="only root runs PostgreSQL as another user (`postgres`)")


@pytest.fixture
def private_clone(monkeypatch):
    """A clone's var dir inside a 0700 directory (what mkdtemp makes), devinfra pointed at it on free ports."""
    parent = Path(tempfile.mkdtemp(prefix="devinfra-private-"))
    assert parent.stat().st_mode & 0o777 == 0o700
    var = parent / "clone" / "var"
    clusters = Path("/var/tmp") / f"devinfra-test-clusters-{os.getpid()}-{os.urandom(4).hex()}"
    pg_port, mongo_port = free_ports(2)
    for name, value in {"CRM_VAR_DIR": var, "CRM_POSTGRES_CLUSTERS": clusters, "CRM_POSTGRES_PORT": pg_port, "CRM_MONGO_PORT": mongo_port,
                        "CRM_MONGO_BACKEND": "postgresql", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.setitem(cli.EXTERNAL, "kafka", (lambda target: True, "KAFKA_BOOTSTRAP_SERVERS"))  # not under test
    yield var
    pg = cli.postgres_server(Config.from_env())
    pg.stop()
    shutil.rmtree(pg.work_dir, ignore_errors=True)
    shutil.rmtree(parent, ignore_errors=True)
    if clusters.is_symlink():
        clusters.unlink()
    shutil.rmtree(clusters, ignore_errors=True)


@needs_postgres
@as_root
def test_postgres_starts_answers_and_is_wiped_from_a_clone_in_a_private_directory(private_clone, capsys):
    pg = cli.postgres_server(Config.from_env())
    root = Path(os.environ["CRM_POSTGRES_CLUSTERS"])
    assert pg.work_dir.parent == root
    try:
        pg.start()
        query = [str(BIN_DIR / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "ferretdb",
                 "-tAc", "SELECT 1"]
        assert subprocess.run(query, capture_output=True, text=True, check=True).stdout.strip() == "1"
        capsys.readouterr()
        cli.main(["status"])  # exit 1: no FerretDB runs; only PostgreSQL's line matters here
        line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("postgres "))
        assert line.startswith("postgres ready") and f"data={pg.data_dir} " in line
        info = root.lstat()  # the postgres user cannot add or swap entries where root chowns its directory
        assert info.st_uid == 0 and info.st_mode & 0o022 == 0
        assert pg.work_dir.stat().st_uid == pwd.getpwnam(postgres.SUPERUSER).pw_uid
    finally:
        pg.stop()
    assert (pg.data_dir / "PG_VERSION").is_file()
    assert cli.main(["down", "--wipe"]) == 0
    assert not pg.work_dir.exists() and not (private_clone / "postgres").exists()


@needs_postgres
@as_root
@pytest.mark.parametrize("planted", ["link", "owned by postgres"])
def test_a_clusters_directory_another_user_could_write_in_is_refused_in_one_sentence(private_clone, planted):
    root = Path(os.environ["CRM_POSTGRES_CLUSTERS"])
    private_clone.parent.mkdir(parents=True)  # root's: it must stay so
    if planted == "link":
        root.symlink_to(private_clone.parent)  # root would chown what the link points to
    else:
        root.mkdir()
        entry = pwd.getpwnam(postgres.SUPERUSER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    pg = cli.postgres_server(Config.from_env())
    with pytest.raises(PrereqError) as refused:
        pg.start()
    message = str(refused.value)
    assert "\n" not in message and str(root) in message
    assert not pg.is_running() and private_clone.parent.stat().st_uid == 0


@needs_postgres
@as_root
def test_a_cluster_made_before_in_a_clone_since_made_private_is_refused_in_one_sentence(private_clone):
    (private_clone / "postgres" / "data").mkdir(parents=True)
    (private_clone / "postgres" / "data" / "PG_VERSION").write_text("15\n")
    pg = cli.postgres_server(Config.from_env())
    assert pg.work_dir == private_clone / "postgres"
    with pytest.raises(PrereqError) as refused:
        pg.start()
    message = str(refused.value)
    assert "\n" not in message and "`make clean-data`" in message and "CRM_MONGO_BACKEND=sqlite" in message
    assert not pg.is_running()


def test_the_cluster_goes_to_the_clusters_root_keyed_by_the_var_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres, "clusters_root", lambda: tmp_path / "clusters")
    one, other = tmp_path / "one" / "var", tmp_path / "other" / "var"
    assert postgres.work_dir_for(one) == postgres.work_dir_for(one)
    assert postgres.work_dir_for(one) != postgres.work_dir_for(other)
    assert postgres.work_dir_for(one).parent == tmp_path / "clusters"
    assert postgres.work_dir_for(one).name.startswith("one-")


def test_a_cluster_made_before_in_the_var_dir_stays_there(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres, "clusters_root", lambda: tmp_path / "clusters")
    var = tmp_path / "clone" / "var"
    (var / "postgres" / "data").mkdir(parents=True)
    (var / "postgres" / "data" / "PG_VERSION").write_text("15\n")
    assert postgres.work_dir_for(var) == var / "postgres"


def test_without_root_the_cluster_stays_in_the_var_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres, "clusters_root", lambda: None)
    assert postgres.work_dir_for(tmp_path / "var") == tmp_path / "var" / "postgres"
