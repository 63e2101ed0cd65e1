"""python -m devinfra up|status|down|env|provision  (progress goes to stderr, results to stdout)."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import shlex
import shutil
import signal
import sys
import threading
import time

from . import provision
from .config import Config, kafka_version
from .ferretdb_indexes import IndexKeeper, SQLiteIndexKeeper
from .kafka import KafkaBroker, kafka_ready
from .mongo import KINDS, MongoServer, choose_kind, mongo_ready, running_kind
from .ports import port_is_free
from .postgres import PostgresServer, require_bin_dir, server_user
from .processes import InfraError, LocalServer, say, timed
from .smtp import SmtpSinkServer


EXTERNAL = {"kafka": (kafka_ready, "KAFKA_BOOTSTRAP_SERVERS"), "mongo": (mongo_ready, "MONGO_URI")}


def broker(cfg: Config) -> KafkaBroker:
    return KafkaBroker(cfg.kafka_port, cfg.kafka_port + 1, cfg.kafka_dir, cfg.log_path("kafka"),
                       pid_path=cfg.pid_path("kafka"))


def postgres_server(cfg: Config) -> PostgresServer:
    return PostgresServer(cfg.postgres_port, cfg.postgres_dir, cfg.log_path("postgres"),
                          pid_path=cfg.pid_path("postgres"))


def smtp_sink(cfg: Config) -> SmtpSinkServer:
    return SmtpSinkServer(cfg.smtp_port, cfg.mail_dir, cfg.log_path("smtp"), pid_path=cfg.pid_path("smtp"))


def mongo_server(cfg: Config) -> MongoServer:
    """The server that runs (its pid file says which kind), else the one CRM_MONGO_BACKEND chooses."""
    kind = running_kind(cfg.pid_path("mongo")) or choose_kind(cfg.mongo_backend)
    return MongoServer(cfg.mongo_port, cfg.mongo_data_dir(kind), cfg.log_path("mongo"),
                       pid_path=cfg.pid_path("mongo"), kind=kind, postgresql_url=postgres_server(cfg).url)


def local_servers(cfg: Config) -> list[tuple[str, str | None, LocalServer]]:
    """(name, external endpoint or None, local server) in start order; PostgreSQL only when the
    local FerretDB uses it or it still runs (e.g. after a switch of CRM_MONGO_BACKEND); the SMTP sink last."""
    m, pg = mongo_server(cfg), postgres_server(cfg)
    servers = [("kafka", cfg.kafka_external, broker(cfg))]
    if (m.kind == "postgresql" and not cfg.mongo_external) or pg.is_running():
        servers.append(("postgres", None, pg))
    return servers + [("mongo", cfg.mongo_external, m), ("smtp", None, smtp_sink(cfg))]


@contextlib.contextmanager
def locked(cfg: Config):
    """One `up`/`down` at a time per var dir."""
    cfg.ensure_var()
    with open(cfg.var_dir / "run" / "devinfra.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def wait_external(name: str, check, target: str, var: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check(target):
        if time.monotonic() > deadline:
            raise InfraError(f"{var}={target} is set but nothing answers there ({timeout:.0f}s); "
                             f"start it or unset {var} to run a local {name}")
        time.sleep(1)
    say(f"{name}: external {target} ({var}) is ready")


def cmd_provision(cfg: Config, args) -> int:
    t0 = time.monotonic()
    if cfg.kafka_external is None:
        provision.require_java()
        provision.ensure_kafka_jars(cfg)
    kind = None if cfg.mongo_external else mongo_server(cfg).kind
    if kind == "mongod":
        provision.require("mongod", "install MongoDB, or set CRM_MONGO_BACKEND to postgresql or sqlite")
    if kind == "postgresql":
        require_bin_dir()
        server_user()  # root needs a `postgres` user to run it as
    if kind in ("postgresql", "sqlite"):
        provision.ensure_ferretdb(cfg)
    say(f"provisioned in {time.monotonic() - t0:.1f}s (cache {cfg.cache_dir})")
    return 0


def preflight(cfg: Config) -> None:
    """Refuse before starting anything if a port we need is taken by a stranger."""
    ports = {"kafka": [("CRM_KAFKA_PORT", cfg.kafka_port),
                       ("CRM_KAFKA_PORT (the controller uses it +1)", cfg.kafka_port + 1)],
             "postgres": [("CRM_POSTGRES_PORT", cfg.postgres_port)],
             "mongo": [("CRM_MONGO_PORT", cfg.mongo_port)],
             "smtp": [("CRM_SMTP_PORT", cfg.smtp_port)]}
    for name, external, server in local_servers(cfg):
        if external or server.is_running():
            continue
        for var, port in ports[name]:
            if not port_is_free(port):
                raise InfraError(f"port {port} on 127.0.0.1 is already in use by another process: "
                                 f"stop it or set {var} to another port")


def cmd_up(cfg: Config, args) -> int:
    t0 = time.monotonic()
    with locked(cfg):
        preflight(cfg)
        cmd_provision(cfg, args)  # fail fast on a missing tool before starting anything
        for name, external, server in local_servers(cfg):
            if external:
                check, var = EXTERNAL[name]
                wait_external(name, check, external, var, args.timeout)
            elif server.is_ready():
                say(f"{name}: already running (pid {server.pid()}) and ready at {server.address}")
            else:
                server.start(timeout=args.timeout)
        wanted = choose_kind(cfg.mongo_backend)
        if not cfg.mongo_external and mongo_server(cfg).kind != wanted:
            say(f"mongo: CRM_MONGO_BACKEND={cfg.mongo_backend} chooses {KINDS[wanted]}, but the running "
                "server stays in use until `python -m devinfra down`")
    say(f"up in {time.monotonic() - t0:.1f}s; for your shell: eval \"$(python -m devinfra env)\"")
    return 0


def _line(name: str, state: str, pid, address: str, data: str, server: str) -> str:
    return f"{name:<8} {state:<8} pid={pid or '-':<8} {address:<28} data={data:<32} server={server}"


def cmd_status(cfg: Config, args) -> int:
    lines, all_ready = [], True
    for name, external, server in local_servers(cfg):
        if external:
            check, var = EXTERNAL[name]
            ok = check(external)
            lines.append(_line(name, "ready" if ok else "down", None, external, "-", f"external ({var})"))
        else:
            pid = server.pid()
            ok = bool(pid) and server.is_ready()
            state = "ready" if ok else "running" if pid else "stopped"
            description = f"Kafka {kafka_version(cfg.kafka_pom)} KRaft" if name == "kafka" else server.description
            lines.append(_line(name, state, pid, server.address, str(server.data_dir), f"{description} (local)"))
        all_ready &= ok
    print("\n".join(lines))
    return 0 if all_ready else 1


def cmd_down(cfg: Config, args) -> int:
    with locked(cfg):
        for name, external, server in reversed(local_servers(cfg)):  # FerretDB before its PostgreSQL
            if external:
                say(f"{name}: external ({external}), nothing to stop")
            pid = server.pid()  # a local one may still run even when the variable is set
            if pid:
                with timed(f"stop {name} (pid {pid})"):
                    how = server.stop()
                say(f"{name}: stopped with {how}")
            elif not external:
                server.pid_path.unlink(missing_ok=True)
                say(f"{name}: not running")
        if args.wipe:
            for d in cfg.wipeable:
                if d.exists():
                    shutil.rmtree(d)
                    say(f"wiped {d}")
    return 0


def cmd_index(cfg: Config, args) -> int:
    """Keep the local FerretDB's tables indexed for its pushed-down equalities (see ferretdb_indexes.py)."""
    kind = None if cfg.mongo_external else running_kind(cfg.pid_path("mongo"))
    if kind not in ("postgresql", "sqlite"):
        say("index: the MongoDB server is not the local FerretDB; nothing to do")
        return 0
    keeper = IndexKeeper(require_bin_dir() / "psql", cfg.postgres_port) if kind == "postgresql" else \
        SQLiteIndexKeeper(cfg.mongo_data_dir("sqlite"))
    if not args.every:
        say(f"index: {keeper.sync()} created")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        keeper.keep(stop, args.every)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_env(cfg: Config, args) -> int:
    values = {"KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap, "MONGO_URI": cfg.mongo_uri,
              "SMTP_HOST": cfg.smtp_host, "SMTP_PORT": str(cfg.smtp_port)}
    for key, value in values.items():
        print(f"{key}={value}" if args.format == "dotenv" else f"export {key}={shlex.quote(value)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devinfra", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="provision, start and wait for Kafka, the MongoDB server and the SMTP sink")
    up.add_argument("--timeout", type=float, default=90.0, help="seconds to wait per server")
    sub.add_parser("status", help="one line per component; exit 1 unless all are ready")
    down = sub.add_parser("down", help="stop the local servers")
    down.add_argument("--wipe", action="store_true", help="also delete their data and logs")
    env = sub.add_parser("env", help="print the variables that point clients at the servers")
    env.add_argument("--format", choices=("shell", "dotenv"), default="shell")
    sub.add_parser("provision", help="download the Kafka jars and build FerretDB into the cache")
    index = sub.add_parser("index", help="give the local FerretDB's tables the indexes its pushdown uses")
    index.add_argument("--every", type=float, default=0, help="keep doing it every N seconds, until stopped")
    args = parser.parse_args(argv)
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # refused connections are expected
    commands = {"up": cmd_up, "status": cmd_status, "down": cmd_down, "env": cmd_env,
                "provision": cmd_provision, "index": cmd_index}
    try:
        return commands[args.command](Config.from_env(), args)
    except InfraError as e:
        print(f"devinfra: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("devinfra: interrupted", file=sys.stderr)
        return 130
