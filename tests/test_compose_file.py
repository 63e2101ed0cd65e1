"""docker-compose.yml is a valid Compose file and runs the system on the official images.

No Docker engine runs here, so `docker compose config` cannot check it: the Compose specification's
own JSON schema, which the PyPI package check-jsonschema ships, does (offline). That every process of
the registry runs with exactly its settings is checked with the Kubernetes manifests in
tests/test_deploy_files.py.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from crm_platform import registry

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
BASE_CONFIG = REPO / "deploy" / "k8s" / "base" / "configmap.yaml"
OFFICIAL_IMAGES = {"kafka": "apache/kafka", "mongo": "mongo", "mailpit": "axllent/mailpit"}


def schema_problems(path: Path) -> str:
    """What the Compose specification's schema finds wrong with the file ('' if nothing)."""
    run = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                          "--output-format", "text", str(path)], capture_output=True, text=True, timeout=120)
    return "" if run.returncode == 0 else run.stdout + run.stderr


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_file_follows_the_compose_specification():
    assert not schema_problems(COMPOSE)


def test_the_schema_check_finds_a_misspelt_key(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE.read_text()
    broken.write_text(text.replace("    stop_grace_period: 30s", "    stop_grace_periode: 30s", 1))
    assert broken.read_text() != text
    assert "stop_grace_periode" in schema_problems(broken)


@pytest.mark.parametrize("name, image", OFFICIAL_IMAGES.items())
def test_the_infrastructure_runs_on_official_images(name, image):
    found = compose()["services"][name]
    assert "build" not in found and found["image"].split(":")[0] == image, f"{name} runs {found.get('image')}"
    assert found["image"].partition(":")[2] not in ("", "latest"), f"{name}: pin a version, not {found['image']}"


def test_every_process_of_the_registry_is_a_compose_service_built_from_its_service():
    services = compose()["services"]
    for process in registry.load().processes:
        assert process.name in services, f"docker-compose.yml has no {process.name}"
        args = services[process.name]["build"]["args"]
        assert args["SERVICE"] == process.service, f"{process.name} builds {args['SERVICE']}"


def test_the_services_workers_send_mail_to_the_catcher_with_the_settings_kubernetes_gives():
    (mail,) = [d for d in yaml.safe_load_all(BASE_CONFIG.read_text()) if d and d["metadata"]["name"] == "crm-mail"]
    for process in registry.load().processes:
        if process.kind != "worker" or process.service == registry.load().public.name:
            continue  # the gateway holds no personal data and mails no one
        service = compose()["services"][process.name]
        env = service["environment"]
        given = {k: v for k, v in env.items() if k in mail["data"]}
        assert set(given) == set(mail["data"]), f"{process.name}: mail settings {sorted(given)}, k8s gives {sorted(mail['data'])}"
        assert env["SMTP_HOST"] == "mailpit" and env["SMTP_TLS"] == "none", f"{process.name} sends mail elsewhere"
        assert service["depends_on"]["mailpit"] == {"condition": "service_healthy"}
    assert "healthcheck" in compose()["services"]["mailpit"]
