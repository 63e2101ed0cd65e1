"""The service registry: each service, its processes, port, gateway routes and topics (services.toml)."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

SOURCE = "crm_platform/services.toml"
PROCESS_KINDS = ("api", "worker")
JOBS_PREFIX = "jobs"  # /v1/jobs/{id}: served by every service with `jobs = true`, not owned by one
NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
SETTING = re.compile(r"^[A-Z][A-Z0-9_]*$")
TOPIC = re.compile(r"^[a-z][a-z0-9._-]*$")
API_TARGET = re.compile(r"^[a-z_][a-z0-9_.]*:[A-Za-z_]\w*(\(\))?$")  # module:app or module:factory()
WORKER_TARGET = re.compile(r"^[a-z_][a-z0-9_.]*$")
WORKER_METRICS_PORT_OFFSET = 1000  # locally a worker serves its metrics on its service's port + this (8101 -> 9101)


class RegistryError(ValueError):
    """services.toml does not describe a valid set of services; the message names every problem."""


@dataclass(frozen=True)
class Process:
    service: str
    kind: str  # "api" or "worker"
    target: str  # api: the WSGI app gunicorn serves; worker: the module run with `python -m`

    @property
    def name(self) -> str:
        """What the Procfile, compose and k8s call it, e.g. contacts-worker."""
        return f"{self.service}-{self.kind}"


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    port: int
    db_setting: str
    processes: tuple[Process, ...]
    public: bool = False
    routes: tuple[str, ...] = ()
    jobs: bool = False
    produces: tuple[str, ...] = ()
    personal_data: bool = False  # holds personal data: answers privacy requests (issue 13)
    timeline: bool = False  # serves its entries of a contact's timeline to the gateway (crm_platform.timeline_api)

    @property
    def variable_prefix(self) -> str:
        return self.name.upper().replace("-", "_")

    @property
    def url_variable(self) -> str:
        """The variable giving the gateway this service's base URL, e.g. CONTACTS_URL."""
        return f"{self.variable_prefix}_URL"

    @property
    def bind_variable(self) -> str:
        """The variable of the local dev environment giving this service's host:port, e.g. CONTACTS_BIND."""
        return f"{self.variable_prefix}_BIND"

    @property
    def port_variable(self) -> str:
        """The variable that moves this service to another port locally, e.g. CONTACTS_PORT."""
        return f"{self.variable_prefix}_PORT"

    @property
    def worker_metrics_port(self) -> int | None:
        """Where the local dev environment has this service's worker serve its metrics (None: no worker)."""
        return self.port + WORKER_METRICS_PORT_OFFSET if any(p.kind == "worker" for p in self.processes) else None

    @property
    def worker_metrics_port_variable(self) -> str:
        """The variable of the local dev environment giving its worker's METRICS_PORT, e.g. CONTACTS_WORKER_METRICS_PORT."""
        return f"{self.variable_prefix}_WORKER_METRICS_PORT"

    def process(self, kind: str) -> Process:
        """This service's process of that kind (KeyError if it has none)."""
        found = [p for p in self.processes if p.kind == kind]
        if not found:
            raise KeyError(f"service {self.name} has no {kind} process")
        return found[0]


@dataclass(frozen=True)
class Registry:
    services: tuple[Service, ...]

    def service(self, name: str) -> Service:
        """The service of that name (KeyError naming the known ones if there is none)."""
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(f"no service {name!r} in {SOURCE}; known: {', '.join(s.name for s in self.services)}")

    @property
    def public(self) -> Service:
        """The one service clients reach: the gateway."""
        return next(s for s in self.services if s.public)

    @property
    def upstreams(self) -> tuple[Service, ...]:
        """The services behind the gateway."""
        return tuple(s for s in self.services if not s.public)

    @property
    def routes(self) -> dict[str, str]:
        """First path segment under /v1/ -> the name of the service that owns it."""
        return {prefix: s.name for s in self.services for prefix in s.routes}

    @property
    def job_services(self) -> tuple[str, ...]:
        """The services that serve /v1/jobs/{id}, in registry order."""
        return tuple(s.name for s in self.services if s.jobs)

    @property
    def timeline_services(self) -> tuple[str, ...]:
        """The services that keep entries of a contact's timeline, in registry order: those the gateway merges."""
        return tuple(s.name for s in self.services if s.timeline)

    @property
    def personal_data_services(self) -> tuple[str, ...]:
        """The services holding personal data, in registry order: those a privacy request asks to export or erase."""
        return tuple(s.name for s in self.services if s.personal_data)

    @property
    def processes(self) -> tuple[Process, ...]:
        """Every process of every service, in registry order."""
        return tuple(p for s in self.services for p in s.processes)


@cache
def load() -> Registry:
    """The registry shipped with crm_platform; RegistryError if it is invalid."""
    return parse(resources.files("crm_platform").joinpath("services.toml").read_text(encoding="utf-8"))


