"""The deploy files (deploy/k8s, docker-compose.yml, the generated Procfile) stay in step with the
service registry and the code.

Nothing here is a hard-coded list: the services, their packages, ports and processes are the
registry's (shared/crm_platform/services.toml), and each has its folder services/<name> with a
pyproject.toml; its environment variables are the fields of its Settings schema (the
PlatformSettings subclass in `<package>.config`); its image is its project name; its uid is the
Dockerfile's USER.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import re
import runpy
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from unittest import mock

import pytest
import yaml

from crm_platform import registry
from crm_platform.settings import PersonalDataSettings, PlatformSettings
from crm_platform.web import PROBE_PATHS

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
COMPOSE = REPO / "docker-compose.yml"
PROCFILE_SCRIPT = REPO / "scripts" / "procfile.py"
DOCKERFILE = REPO / "Dockerfile"  # one for every service, told which by the build argument SERVICE
PROCESS_KINDS = registry.PROCESS_KINDS
# Read by gunicorn.conf.py or the Python runtime, not by the Settings schemas.
RUNTIME_EXTRAS = frozenset({
    "BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE",
})
# The outgoing mail settings (crm_platform.mail, docs/mail.md): the services holding personal data
# (PersonalDataSettings) mail people, from their workers' mail dispatch. Until their Settings schemas name
# them (crm_platform.settings.MailSettings) they count as extras of those workers here.
MAIL_SETTINGS = frozenset({"SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "MAIL_FROM"})
MAIL_SECRETS = frozenset({"SMTP_USERNAME", "SMTP_PASSWORD"})
HEARTBEAT_MODULE = "crm_platform.heartbeat"
NAME_LABEL = "app.kubernetes.io/name"


# --- the truth, from the code ----------------------------------------------------------------

@dataclass(frozen=True)
class Service:
    name: str  # the registry's name, also the directory under services/
    package: str
    project: str  # [project] name in pyproject.toml, also the image name
    processes: tuple[str, ...]  # the registry's process kinds
    schema: type[PlatformSettings]
    entry: registry.Service

    @property
    def root(self) -> Path:
        return REPO / "services" / self.name

    @property
    def settings(self) -> dict:
        return self.schema().fields

    @property
    def required(self) -> set[str]:
        return {name for name, f in self.settings.items() if f.required}

    def required_by(self, kind: str | None) -> set[str]:
        """What a process of this kind needs: the required settings, and those marked required by its kind
        (metadata `required_by`, e.g. privacy's signing key, which only its API holds)."""
        return self.required | {name for name, f in self.settings.items()
                                if kind in f.metadata.get("required_by", ())}

    def process_names(self) -> set[str]:
        return {f"{self.name}-{kind}" for kind in self.processes}

    def module(self, kind: str) -> str:
        """The module a process runs: the registry's target without its app (api) or as it is (worker)."""
        return self.entry.process(kind).target.split(":")[0]

    def uid(self) -> str:
        found = re.findall(r"^USER\s+(\S+)", DOCKERFILE.read_text(), re.M)
        assert found, "Dockerfile has no USER line"
        return found[-1]

    def bind_port(self, env: dict) -> int:
        """The port gunicorn.conf.py binds to with this environment (BIND or its default)."""
        with mock.patch.dict(os.environ):
            os.environ.pop("BIND", None)
            if env.get("BIND"):
                os.environ["BIND"] = env["BIND"]
            bind = runpy.run_path(str(self.root / "gunicorn.conf.py"))["bind"]
        return int(bind.rsplit(":", 1)[1])


def _settings_schema(package: str) -> type[PlatformSettings]:
    module = importlib.import_module(f"{package}.config")
    found = [c for _, c in inspect.getmembers(module, inspect.isclass)
             if issubclass(c, PlatformSettings) and c.__module__ == module.__name__]
    assert len(found) == 1, f"{package}.config should define one PlatformSettings subclass, found {found}"
    return found[0]


def service_folders() -> set[str]:
    return {p.parent.name for p in (REPO / "services").glob("*/pyproject.toml")}


@cache
def services() -> dict[str, Service]:
    found = {}
    for entry in registry.load().services:
        pyproject = REPO / "services" / entry.name / "pyproject.toml"
        if not pyproject.is_file():
            continue  # reported by test_every_registry_service_has_its_folder_and_every_folder_its_entry
        project = tomllib.loads(pyproject.read_text())["project"]["name"]
        kinds = tuple(p.kind for p in entry.processes)
        found[entry.name] = Service(entry.name, entry.package, project, kinds, _settings_schema(entry.package), entry)
    return found


def process_names() -> dict[str, tuple[Service, str]]:
    return {f"{s.name}-{kind}": (s, kind) for s in services().values() for kind in s.processes}


# --- what the deploy files say ---------------------------------------------------------------

@dataclass
class Workload:
    """One process as a deploy file runs it."""
    where: str
    name: str
    service: Service
    command: str
    env: dict[str, str | None]  # None: from a Secret
    raw: dict = field(repr=False)  # the k8s container or the compose service
    problems: list[str] = field(default_factory=list)  # references to ConfigMaps / Secrets that do not resolve
    pod: dict | None = field(default=None, repr=False)  # k8s pod spec
    kind: str = ""  # Deployment, Job, compose

    @property
    def id(self) -> str:
        return f"{'compose' if self.kind == 'compose' else 'k8s-' + self.kind}:{self.name}"

    @property
    def process(self) -> str | None:
        known = process_names().get(self.name)
        return known[1] if known and known[0] is self.service else None


def _dockerfile_cmd(service: Service) -> str:
    cmd = re.findall(r"^CMD\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.M)
    return " ".join(json.loads(cmd[-1])) if cmd else ""


def _service_of_image(image: str, where: str) -> Service:
    name = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    by_project = {s.project: s for s in services().values()}
    assert name in by_project, f"{where}: image {image!r} is no service's image (project names: {sorted(by_project)})"
    return by_project[name]


def load_renderer():
    """deploy/k8s/render.py: renders a kustomization as `kubectl kustomize` does (the part of kustomize we use)."""
    spec = importlib.util.spec_from_file_location("k8s_render", K8S / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def k8s_docs() -> tuple[tuple[str, dict], ...]:
    """The base as kustomize renders it, the one-off jobs and the example Secret (the overlays:
    tests/test_k8s_overlays.py)."""
    base = K8S / "base"
    docs = [(f"{base.relative_to(REPO)}: {d['kind']} {d['metadata']['name']}", d) for d in load_renderer().render(base)]
    for path in [*sorted((K8S / "jobs").glob("*.yaml")), *sorted(K8S.glob("*.example.yaml"))]:
        docs += [(str(path.relative_to(REPO)), d) for d in yaml.safe_load_all(path.read_text()) if d]
    return tuple(docs)


def k8s_objects(kind: str) -> list[tuple[str, dict]]:
    return [(where, d) for where, d in k8s_docs() if d.get("kind") == kind]


def _k8s_sources(kind: str) -> dict[str, dict[str, str | None]]:
    sources = {}
    for _, doc in k8s_objects(kind):
        data = {**doc.get("data", {}), **doc.get("stringData", {})}
        sources[doc["metadata"]["name"]] = {k: (None if kind == "Secret" else str(v)) for k, v in data.items()}
    return sources


def _k8s_env(container: dict, where: str, problems: list[str]) -> dict[str, str | None]:
    """The container's variables: env and envFrom resolved through the ConfigMap and Secret manifests."""
    sources = {"configMap": _k8s_sources("ConfigMap"), "secret": _k8s_sources("Secret")}
    env = {}
    for item in container.get("envFrom", []):
        (ref_kind, ref), = [(k[: -len("Ref")], v) for k, v in item.items() if k.endswith("Ref")]
        if ref["name"] not in sources[ref_kind]:
            problems.append(f"{where}: envFrom {ref_kind} {ref['name']!r}, which deploy/k8s does not define")
        env.update({item.get("prefix", "") + k: v for k, v in sources[ref_kind].get(ref["name"], {}).items()})
    for item in container.get("env", []):
        if "valueFrom" not in item:
            env[item["name"]] = str(item.get("value", ""))
            continue
        (ref_kind, ref), = [(k[: -len("KeyRef")], v) for k, v in item["valueFrom"].items() if k.endswith("KeyRef")]
        values = sources[ref_kind].get(ref["name"], {})
        if ref["key"] not in values:
            problems.append(f"{where}: {item['name']} comes from {ref_kind} {ref['name']!r} key {ref['key']!r}, "
                            "which deploy/k8s does not define")
        env[item["name"]] = values.get(ref["key"])
    return env


@cache
def k8s_workloads() -> tuple[Workload, ...]:
    found = []
    for kind in ("Deployment", "Job"):
        for path, doc in k8s_objects(kind):
            pod = doc["spec"]["template"]["spec"]
            name = doc["metadata"].get("name") or doc["metadata"]["generateName"].rstrip("-")
            for c in pod["containers"]:
                where = f"{path}: {kind} {name}, container {c['name']}"
                service = _service_of_image(c["image"], where)
                command = " ".join(c.get("command", []) + c.get("args", [])) or _dockerfile_cmd(service)
                problems: list[str] = []
                env = _k8s_env(c, where, problems)
                found.append(Workload(where, name, service, command, env, raw=c, problems=problems, pod=pod, kind=kind))
    return tuple(found)


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _compose_env(svc: dict) -> dict[str, str | None]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def _as_list(value) -> list[str]:
    return value.split() if isinstance(value, str) else list(value or [])


@cache
def compose_workloads() -> tuple[Workload, ...]:
    found = []
    for name, svc in compose()["services"].items():
        if "build" not in svc:
            continue  # infrastructure from a public image (kafka, mongo)
        where = f"docker-compose.yml: service {name}"
        dockerfile = Path(svc["build"].get("context", ".")) / svc["build"].get("dockerfile", "Dockerfile")
        assert dockerfile == DOCKERFILE.relative_to(REPO), f"{where}: builds {dockerfile}, not the one Dockerfile"
        owner = services().get((svc["build"].get("args") or {}).get("SERVICE"))
        assert owner, f"{where}: build args SERVICE is {svc['build'].get('args')}, expected one of {sorted(services())}"
        if "image" in svc:
            same = _service_of_image(svc["image"], where) is owner
            assert same, f"{where}: tags {svc['image']} what it builds from {dockerfile}, expected {owner.project}"
        command = " ".join(_as_list(svc.get("entrypoint")) + _as_list(svc.get("command"))) or _dockerfile_cmd(owner)
        found.append(Workload(where, name, owner, command, _compose_env(svc), raw=svc, kind="compose"))
    return tuple(found)


@cache
def procfile() -> dict[str, str]:
    """What scripts/procfile.py writes for `make run`."""
    text = runpy.run_path(str(PROCFILE_SCRIPT))["procfile"](registry.load())
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {name.strip(): command.strip() for name, command in (line.split(":", 1) for line in lines)}


def all_workloads() -> list[Workload]:
    return [*k8s_workloads(), *compose_workloads()]


def _ids(workloads):
    return [w.id for w in workloads]


def _heartbeat_file(w: Workload) -> str:
    assert "WORKER_HEARTBEAT_FILE" in w.service.settings, f"{w.service.schema.__name__} has no WORKER_HEARTBEAT_FILE"
    return w.env.get("WORKER_HEARTBEAT_FILE") or w.service.settings["WORKER_HEARTBEAT_FILE"].load_default


def _container_port(container: dict, port) -> int | None:
    if isinstance(port, int):
        return port
    return next((p["containerPort"] for p in container.get("ports", []) if p.get("name") == port), None)


def _single_label_urls(env: dict) -> list[tuple[str, str, int]]:
    """(variable, host, port) of every http(s) URL whose host is a bare name: a Service / compose service."""
    urls = [(k, re.match(r"^https?://([a-z0-9-]+)(?::(\d+))?(?:/|$)", v or "")) for k, v in env.items()]
    return [(k, m[1], int(m[2] or 80)) for k, m in urls if m]


# --- the checks --------------------------------------------------------------------------------

def test_every_registry_service_has_its_folder_and_every_folder_its_entry():
    named = {s.name for s in registry.load().services}
    assert named - service_folders() == set(), (
        f"{registry.SOURCE} names {sorted(named - service_folders())}, which have no services/<name>/pyproject.toml")
    assert service_folders() - named == set(), (
        f"services/{sorted(service_folders() - named)} have no entry in {registry.SOURCE}")


def test_the_services_and_their_processes_are_found():
    assert services(), f"no service in {registry.SOURCE}: the test would check nothing"
    for s in services().values():
        assert s.processes == PROCESS_KINDS, f"{registry.SOURCE}: {s.name} should have an api and a worker process"
        for kind in s.processes:
            module = s.module(kind).replace(".", "/") + ".py"
            assert (s.root / module).is_file(), f"{registry.SOURCE}: {s.name}'s {kind} runs {s.module(kind)}, " \
                                                f"but services/{s.name}/{module} does not exist"


def test_each_service_listens_reads_its_database_and_produces_as_its_registry_entry_says():
    for s in services().values():
        assert s.bind_port({}) == s.entry.port, f"services/{s.name}/gunicorn.conf.py does not bind {s.entry.port}"
        assert s.entry.db_setting in s.settings, f"{s.schema.__name__} has no {s.entry.db_setting} (the db_setting)"
        config = importlib.import_module(f"{s.package}.config")
        topic = getattr(config, "EVENTS_TOPIC", None)
        assert topic in s.entry.produces, f"{s.package}.config.EVENTS_TOPIC is {topic}, {registry.SOURCE} says " \
                                          f"{s.name} produces {s.entry.produces}"


def test_the_gateway_is_given_the_url_of_each_service_behind_it():
    gateway = next(s for s in services().values() if s.entry.public)
    for upstream in registry.load().upstreams:
        assert upstream.url_variable in gateway.required, f"{gateway.schema.__name__} lacks {upstream.url_variable}"


@pytest.mark.parametrize("label", ["deploy/k8s Deployments", "docker-compose.yml services", "Procfile entries"])
def test_every_process_is_deployed(label):
    present = {
        "deploy/k8s Deployments": lambda: {d["metadata"]["name"] for _, d in k8s_objects("Deployment")},
        "docker-compose.yml services": lambda: set(compose()["services"]),
        "Procfile entries": lambda: set(procfile()),
    }[label]()
    missing = set(process_names()) - present
    assert not missing, f"{label} lack {sorted(missing)}: every service in {registry.SOURCE} runs its processes"


def test_no_deploy_file_names_a_process_that_does_not_exist():
    known, pattern = process_names(), re.compile(r"-(%s)$" % "|".join(PROCESS_KINDS))
    named = [(f"{where}: Deployment", d["metadata"]["name"]) for where, d in k8s_objects("Deployment")]
    named += [(f"{where}: Service", d["metadata"]["name"]) for where, d in k8s_objects("Service")]
    named += [("docker-compose.yml: service", n) for n in compose()["services"] if pattern.search(n)]
    named += [("Procfile: entry", n) for n in procfile()]
    unknown = [f"{what} {name}" for what, name in named if name not in known]
    assert not unknown, f"these name no process of {registry.SOURCE}: {unknown}; the processes are {sorted(known)}"
    for name, svc in compose()["services"].items():
        for target in svc.get("depends_on") or {}:
            assert target in compose()["services"], f"docker-compose.yml: {name} depends on {target}, no such service"


@pytest.mark.parametrize("w", all_workloads(), ids=_ids(all_workloads()))
def test_each_workload_runs_the_process_it_is_named_after(w):
    if w.kind == "Deployment" or w.name in process_names():
        assert w.process, (f"{w.where}: named {w.name} but runs the image {w.service.project}, "
                           f"whose processes are {sorted(w.service.process_names())}")
    expected = w.service.module(w.process) if w.process else f"{w.service.package}.entrypoints."
    assert expected in w.command, f"{w.where}: runs `{w.command}`, expected it to run {expected}"


@pytest.mark.parametrize("name, command", procfile().items(), ids=list(procfile()))
def test_each_procfile_entry_runs_its_process(name, command):
    assert name in process_names(), f"Procfile: {name} is not a process of {registry.SOURCE}"
    service, kind = process_names()[name]
    assert service.module(kind) in command, f"Procfile: {name} runs `{command}`, expected {service.module(kind)}"


@pytest.mark.parametrize("w", all_workloads(), ids=_ids(all_workloads()))
def test_each_workload_gets_exactly_its_settings(w):
    assert not w.problems, "\n".join(w.problems)
    schema = f"{w.service.schema.__module__}.{w.service.schema.__name__}"
    missing = w.service.required_by(w.process) - set(w.env)
    assert not missing, f"{w.where}: required settings {sorted(missing)} of {schema} are not provided"
    extras = RUNTIME_EXTRAS | (MAIL_SETTINGS | MAIL_SECRETS if w in MAILING_WORKERS else set())
    unknown = set(w.env) - set(w.service.settings) - extras
    assert not unknown, (f"{w.where}: gives {sorted(unknown)}, which are neither settings of {schema} "
                         f"nor runtime extras {sorted(RUNTIME_EXTRAS)}")


@pytest.mark.parametrize("w", all_workloads(), ids=_ids(all_workloads()))
def test_each_given_value_passes_its_settings_validation(w):
    # Compose's ${VAR:-default} is checked with its default; values from Secrets are not known here.
    known = {k: re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", v)
             for k, v in w.env.items() if v is not None and k in w.service.settings}
    errors = w.service.schema().validate(known, partial=True)
    assert not errors, f"{w.where}: invalid values for {w.service.schema.__name__}: {errors}"


MAILING_WORKERS = [w for w in all_workloads()
                   if w.process == "worker" and issubclass(w.service.schema, PersonalDataSettings)]


def test_the_mail_settings_go_to_the_workers_of_some_services_and_only_theirs():
    assert MAILING_WORKERS and {w.service.name for w in MAILING_WORKERS} < set(services())
    for w in all_workloads():
        if w not in MAILING_WORKERS and w.service.name not in {m.service.name for m in MAILING_WORKERS}:
            given = (MAIL_SETTINGS | MAIL_SECRETS) & set(w.env)
            assert not given, f"{w.where}: {sorted(given)}, but {w.service.name} sends no mail"


@pytest.mark.parametrize("w", MAILING_WORKERS, ids=_ids(MAILING_WORKERS))
def test_each_worker_is_given_the_mail_settings_and_the_mail_secrets_by_reference(w):
    missing = MAIL_SETTINGS - set(w.env)
    assert not missing, f"{w.where}: no {sorted(missing)}: its mail dispatch could not send"
    if w.kind == "compose":
        return  # compose sends to its mail catcher, which asks for no login
    missing = MAIL_SECRETS - set(w.env)
    assert not missing, f"{w.where}: no {sorted(missing)}: it could not log in to a relay that asks for it"
    inline = [i["name"] for i in w.raw.get("env", []) if i["name"] in MAIL_SECRETS and "valueFrom" not in i]
    assert not inline, f"{w.where}: {inline} written in the manifest, not taken from the Secret"
    assert all(w.env[name] is None for name in MAIL_SECRETS), f"{w.where}: SMTP credentials outside the Secret"


@pytest.mark.parametrize("w", MAILING_WORKERS, ids=_ids(MAILING_WORKERS))
def test_each_worker_sends_from_an_address_a_validator_accepts(w):
    # Checked here until the Settings schemas name MAIL_FROM (then with their validation, above).
    email_validator = pytest.importorskip("email_validator")
    try:
        email_validator.validate_email(w.env["MAIL_FROM"], check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        pytest.fail(f"{w.where}: MAIL_FROM {w.env['MAIL_FROM']!r}: {exc}")


# Only workloads given service URLs (the gateway's): for the others this test would assert nothing.
URL_WORKLOADS = [w for w in all_workloads() if _single_label_urls(w.env)]


def test_the_gateways_workloads_are_given_urls_to_check():
    assert {w.service.name for w in URL_WORKLOADS} >= {"gateway"} and len(URL_WORKLOADS) >= 2


@pytest.mark.parametrize("w", URL_WORKLOADS, ids=_ids(URL_WORKLOADS))
def test_urls_point_at_a_service_that_listens_there(w):
    for variable, host, port in _single_label_urls(w.env):
        if w.kind == "compose":
            target = next((t for t in compose_workloads() if t.name == host and t.process == "api"), None)
            assert target, f"{w.where}: {variable} points at {host}, which is no api service in docker-compose.yml"
            listens = target.service.bind_port(target.env)
            assert port == listens, f"{w.where}: {variable} uses port {port}, {host} listens on {listens}"
        else:
            ports = [p["port"] for _, s in k8s_objects("Service") if s["metadata"]["name"] == host
                     for p in s["spec"]["ports"]]
            assert port in ports, f"{w.where}: {variable} points at {host}:{port}; Services there: {ports or 'none'}"


K8S_DEPLOYMENTS = [w for w in k8s_workloads() if w.kind == "Deployment"]


@pytest.mark.parametrize("w", K8S_DEPLOYMENTS, ids=_ids(K8S_DEPLOYMENTS))
def test_each_deployment_is_probed_the_way_its_process_can_answer(w):
    for probe in ("livenessProbe", "readinessProbe"):
        assert probe in w.raw, f"{w.where}: no {probe}"
    probes = {k: v for k, v in w.raw.items() if k.endswith("Probe")}
    if w.process == "api":
        port = w.service.bind_port(w.env)
        declared = [p["containerPort"] for p in w.raw.get("ports", [])]
        assert port in declared, f"{w.where}: gunicorn listens on {port}, the container declares {declared}"
        for kind, probe in probes.items():
            path, probe_port = probe.get("httpGet", {}).get("path"), probe.get("httpGet", {}).get("port")
            # Only these paths skip the internal token check; any other would answer 401.
            assert path in PROBE_PATHS, f"{w.where}: {kind} gets {path}, expected one of {sorted(PROBE_PATHS)}"
            assert _container_port(w.raw, probe_port) == port, f"{w.where}: {kind} port {probe_port} is not {port}"
    else:
        beat = _heartbeat_file(w)
        for kind, probe in probes.items():
            command = " ".join(probe.get("exec", {}).get("command", []))
            assert HEARTBEAT_MODULE in command and beat in command.split(), (
                f"{w.where}: {kind} runs `{command}`, expected `python -m {HEARTBEAT_MODULE} {beat} <max age>`")


K8S_API_DEPLOYMENTS = [w for w in K8S_DEPLOYMENTS if w.process == "api"]


@pytest.mark.parametrize("w", K8S_API_DEPLOYMENTS, ids=_ids(K8S_API_DEPLOYMENTS))
def test_each_api_has_a_service_in_front(w):
    found = [s for _, s in k8s_objects("Service") if s["metadata"]["name"] == w.name]
    assert found, f"{w.where}: no Service named {w.name} in deploy/k8s"
    spec = found[0]["spec"]
    deployment = next(d for _, d in k8s_objects("Deployment") if d["metadata"]["name"] == w.name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert spec["selector"].items() <= labels.items(), f"Service {w.name}: selector {spec['selector']} misses {labels}"
    port = w.service.bind_port(w.env)
    for p in spec["ports"]:
        target = p.get("targetPort", p["port"])
        assert _container_port(w.raw, target) == port, f"Service {w.name}: targetPort {target} is not gunicorn's {port}"


K8S_WORKLOADS = list(k8s_workloads())


@pytest.mark.parametrize("w", K8S_WORKLOADS, ids=_ids(K8S_WORKLOADS))
def test_each_pod_is_hardened_and_sized(w):
    ctx = w.raw.get("securityContext", {})
    effective = {**w.pod.get("securityContext", {}), **ctx}  # the container's context overrides the pod's
    for part in ("requests", "limits"):
        given = w.raw.get("resources", {}).get(part, {})
        assert {"cpu", "memory"} <= set(given), f"{w.where}: resources.{part} needs cpu and memory, has {sorted(given)}"
    assert effective.get("runAsNonRoot") is True, f"{w.where}: runAsNonRoot is not true"
    uid = str(effective.get("runAsUser"))
    assert uid == w.service.uid(), f"{w.where}: runAsUser {uid} is not the Dockerfile's USER {w.service.uid()}"
    assert ctx.get("readOnlyRootFilesystem") is True, f"{w.where}: readOnlyRootFilesystem is not true"
    assert ctx.get("allowPrivilegeEscalation") is False, f"{w.where}: allowPrivilegeEscalation is not false"
    assert "ALL" in ctx.get("capabilities", {}).get("drop", []), f"{w.where}: capabilities do not drop ALL"
    seccomp = effective.get("seccompProfile", {}).get("type")
    assert seccomp == "RuntimeDefault", f"{w.where}: seccompProfile is {seccomp}, not RuntimeDefault"
    # With a read-only root, /tmp (heartbeat file, gunicorn's worker files) must be a writable volume.
    empty_dirs = {v["name"] for v in w.pod.get("volumes", []) if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in w.raw.get("volumeMounts", [])}
    assert mounts.get("/tmp") in empty_dirs, f"{w.where}: /tmp is not an emptyDir mount"
    if w.process == "worker":
        beat = _heartbeat_file(w)
        assert beat.startswith("/tmp/"), f"{w.where}: heartbeat file {beat} is not on the writable /tmp"
    if w.kind == "Deployment":
        assert "terminationGracePeriodSeconds" in w.pod, f"{w.where}: no terminationGracePeriodSeconds"


COMPOSE_PROCESSES = [w for w in compose_workloads() if w.process]


@pytest.mark.parametrize("w", COMPOSE_PROCESSES, ids=_ids(COMPOSE_PROCESSES))
def test_each_compose_process_is_health_checked_and_waits_for_healthy_dependencies(w):
    test = w.raw.get("healthcheck", {}).get("test", [])
    test = test if isinstance(test, str) else " ".join(test)
    if w.process == "api":
        port = w.service.bind_port(w.env)
        assert any(f":{port}{path}" in test for path in PROBE_PATHS), (
            f"{w.where}: healthcheck `{test}` does not get :{port}/healthz")
    else:
        beat = _heartbeat_file(w)
        assert HEARTBEAT_MODULE in test and beat in test.split(), (
            f"{w.where}: healthcheck `{test}` does not check the heartbeat file {beat}")
    depends = w.raw.get("depends_on") or {}
    assert isinstance(depends, dict), f"{w.where}: depends_on should give a condition per service"
    for target, how in depends.items():
        assert how.get("condition") == "service_healthy", f"{w.where}: should wait for {target} to be service_healthy"
        assert "healthcheck" in compose()["services"][target], f"{w.where}: waits for {target}, it has no healthcheck"


def test_each_service_behind_the_gateway_accepts_only_the_gateway():
    gateway_api = registry.load().public.process("api").name
    policies = [d for _, d in k8s_objects("NetworkPolicy")]
    for upstream in registry.load().upstreams:
        api = upstream.process("api").name
        found = [p for p in policies if p["spec"]["podSelector"].get("matchLabels", {}).get(NAME_LABEL) == api]
        assert found, f"deploy/k8s: no NetworkPolicy selects {api}: only {gateway_api} should reach it"
        sources = {f.get("podSelector", {}).get("matchLabels", {}).get(NAME_LABEL)
                   for rule in found[0]["spec"].get("ingress", []) for f in rule.get("from", [])}
        assert sources == {gateway_api}, f"NetworkPolicy {found[0]['metadata']['name']}: {api} accepts {sources}"


def _pod_annotations(w: Workload) -> dict:
    (doc,) = [d for _, d in k8s_objects("Deployment") if d["metadata"]["name"] == w.name]
    return doc["spec"]["template"]["metadata"].get("annotations", {})


@pytest.mark.parametrize("w", K8S_DEPLOYMENTS, ids=_ids(K8S_DEPLOYMENTS))
def test_each_deployment_is_scraped_where_it_serves_its_metrics(w):
    """An API serves /metrics on its own port to METRICS_TOKEN; a worker on METRICS_PORT (crm_platform.metrics)."""
    annotations = _pod_annotations(w)
    assert annotations.get("prometheus.io/scrape") == "true", f"{w.where}: no prometheus.io/scrape annotation"
    assert annotations.get("prometheus.io/path") == "/metrics", f"{w.where}: prometheus.io/path is not /metrics"
    if w.process == "api":
        port = w.service.bind_port(w.env)
        assert "METRICS_TOKEN" in w.env, f"{w.where}: no METRICS_TOKEN: its /metrics would answer 404"
        if w.service.name == registry.load().public.name:
            assert w.env.get("GATEWAY_SERVES_METRICS") == "true", f"{w.where}: GATEWAY_SERVES_METRICS is not true: 404"
    else:
        port = int(w.env.get("METRICS_PORT") or 0)
        assert port, f"{w.where}: no METRICS_PORT: the worker would serve no metrics"
        assert _container_port(w.raw, "metrics") == port, f"{w.where}: no container port `metrics` = {port}"
    assert annotations.get("prometheus.io/port") == str(port), f"{w.where}: prometheus.io/port is not {port}"


def test_prometheus_reaches_the_metrics_of_every_process_but_is_kept_off_the_public_api():
    """The scrape policy admits Prometheus alone, on the metric ports, and does not select the gateway (its own
    policy, gateway-api-public, admits everyone to its port; what each pod admits: tests/test_k8s_overlays.py)."""
    (policy,) = [d for _, d in k8s_objects("NetworkPolicy") if d["metadata"]["name"] == "scraped-by-prometheus"]
    expressions = {e["key"]: (e["operator"], set(e["values"])) for e in policy["spec"]["podSelector"]["matchExpressions"]}
    public_api = registry.load().public.process("api").name
    assert expressions == {"app.kubernetes.io/component": ("In", set(PROCESS_KINDS)), NAME_LABEL: ("NotIn", {public_api})}
    (rule,) = policy["spec"]["ingress"]
    assert [f["podSelector"]["matchLabels"] for f in rule["from"]] == [{NAME_LABEL: "prometheus"}]
    assert {p["port"] for p in rule["ports"]} == {"http", "metrics"}


def test_the_base_lists_every_manifest_and_image():
    base = K8S / "base"
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    absent = sorted(r for r in listed if not (base / r).exists())
    assert not absent, f"deploy/k8s/base/kustomization.yaml lists {absent}, which do not exist"
    manifests = {p.name for p in base.glob("*.yaml")} - {"kustomization.yaml"}
    unlisted = sorted(manifests - listed)
    assert not unlisted, f"deploy/k8s/base/kustomization.yaml does not list {unlisted}"
    secrets = [where for where, d in k8s_docs() if d["kind"] == "Secret" and where.startswith("deploy/k8s/base")]
    assert not secrets, f"{secrets}: the base refers to the Secret, it never holds one (see secret.example.yaml)"
    projects = {s.project for s in services().values()}
    images = {i["name"] for i in kustomization.get("images", [])}
    assert images == projects, f"base/kustomization.yaml sets images {sorted(images)}, the services' are {sorted(projects)}"


def test_compose_runs_the_kafka_version_the_local_infra_runs():
    pom = (REPO / "infra" / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom)[1]
    image = compose()["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{version}", (
        f"docker-compose.yml runs {image}; make run / make test run Kafka {version} (infra/kafka/pom.xml)")
