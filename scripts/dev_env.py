"""Writes var/dev.env: what every local process needs (servers, ports, secrets made once and kept in var/)."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping

from crm_platform import registry

REPO = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("CRM_VAR_DIR", REPO / "var"))


SECRETS = {  # name -> how to make one
    "INTERNAL_TOKEN": lambda: base64.urlsafe_b64encode(os.urandom(24)).decode(),
    "MASTER_KEY": lambda: base64.b64encode(os.urandom(32)).decode(),
    "METRICS_TOKEN": lambda: base64.urlsafe_b64encode(os.urandom(24)).decode(),  # what a local Prometheus sends
    "PRIVACY_SIGNING_KEY": lambda: base64.b64encode(os.urandom(32)).decode(),  # the Ed25519 seed of certificates
}


def secrets() -> dict[str, str]:
    """Development secrets, generated on first use (one added later is added to the file, the others kept);
    wiping var/ forgets them together with the data."""
    path = VAR / "secrets.env"
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = dict(line.split("=", 1) for line in path.read_text().split()) if path.exists() else {}
    if missing := [name for name in SECRETS if name not in kept]:
        kept.update({name: SECRETS[name]() for name in missing})
        path.write_text("".join(f"{k}={v}\n" for k, v in kept.items()))
        path.chmod(0o600)
    return kept


def addresses(services: registry.Registry, environ: Mapping[str, str]) -> dict[str, str]:
    """<NAME>_BIND of every service (its registry port on 127.0.0.1, or <NAME>_BIND / <NAME>_PORT from the
    environment), <NAME>_URL of each service behind the gateway, pointing at that address, and
    <NAME>_WORKER_METRICS_PORT of each worker (the registry's, or that variable from the environment)."""
    values = {}
    for service in services.services:
        port = environ.get(service.port_variable, str(service.port))
        bind = values[service.bind_variable] = environ.get(service.bind_variable, f"127.0.0.1:{port}")
        if service.worker_metrics_port is not None:
            variable = service.worker_metrics_port_variable
            values[variable] = environ.get(variable, str(service.worker_metrics_port))
        if not service.public:
            host, _, port = bind.rpartition(":")
            values[service.url_variable] = f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}"
    return values


def main() -> int:
    servers = subprocess.run([sys.executable, "-m", "devinfra", "env", "--format", "dotenv"],
                             check=True, capture_output=True, text=True).stdout
    values = dict(line.split("=", 1) for line in servers.split())
    values.update(secrets())
    values.update(addresses(registry.load(), os.environ))
    values["PYTHONUNBUFFERED"] = "1"
    values["METRICS_ADDR"] = "127.0.0.1"  # the workers' metrics listeners, like the APIs, stay on this machine
    values["GATEWAY_SERVES_METRICS"] = "true"  # the gateway listens on 127.0.0.1 here: no public to keep /metrics from
    out = VAR / "dev.env"
    out.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    out.chmod(0o600)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
