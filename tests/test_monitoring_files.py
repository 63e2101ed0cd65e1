"""deploy/monitoring stays in step with the metrics the kernel exports (crm_platform.metrics): an alert or a
panel on a renamed metric would stay silent or empty forever, and nobody would notice until an outage."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

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


def dashboard_queries() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


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
