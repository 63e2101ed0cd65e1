"""The demo account of `make run`: check it still exists, and announce the gateway once it answers."""
from __future__ import annotations

import json
import sys
import time

import requests


def check(path: str) -> int:
    """Exit 0 if the saved demo key still authenticates against the database in use."""
    from gateway import config
    from gateway.bootstrap import Container

    key = json.load(open(path))["api_key"]
    return 0 if Container(config.load()).accounts.authenticate(key) else 1


def announce(path: str, gateway_url: str, timeout_s: float = 90.0) -> int:
    account = json.load(open(path))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            ready = requests.get(f"{gateway_url}/readyz", timeout=2).json()
            if ready["checks"].get("upstream:contacts") == "up":
                break
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(0.5)
    else:
        print(f"the gateway did not become ready at {gateway_url} within {timeout_s:.0f} s", file=sys.stderr)
        return 1
    key = account["api_key"]
    print(
        "\n"
        f"  CRM is running. Gateway: {gateway_url}   API docs: {gateway_url}/docs\n"
        f"  Demo account {account['account_id']}, API key:\n    {key}\n\n"
        "  Try:\n"
        f"    curl -s -X POST {gateway_url}/v1/contacts -H 'Authorization: Bearer {key}' \\\n"
        "      -H 'Content-Type: application/json' -d '{\"first_name\": \"Louise\", \"last_name\": \"Desnotes\"}'\n"
        f"    curl -s {gateway_url}/v1/contacts -H 'Authorization: Bearer {key}'\n\n"
        "  Ctrl-C (or `make stop` in another shell) stops everything.\n",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    sys.exit({"check": check, "announce": announce}[command](*args))
