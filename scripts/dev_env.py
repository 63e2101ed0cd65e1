"""Writes var/dev.env: what every local process needs (servers, ports, secrets made once and kept in var/)."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("CRM_VAR_DIR", REPO / "var"))


def secrets() -> dict[str, str]:
    """Development secrets, generated on first use; wiping var/ forgets them together with the data."""
    path = VAR / "secrets.env"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"INTERNAL_TOKEN={base64.urlsafe_b64encode(os.urandom(24)).decode()}\n"
            f"MASTER_KEY={base64.b64encode(os.urandom(32)).decode()}\n"
        )
        path.chmod(0o600)
    return dict(line.split("=", 1) for line in path.read_text().split())


def main() -> int:
    servers = subprocess.run([sys.executable, "-m", "devinfra", "env", "--format", "dotenv"],
                             check=True, capture_output=True, text=True).stdout
    contacts_port = os.environ.get("CONTACTS_PORT", "8101")
    values = dict(line.split("=", 1) for line in servers.split())
    values.update(secrets())
    values.update({
        "CONTACTS_PORT": contacts_port,
        "CONTACTS_URL": f"http://127.0.0.1:{contacts_port}",
        "GATEWAY_BIND": os.environ.get("GATEWAY_BIND", "127.0.0.1:8080"),
        "PYTHONUNBUFFERED": "1",
    })
    out = VAR / "dev.env"
    out.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    out.chmod(0o600)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