def parse(text: str, source: str = SOURCE) -> Registry:
    """A registry from TOML text; RegistryError naming every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{source}: not valid TOML: {exc}") from None
    problems: list[str] = []
    unknown = set(data) - {"services"}
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}; only [services.<name>] tables belong here")
    entries = data.get("services")
    if not isinstance(entries, dict) or not entries:
        problems.append("no [services.<name>] table")
        entries = {}
    services = []
    for name, entry in entries.items():
        service = _service(name, entry, problems)
        if service is not None:
            services.append(service)
    _check_across(services, problems)
    if problems:
        raise RegistryError(f"{source}: " + "; ".join(problems))
    return Registry(tuple(services))


_KEYS = {"package", "port", "public", "db_setting", "routes", "jobs", "produces", "processes", "personal_data",
         "timeline"}
_REQUIRED = {"package", "port", "db_setting", "processes"}


def _service(name: str, entry, problems: list[str]) -> Service | None:
    where = f"services.{name}"
    if not NAME.match(name):
        problems.append(f"{where}: a service name is lowercase letters, digits and '-', starting with a letter")
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a table")
        return None
    before = len(problems)
    if unknown := sorted(set(entry) - _KEYS):
        problems.append(f"{where}: unknown keys {unknown}; known keys are {sorted(_KEYS)}")
    if missing := sorted(_REQUIRED - set(entry)):
        problems.append(f"{where}: missing {missing}")

    def check(key: str, ok, expected: str) -> None:
        if key in entry and not ok(entry[key]):
            problems.append(f"{where}.{key}: must be {expected}, got {entry[key]!r}")

    def strings(pattern: re.Pattern):
        return lambda v: isinstance(v, list) and all(isinstance(i, str) and pattern.match(i) for i in v)

    check("package", lambda v: isinstance(v, str) and PACKAGE.match(v), "a Python package name")
    check("port", lambda v: type(v) is int and 1024 <= v <= 65535, "an integer from 1024 to 65535")
    check("public", lambda v: isinstance(v, bool), "true or false")
    check("jobs", lambda v: isinstance(v, bool), "true or false")
    check("personal_data", lambda v: isinstance(v, bool), "true or false")
    check("timeline", lambda v: isinstance(v, bool), "true or false")
    check("db_setting", lambda v: isinstance(v, str) and SETTING.match(v), "an upper-case variable name")
    check("routes", strings(NAME), "a list of lowercase path segments")
    check("produces", strings(TOPIC), "a list of topic names")
    processes = entry.get("processes", {})
    if not isinstance(processes, dict) or not processes:
        problems.append(f"{where}.processes: must be a table such as {{ api = \"pkg.entrypoints.api:create_app()\" }}")
        processes = {}
    if processes and "api" not in processes:
        problems.append(f"{where}.processes: needs an api (the gateway and the health checks reach every service over HTTP)")
    for kind, target in processes.items():
        pattern = {"api": API_TARGET, "worker": WORKER_TARGET}.get(kind)
        if pattern is None:
            problems.append(f"{where}.processes.{kind}: unknown process kind; known: {list(PROCESS_KINDS)}")
        elif not isinstance(target, str) or not pattern.match(target):
            expected = "module:create_app()" if kind == "api" else "a module run with python -m"
            problems.append(f"{where}.processes.{kind}: must be {expected}, got {target!r}")
        elif isinstance(entry.get("package"), str) and not target.startswith(entry["package"] + "."):
            problems.append(f"{where}.processes.{kind}: {target!r} is outside its package {entry['package']!r}")
    if len(problems) > before:
        return None
    return Service(
        name=name, package=entry["package"], port=entry["port"], db_setting=entry["db_setting"],
        processes=tuple(Process(name, kind, processes[kind]) for kind in PROCESS_KINDS if kind in processes),
        public=entry.get("public", False), routes=tuple(entry.get("routes", ())), jobs=entry.get("jobs", False),
        produces=tuple(entry.get("produces", ())), personal_data=entry.get("personal_data", False),
        timeline=entry.get("timeline", False),
    )


def _check_across(services: list[Service], problems: list[str]) -> None:
    """What no single entry shows: one public service, and nothing (port, route, topic, process) claimed twice."""
    public = [s.name for s in services if s.public]
    if services and len(public) != 1:
        problems.append(f"exactly one service must be public (the gateway), found {public or 'none'}")
    for s in services:
        if s.public and (s.routes or s.jobs):
            problems.append(f"services.{s.name}: the public service routes to the others; it has no routes or jobs")
        if JOBS_PREFIX in s.routes:
            problems.append(f"services.{s.name}.routes: {JOBS_PREFIX!r} is not a route; set jobs = true instead")
    for s in services:
        if s.personal_data and not s.produces:
            problems.append(f"services.{s.name}: a service with personal_data answers privacy requests on its own "
                            "topic; it must produce one")
    for s in services:
        if s.worker_metrics_port is not None and s.worker_metrics_port > 65535:
            problems.append(f"services.{s.name}.port: its worker's metrics port ({s.worker_metrics_port}, the port "
                            f"+ {WORKER_METRICS_PORT_OFFSET}) is above 65535")
    for what, claims in (
        ("port", [(s.port, s.name) for s in services]
         + [(s.worker_metrics_port, f"{s.name}-worker metrics") for s in services if s.worker_metrics_port]),
        ("route", [(r, s.name) for s in services for r in s.routes]),
        ("topic", [(t, s.name) for s in services for t in s.produces]),
        ("db_setting", [(s.db_setting, s.name) for s in services]),
        ("URL variable", [(s.url_variable, s.name) for s in services]),
    ):
        owners: dict = {}
        for value, name in claims:
            owners.setdefault(value, []).append(name)
        for value, names in owners.items():
            if len(names) > 1:
                problems.append(f"{what} {value!r} is claimed by {' and '.join(names)}")
