"""deploy/monitoring stays in step with the metrics the kernel exports (crm_platform.metrics): an alert or a
panel on a renamed metric would stay silent or empty forever, and nobody would notice until an outage."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from crm_platform import metrics, registry
from crm_platform.metrics import REGISTRY  # importing crm_platform.metrics registers the kernel's metrics there

MONITORING = Path(__file__).resolve().parents[1] / "deploy" / "monitoring"
CRM_NAME = re.compile(r"\bcrm_[a-z_]+\b")


def exported_samples() -> set[str]:
    """Every sample name the kernel's metrics produce (a counter's _total, a histogram's _bucket/_sum/_count)."""
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("crm_"):
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}.get(family.type, ("",))
            names |= {family.name + suffix for suffix in suffixes}
    return names


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"] for rule in group["rules"]]


def dashboard() -> dict:
    return json.loads((MONITORING / "grafana-dashboard.json").read_text())


def dashboard_queries() -> list[str]:
    return [target["expr"] for panel in dashboard()["panels"] for target in panel["targets"]]


def test_the_alerts_asked_for_exist():
    named = {rule["alert"] for rule in rules()}
    assert {"CrmConsumerLagGrowing", "CrmOutboxOldestCommitOld", "CrmDeadLettersWaiting", "CrmApiServerErrors"} <= named


def test_every_alert_and_panel_queries_metrics_the_kernel_exports():
    used = {name for expr in [r["expr"] for r in rules()] + dashboard_queries() for name in CRM_NAME.findall(expr)}
    unknown = used - exported_samples()
    assert used and not unknown, f"deploy/monitoring queries {sorted(unknown)}, which crm_platform.metrics does not export"


def test_every_exported_metric_is_on_the_dashboard():
    shown = {name for expr in dashboard_queries() for name in CRM_NAME.findall(expr)}
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in shown}
    missing = {name for name in exported_samples() if re.sub(r"_(total|bucket|sum|count)$", "", name) not in families}
    assert not missing, f"the dashboard shows nothing of {sorted(missing)}"


def test_every_alert_is_held_before_firing_and_says_what_it_is():
    for rule in rules():
        assert rule.get("for"), f"{rule['alert']}: no `for`: one bad scrape would page"
        assert rule["labels"].get("severity") in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"].get("summary"), rule["alert"]


def test_the_scrape_job_reads_the_annotations_of_deploy_k8s_and_sends_the_metrics_token():
    (job,) = yaml.safe_load((MONITORING / "prometheus-scrape.yaml").read_text())
    sources = {s for relabel in job["relabel_configs"] for s in relabel.get("source_labels", [])}
    assert {"__meta_kubernetes_pod_annotation_prometheus_io_scrape", "__meta_kubernetes_pod_annotation_prometheus_io_port",
            "__meta_kubernetes_pod_annotation_prometheus_io_path"} <= sources
    assert job["authorization"]["type"] == "Bearer" and job["authorization"]["credentials_file"].endswith("METRICS_TOKEN")


# --- labels: a `by (topci)` or `{{ $labels.topci }}` is as silent as a misspelt metric name

SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
TEMPLATE = re.compile(r"\{\{\s*(?:\$labels\.)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
LABEL_VALUES = re.compile(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)")


def family_labels() -> dict[str, set[str]]:
    """Sample name -> its label names, from the kernel's metric objects (a histogram's buckets add `le`)."""
    labels = {}
    for metric in vars(metrics).values():
        if isinstance(metric, (metrics.Counter, metrics.Gauge, metrics.Histogram)):
            names = set(metric._labelnames)
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}.get(metric._type, ("",))
            for suffix in suffixes:
                labels[metric._name + suffix] = names | ({"le"} if suffix == "_bucket" else set())
    return labels


def target_labels() -> set[str]:
    """What the scrape job puts on every series it scrapes: its relabelled targets, job and instance."""
    (job,) = yaml.safe_load((MONITORING / "prometheus-scrape.yaml").read_text())
    return {r["target_label"] for r in job["relabel_configs"] if not r.get("target_label", "_").startswith("_")
            and "target_label" in r} | {"job", "instance"}


def label_problems(expr: str, templates: list[str] = ()) -> list[str]:
    """Label names an expression (and the templates shown with it: annotations, legends) use that no series it
    queries has: in selectors, in by/without/on/ignoring, and as {{ $labels.x }} / {{x}}."""
    families = family_labels()
    used = [name for name in CRM_NAME.findall(expr) if name in families]
    known = set().union(*(families[name] for name in used)) | target_labels()
    problems = []
    for name, matchers in SELECTOR.findall(expr):
        has = families.get(name, set()) | target_labels() if name.startswith("crm_") else target_labels()
        problems += [f"{name}{{{label}=...}}" for label in MATCHER.findall(matchers) if label not in has]
    grouped = set()
    for clause in GROUPING.findall(expr):
        labels = {label.strip() for label in clause.split(",") if label.strip()}
        grouped |= labels
        problems += [f"by/without/on ({label})" for label in sorted(labels - known)]
    shown = grouped or known  # an aggregated result keeps only its `by` labels
    for template in templates:
        problems += [f"{{{{ {label} }}}}" for label in TEMPLATE.findall(template) if label not in shown]
    return problems


def test_every_alert_uses_labels_its_series_have():
    problems = {rule["alert"]: found for rule in rules()
                if (found := label_problems(rule["expr"], list(rule.get("annotations", {}).values())))}
    assert not problems, f"deploy/monitoring/alerts.yaml uses labels no queried series has: {problems}"


def test_every_panel_uses_labels_its_series_have():
    problems = {}
    for panel in dashboard()["panels"]:
        for target in panel["targets"]:
            if found := label_problems(target["expr"], [target.get("legendFormat", "")]):
                problems[f"{panel['title']} {target['refId']}"] = found
    for variable in dashboard().get("templating", {}).get("list", []):
        for name, label in LABEL_VALUES.findall(json.dumps(variable.get("query", ""))):
            if label not in family_labels().get(name, set()) | target_labels():
                problems[f"variable {variable['name']}"] = [f"label_values({name}, {label})"]
    assert not problems, f"deploy/monitoring/grafana-dashboard.json uses labels no queried series has: {problems}"


def test_the_label_check_finds_a_misspelt_label():
    """The check itself: each place a label can be named."""
    assert label_problems("sum by (topci) (crm_outbox_backlog_commits)") == ["by/without/on (topci)"]
    assert label_problems('crm_http_requests_total{statsu="500"}') == ['crm_http_requests_total{statsu=...}']
    assert label_problems("max by (topic) (crm_dead_letter_messages) > 0", ["{{ $labels.consumer }}"]) \
        == ["{{ consumer }}"]
    assert label_problems("crm_jobs_running{pod=\"x\", process=\"y\", namespace=\"crm\"}", ["{{kind}}"]) == []


def test_a_producing_service_without_a_reporting_relay_is_alerted_on_by_name():
    """absent() over every relay's series stays silent while any one reports: one per producing worker."""
    (rule,) = [r for r in rules() if r["alert"] == "CrmOutboxNotReported"]
    watched = set(re.findall(r'absent\(crm_outbox_oldest_age_seconds\{process="([^"]+)"\}\)', rule["expr"]))
    producing = {s.process("worker").name for s in registry.load().services if s.produces}
    assert watched == producing, f"CrmOutboxNotReported watches {sorted(watched)}; the registry's producing " \
                                 f"workers are {sorted(producing)}"
    assert len(re.findall(r"\babsent\(", rule["expr"])) == len(producing)
