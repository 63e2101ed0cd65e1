"""Every overlay of deploy/k8s (dev, prod), rendered as kustomize renders it, runs every process of the
service registry and runs it safely.

Each check is a function from the rendered objects to a list of problems, so that the tests at the end
can show that it finds what it is meant to find in a deliberately broken copy of deploy/k8s. The
objects are rendered by deploy/k8s/render.py (kubectl is no dependency of the project); where kubectl
is installed, one test checks that `kubectl kustomize` renders the same. The objects are then checked
against the Kubernetes API's own schemas, which the PyPI package kubernetes-validate ships (offline).
"""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from crm_platform import registry

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.32.0"  # the oldest we support: HPA autoscaling/v2 and PDB policy/v1 are GA long before
NAME = "app.kubernetes.io/name"
SECRET = "crm-secrets"  # referred to, never rendered: secret.example.yaml shows its keys
# Variables that hold credentials by their name, whatever a future manifest calls them.
SECRET_LIKE = re.compile(r"(PASSWORD|TOKEN|SECRET|_KEY|USERNAME|_URI)$")


def _load_renderer():
    spec = importlib.util.spec_from_file_location("k8s_render", K8S / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RENDERER = _load_renderer()
render = RENDERER.render


@cache
def rendered(overlay: str) -> tuple[dict, ...]:
    return tuple(render(K8S / "overlays" / overlay))


def secret_keys(root: Path = K8S) -> set[str]:
    (example,) = [d for d in yaml.safe_load_all((root / "secret.example.yaml").read_text()) if d]
    assert example["metadata"]["name"] == SECRET
    return set(example["stringData"])


def of(objects, kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def pods(objects) -> list[tuple[dict, dict]]:
    """(Deployment, its pod template) for every Deployment."""
    return [(d, d["spec"]["template"]) for d in of(objects, "Deployment")]


def selects(selector: dict, labels: dict) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for e in selector.get("matchExpressions", []):
        has, value = e["key"] in labels, labels.get(e["key"])
        ok = {"In": has and value in e.get("values", []), "NotIn": not has or value not in e.get("values", []),
              "Exists": has, "DoesNotExist": not has}[e["operator"]]
        if not ok:
            return False
    return True


def _process(deployment: dict) -> tuple[registry.Service, str] | None:
    name = deployment["metadata"]["name"]
    return next(((s, p.kind) for s in registry.load().services for p in s.processes if p.name == name), None)


def image_name(service: registry.Service) -> str:
    """A service's image is named after its project (services/<name>/pyproject.toml), as the base's `images` say."""
    return tomllib.loads((REPO / "services" / service.name / "pyproject.toml").read_text())["project"]["name"]


def _containers(template: dict) -> list[dict]:
    return template["spec"].get("containers", []) + template["spec"].get("initContainers", [])


# --- the checks: each returns its problems ---------------------------------------------------------

def missing_processes(objects) -> list[str]:
    """Every process of the registry has its Deployment, every API its Service in front of it."""
    deployments = {d["metadata"]["name"] for d in of(objects, "Deployment")}
    services = {s["metadata"]["name"] for s in of(objects, "Service")}
    problems = [f"no Deployment {p.name}" for p in registry.load().processes if p.name not in deployments]
    problems += [f"no Service {p.name}" for p in registry.load().processes if p.kind == "api" and p.name not in services]
    problems += [f"Deployment {name} runs no process of {registry.SOURCE}"
                 for name in deployments if not _process({"metadata": {"name": name}})]
    return problems


def missing_probes(objects) -> list[str]:
    """APIs are probed on /healthz (alive) and /readyz (its dependencies answer); workers on their heartbeat."""
    problems = []
    for deployment, template in pods(objects):
        known = _process(deployment)
        for c in template["spec"]["containers"]:
            where = f"Deployment {deployment['metadata']['name']} container {c['name']}"
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                if probe not in c:
                    problems.append(f"{where}: no {probe}")
                elif known and known[1] == "api" and c[probe].get("httpGet", {}).get("path") != path:
                    problems.append(f"{where}: {probe} does not get {path}")
                elif known and known[1] == "worker" and "crm_platform.heartbeat" not in c[probe].get("exec", {}).get("command", []):
                    problems.append(f"{where}: {probe} does not check the heartbeat (python -m crm_platform.heartbeat)")
    return problems


def unsized(objects) -> list[str]:
    """Every container requests CPU and memory (the scheduler and the autoscalers need it) and is limited."""
    problems = []
    for deployment, template in pods(objects):
        for c in _containers(template):
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(c.get("resources", {}).get(part, {})):
                    problems.append(f"Deployment {deployment['metadata']['name']} container {c['name']}: "
                                    f"resources.{part} lacks cpu or memory")
    return problems


def unhardened(objects) -> list[str]:
    """No overlay undoes the base's hardening (the namespace's `restricted` Pod Security Standard would refuse
    the pods at run time; this says so before an apply)."""
    problems = []
    for deployment, template in pods(objects):
        pod = template["spec"].get("securityContext", {})
        for c in _containers(template):
            ctx = c.get("securityContext", {})
            effective = {**pod, **ctx}
            wrong = [what for what, ok in (
                ("runAsNonRoot", effective.get("runAsNonRoot") is True),
                ("readOnlyRootFilesystem", ctx.get("readOnlyRootFilesystem") is True),
                ("allowPrivilegeEscalation", ctx.get("allowPrivilegeEscalation") is False),
                ("capabilities.drop ALL", "ALL" in ctx.get("capabilities", {}).get("drop", [])),
                ("seccompProfile RuntimeDefault", effective.get("seccompProfile", {}).get("type") == "RuntimeDefault"),
            ) if not ok]
            if wrong:
                problems.append(f"Deployment {deployment['metadata']['name']} container {c['name']}: {wrong}")
    return problems


def unprotected(objects) -> list[str]:
    """Every API autoscales on CPU (autoscaling/v2) and leaves its count to the autoscaler (an apply of a count
    would scale it back down under load); every process has a disruption budget for its own pods only."""
    problems = []
    templates = {d["metadata"]["name"]: t["metadata"]["labels"] for d, t in pods(objects)}
    counts = {d["metadata"]["name"]: d["spec"].get("replicas") for d in of(objects, "Deployment")}
    scaled = {}
    for hpa in of(objects, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        scaled[target["name"]] = hpa
        if hpa["apiVersion"] != "autoscaling/v2" or target["kind"] != "Deployment" or target["name"] not in templates:
            problems.append(f"HorizontalPodAutoscaler {hpa['metadata']['name']}: targets no Deployment of ours")
        resources = {m["resource"]["name"] for m in hpa["spec"].get("metrics", []) if m["type"] == "Resource"}
        if "cpu" not in resources:
            problems.append(f"HorizontalPodAutoscaler {hpa['metadata']['name']}: does not scale on cpu")
        if not 2 <= hpa["spec"].get("minReplicas", 1) < hpa["spec"]["maxReplicas"]:
            problems.append(f"HorizontalPodAutoscaler {hpa['metadata']['name']}: minReplicas below 2 or not below max")
        if counts.get(target["name"]) is not None:
            problems.append(f"Deployment {target['name']}: sets replicas, which its autoscaler owns")
    budgets = {}
    for pdb in of(objects, "PodDisruptionBudget"):
        chosen = [name for name, labels in templates.items() if selects(pdb["spec"]["selector"], labels)]
        if len(chosen) != 1:
            problems.append(f"PodDisruptionBudget {pdb['metadata']['name']}: selects the pods of {chosen}, not of one Deployment")
        budgets.update(dict.fromkeys(chosen, pdb))
    for p in registry.load().processes:
        if p.kind == "api" and p.name not in scaled:
            problems.append(f"no HorizontalPodAutoscaler for {p.name}")
        if p.name not in budgets:
            problems.append(f"no PodDisruptionBudget for {p.name}")
    return problems


def not_spread(objects) -> list[str]:
    """Replicas of one process prefer different nodes: a node lost takes one of them, not all."""
    problems = []
    for deployment, template in pods(objects):
        terms = template["spec"].get("affinity", {}).get("podAntiAffinity", {})
        selectors = [t["podAffinityTerm"]["labelSelector"] for t in terms.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
        selectors += [t["labelSelector"] for t in terms.get("requiredDuringSchedulingIgnoredDuringExecution", [])]
        if not any(selects(s, template["metadata"]["labels"]) for s in selectors):
            problems.append(f"Deployment {deployment['metadata']['name']}: no pod anti-affinity to its own replicas")
    return problems


def bad_references(objects, root: Path = K8S) -> list[str]:
    """Images are the services' own, tagged; variables come from a rendered ConfigMap or the Secret's keys."""
    problems = []
    config = {c["metadata"]["name"]: set(c.get("data", {})) for c in of(objects, "ConfigMap")}
    keys = secret_keys(root)
    for deployment, template in pods(objects):
        known = _process(deployment)
        for c in _containers(template):
            where = f"Deployment {deployment['metadata']['name']} container {c['name']}"
            image = c["image"].rsplit("/", 1)[-1]
            name, _, tag = image.partition(":")
            if known and name != image_name(known[0]):
                problems.append(f"{where}: runs the image {c['image']}, not {image_name(known[0])}")
            if not tag or tag == "latest":
                problems.append(f"{where}: image {c['image']} has no fixed tag")
            for source in c.get("envFrom", []):
                if "configMapRef" in source and source["configMapRef"]["name"] not in config:
                    problems.append(f"{where}: envFrom ConfigMap {source['configMapRef']['name']}, which is not rendered")
                if "secretRef" in source:
                    problems.append(f"{where}: envFrom a whole Secret: name each key it needs")
            for item in c.get("env", []):
                ref = item.get("valueFrom", {})
                if "configMapKeyRef" in ref and ref["configMapKeyRef"]["key"] not in config.get(ref["configMapKeyRef"]["name"], ()):
                    problems.append(f"{where}: {item['name']} from a ConfigMap key that is not rendered")
                if "secretKeyRef" in ref and (ref["secretKeyRef"]["name"] != SECRET or ref["secretKeyRef"]["key"] not in keys):
                    problems.append(f"{where}: {item['name']} from {ref['secretKeyRef']}, not a key of {SECRET} "
                                    "(secret.example.yaml)")
    return problems


def inline_secrets(objects, root: Path = K8S) -> list[str]:
    """No credential is written in a rendered manifest: no Secret, no such key in a ConfigMap or an env value."""
    secret = secret_keys(root)
    problems = [f"{o['kind']} {o['metadata']['name']} is rendered: secrets are referred to, created apart"
                for o in of(objects, "Secret")]
    for c in of(objects, "ConfigMap"):
        problems += [f"ConfigMap {c['metadata']['name']}: {key} is a credential" for key in c.get("data", {})
                     if key in secret or SECRET_LIKE.search(key)]
    for deployment, template in pods(objects):
        for c in _containers(template):
            problems += [f"Deployment {deployment['metadata']['name']}: {item['name']} written inline"
                         for item in c.get("env", []) if "valueFrom" not in item
                         and (item["name"] in secret or SECRET_LIKE.search(item["name"]))]
    return problems


def mismatched_selectors(objects) -> list[str]:
    """A Deployment selects its own pods; a Service selects the pods of exactly one Deployment, on a port they name."""
    problems = []
    templates = {d["metadata"]["name"]: t for d, t in pods(objects)}
    for deployment, template in pods(objects):
        if not selects(deployment["spec"]["selector"], template["metadata"].get("labels", {})):
            problems.append(f"Deployment {deployment['metadata']['name']}: its selector misses its pods' labels")
    for service in of(objects, "Service"):
        chosen = [n for n, t in templates.items() if selects({"matchLabels": service["spec"]["selector"]}, t["metadata"]["labels"])]
        if chosen != [service["metadata"]["name"]]:
            problems.append(f"Service {service['metadata']['name']}: selects the pods of {chosen}")
            continue
        ports = {p.get("name") for c in templates[chosen[0]]["spec"]["containers"] for p in c.get("ports", [])}
        ports |= {p["containerPort"] for c in templates[chosen[0]]["spec"]["containers"] for p in c.get("ports", [])}
        problems += [f"Service {service['metadata']['name']}: targetPort {p.get('targetPort')} is no port of its pods"
                     for p in service["spec"]["ports"] if p.get("targetPort", p["port"]) not in ports]
    return problems


def open_pods(objects) -> list[str]:
    """NetworkPolicies select every pod. Only the gateway's API takes connections from anywhere, on its http
    port; the other APIs from the gateway's API (http) and Prometheus; the workers from Prometheus alone, on
    their metrics port."""
    public = registry.load().public.process("api").name
    policies = [p for p in of(objects, "NetworkPolicy") if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])]
    problems = []
    for deployment, template in pods(objects):
        name, labels = deployment["metadata"]["name"], template["metadata"]["labels"]
        container_ports = {p.get("name", p["containerPort"]): p["containerPort"]
                           for c in template["spec"]["containers"] for p in c.get("ports", [])}
        chosen = [p for p in policies if selects(p["spec"]["podSelector"], labels)]
        if not chosen:
            problems.append(f"{name}: no NetworkPolicy selects it: every pod and address can reach it")
            continue
        known = _process(deployment)
        allowed = {"anyone": {"http"}} if name == public else \
                  {"gateway": {"http"}, "prometheus": {"http"}} if known and known[1] == "api" else {"prometheus": {"metrics"}}
        for policy in chosen:
            for rule in policy["spec"].get("ingress", []):
                ports = {p.get("port") for p in rule.get("ports", [])}
                opened = {container_ports[p] for p in ports if p in container_ports} | {p for p in ports if isinstance(p, int)}
                if not ports:
                    opened = set(container_ports.values()) | {"every port"}
                for peer in rule.get("from") or [{"ipBlock": {}}]:
                    who = _peer(peer, public)
                    may = {container_ports[p] for p in allowed.get(who, ()) if p in container_ports}
                    if opened - may:
                        problems.append(f"{name}: NetworkPolicy {policy['metadata']['name']} lets {who} reach "
                                        f"ports {sorted(map(str, opened - may))}")
    return problems


def _peer(peer: dict, public: str) -> str:
    if "ipBlock" in peer or peer == {}:
        return "anyone"
    pod = peer.get("podSelector", {}).get("matchLabels", {})
    if "namespaceSelector" not in peer and pod == {NAME: public}:
        return "gateway"
    if "namespaceSelector" in peer and pod == {NAME: "prometheus"}:
        return "prometheus"
    return f"pods {peer}"


def schema_errors(objects) -> list[str]:
    """Every object is valid for the Kubernetes API (strict: an unknown or misspelt field is an error)."""
    problems = []
    for o in objects:
        try:
            kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(map(str, exc.path))
            problems.append(f"{o['kind']} {o['metadata']['name']}: {path}: {exc.message}")
    return problems


EVERY_OVERLAY = [missing_processes, missing_probes, unsized, unhardened, bad_references, inline_secrets, mismatched_selectors,
                 open_pods, schema_errors]
PRODUCTION = [unprotected, not_spread]
CHECKS = [(check, overlay) for overlay in OVERLAYS for check in EVERY_OVERLAY + (PRODUCTION if overlay == "prod" else [])]


@pytest.mark.parametrize("check, overlay", CHECKS, ids=[f"{o}-{c.__name__}" for c, o in CHECKS])
def test_each_overlay_passes_each_check(check, overlay):
    problems = check(list(rendered(overlay)))
    assert not problems, f"deploy/k8s/overlays/{overlay}:\n  " + "\n  ".join(problems)


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed: nothing to compare with")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_renderer_renders_what_kubectl_kustomize_renders(overlay):
    out = subprocess.run(["kubectl", "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    by_id = lambda objects: {(o["kind"], o["metadata"]["name"]): o for o in objects}  # noqa: E731
    theirs, ours = by_id(d for d in yaml.safe_load_all(out) if d), by_id(rendered(overlay))
    assert set(ours) == set(theirs)
    different = [key for key in ours if ours[key] != theirs[key]]
    assert not different, f"render.py and kubectl kustomize disagree on {different}"


# --- each check finds what it is meant to find, in a deliberately broken copy of deploy/k8s -------

PROBE_BLOCK = re.compile(r"^          readinessProbe:\n(?:            .*\n)+", re.M)
RESOURCES_BLOCK = re.compile(r"^          resources:\n(?:            .*\n)+", re.M)


def _document_named(kind: str, name: str) -> re.Pattern:
    """One YAML document of a multi-document file, by its kind and name (with the `---` after it)."""
    return re.compile(rf"^apiVersion: [^\n]+\nkind: {kind}\nmetadata:\n  name: {name}\n(?:(?!---)[^\n]*\n)*(?:---\n)?", re.M)


BREAKAGES = {
    # check, overlay: (file, pattern, replacement), ... and a word the problem must contain
    "a process not deployed": (missing_processes, "dev", [
        ("base/kustomization.yaml", "  - billing-worker.yaml\n", ""),
        ("overlays/dev/kustomization.yaml", "  - {name: billing-worker, count: 1}\n", "")], "billing-worker"),
    "an API without readiness probe": (missing_probes, "prod", [
        ("base/privacy-api.yaml", PROBE_BLOCK, "")], "privacy-api"),
    "a worker probed over HTTP": (missing_probes, "dev", [
        ("base/billing-worker.yaml", re.compile(r"livenessProbe:\n            exec:\n              command: \[.*\]"),
         "livenessProbe:\n            httpGet: {path: /healthz, port: metrics}")], "billing-worker"),
    "a container without resources": (unsized, "dev", [
        ("base/contacts-api.yaml", RESOURCES_BLOCK, "")], "contacts-api"),
    "a limit taken off in production": (unsized, "prod", [
        ("overlays/prod/deployments.yaml", 'limits: {cpu: "1", memory: 512Mi}', "limits: {cpu: null, memory: 512Mi}")],
        "gateway-worker"),
    "a writable root in production": (unhardened, "prod", [
        ("overlays/prod/deployments.yaml", "        - name: worker\n          resources:\n",
         "        - name: worker\n          securityContext: {readOnlyRootFilesystem: false}\n          resources:\n")],
        "gateway-worker"),
    "an API without autoscaler": (unprotected, "prod", [
        ("overlays/prod/autoscaling.yaml", _document_named("HorizontalPodAutoscaler", "billing-api"), "")], "billing-api"),
    "a count on an autoscaled API": (unprotected, "prod", [
        ("overlays/prod/deployments.yaml", re.compile(r"(name: contacts-api\nspec:\n)  replicas: null.*\n"), r"\1")],
        "contacts-api"),
    "a worker without disruption budget": (unprotected, "prod", [
        ("overlays/prod/disruption-budgets.yaml", _document_named("PodDisruptionBudget", "privacy-worker"), "")],
        "privacy-worker"),
    "a budget over two processes": (unprotected, "prod", [
        ("overlays/prod/disruption-budgets.yaml",
         "    matchLabels:\n      app.kubernetes.io/name: gateway-api\n",
         "    matchExpressions:\n      - {key: app.kubernetes.io/name, operator: In, values: [gateway-api, gateway-worker]}\n")],
        "gateway-api"),
    "anti-affinity to another process": (not_spread, "prod", [
        ("overlays/prod/deployments.yaml", "                    app.kubernetes.io/name: workflows-api\n",
         "                    app.kubernetes.io/name: workflows-worker\n")], "workflows-api"),
    "a ConfigMap that is not rendered": (bad_references, "dev", [
        ("base/contacts-api.yaml", "name: contacts-config", "name: contact-config")], "contact-config"),
    "a key the Secret does not have": (bad_references, "prod", [
        ("base/gateway-api.yaml", "key: INTERNAL_TOKEN}", "key: INTERNAL_TOKN}")], "INTERNAL_TOKN"),
    "another service's image": (bad_references, "dev", [
        ("base/billing-worker.yaml", "image: crm-billing", "image: crm-contacts")], "billing-worker"),
    "an image without tag": (bad_references, "prod", [
        ("overlays/prod/kustomization.yaml", 'crm-privacy, newTag: "0.1.0"', 'crm-privacy, newTag: "latest"')],
        "privacy"),
    "a secret written inline": (inline_secrets, "dev", [
        ("base/billing-api.yaml", "- name: MASTER_KEY\n              valueFrom:\n"
                                  "                secretKeyRef: {name: crm-secrets, key: MASTER_KEY}",
         "- name: MASTER_KEY\n              value: ZGV2LW9ubHktbWFzdGVyLWtleS1OT1QtQS1TRUNSRVQ=")], "MASTER_KEY"),
    "a password in a ConfigMap": (inline_secrets, "prod", [
        ("overlays/prod/config.yaml", "  SMTP_TLS: starttls\n", "  SMTP_TLS: starttls\n  SMTP_PASSWORD: hunter2\n")],
        "SMTP_PASSWORD"),
    "the Secret applied with the base": (inline_secrets, "dev", [
        ("base/kustomization.yaml", "  - configmap.yaml\n", "  - configmap.yaml\n  - ../secret.example.yaml\n")],
        "crm-secrets"),
    "a Service selecting no pod": (mismatched_selectors, "dev", [
        ("base/workflows-api.yaml", "  selector:\n    app.kubernetes.io/name: workflows-api\n",
         "  selector:\n    app.kubernetes.io/name: workflow-api\n")], "workflows-api"),
    "a Deployment selecting other pods": (mismatched_selectors, "prod", [
        ("base/contacts-worker.yaml", "    matchLabels:\n      app.kubernetes.io/name: contacts-worker\n",
         "    matchLabels:\n      app.kubernetes.io/name: contacts-workers\n")], "contacts-worker"),
    "no policy for the gateway": (open_pods, "dev", [
        ("base/networkpolicy.yaml", _document_named("NetworkPolicy", "default-deny-ingress"), ""),
        ("base/networkpolicy.yaml", _document_named("NetworkPolicy", "gateway-api-public"), "")], "gateway-api"),
    "a service behind the gateway open to every pod": (open_pods, "prod", [
        ("base/networkpolicy.yaml", re.compile(r"(name: billing-api-from-gateway-only\n(?:.*\n)*?    - from:\n)"
                                               r"        - podSelector:\n            matchLabels:\n"
                                               r"              app.kubernetes.io/name: gateway-api\n"),
         r"\1        - podSelector: {}\n")], "billing-api"),
    "workers scraped on every port": (open_pods, "dev", [
        ("base/networkpolicy.yaml", "      ports:\n        - port: http\n        - port: metrics\n", "")],
        "privacy-worker"),
    "a misspelt field": (schema_errors, "prod", [
        ("base/gateway-worker.yaml", "            periodSeconds: 15\n", "            periodSecond: 15\n")],
        "periodSecond"),
}


def _broken_copy(tmp_path: Path, edits) -> Path:
    root = tmp_path / "k8s"
    shutil.copytree(K8S, root)
    for relative, pattern, replacement in edits:
        path = root / relative
        text = path.read_text()
        broken = (pattern.sub(replacement, text, count=1) if isinstance(pattern, re.Pattern)
                  else text.replace(pattern, replacement, 1))
        assert broken != text, f"the breakage found nothing to break in {relative}: {pattern!r}"
        path.write_text(broken)
    return root


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_check_finds_a_broken_manifest(breakage, tmp_path):
    check, overlay, edits, word = BREAKAGES[breakage]
    root = _broken_copy(tmp_path, edits)
    objects = render(root / "overlays" / overlay)
    intact = check(list(rendered(overlay)))
    found = check(objects, root) if check in (bad_references, inline_secrets) else check(objects)
    assert not intact and found, f"{check.__name__} finds nothing wrong with {breakage}"
    assert any(word in problem for problem in found), f"{check.__name__} on {breakage}: {found}"


def test_every_check_is_shown_to_find_a_breakage():
    shown = {check for check, *_ in BREAKAGES.values()}
    unshown = set(EVERY_OVERLAY + PRODUCTION) - shown
    assert not unshown, f"no breakage shows that {sorted(c.__name__ for c in unshown)} can fail"


LEASE = re.compile(r"""\.lease\(\s*["']([a-z0-9-]+)["']""")


def test_the_readme_names_every_lease_that_makes_a_worker_role_single_instance():
    """deploy/k8s/README.md tells operators that workers scale because their single-instance loops hold
    leases: a loop that takes a new lease must be named there too."""
    sources = [p for root in (REPO / "shared", REPO / "services") for p in root.rglob("*.py")
               if "tests" not in p.relative_to(REPO).parts[:-1] and not p.parent.name.endswith("_tests")
               and "testing" not in p.parts]
    leases = {name for p in sources for name in LEASE.findall(p.read_text())}
    assert "outbox-relay" in leases, "found no lease in the code: the search is wrong"
    readme = (K8S / "README.md").read_text()
    unnamed = sorted(name for name in leases if f"`{name}`" not in readme)
    assert not unnamed, f"deploy/k8s/README.md does not name the leases {unnamed}"


# --- the renderer, where kubectl is not there to compare with --------------------------------------

@pytest.mark.parametrize("kustomization", [
    "namePrefix: staging-\n",
    "resources: [d.yaml]\npatches:\n  - path: p.yaml\n    target: {kind: Deployment}\n",
    "resources: [d.yaml]\nlabels:\n  - pairs: {team: crm}\n    includeSelectors: true\n",
])
def test_the_renderer_refuses_what_it_would_render_wrong(kustomization, tmp_path):
    (tmp_path / "d.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    (tmp_path / "p.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    (tmp_path / "kustomization.yaml").write_text(kustomization)
    with pytest.raises(RENDERER.UnsupportedKustomization):
        render(tmp_path)


def test_a_strategic_merge_merges_containers_env_and_ports_by_key_and_deletes_on_null():
    original = {"spec": {"replicas": 2, "containers": [
        {"name": "api", "image": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
         "ports": [{"name": "http", "containerPort": 8080}], "args": ["x", "y"]},
        {"name": "side", "image": "s"}]}}
    patch = {"spec": {"replicas": None, "containers": [
        {"name": "api", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
         "ports": [{"containerPort": 8080, "protocol": "TCP"}], "args": ["z"]}]}}
    merged = RENDERER.strategic_merge(original, patch)
    api, side = merged["spec"]["containers"]
    assert "replicas" not in merged["spec"] and side == {"name": "side", "image": "s"}
    assert api["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]
    assert api["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert api["args"] == ["z"] and api["image"] == "a"  # a list without merge key is replaced
    assert original["spec"]["replicas"] == 2  # the original is left as it was
