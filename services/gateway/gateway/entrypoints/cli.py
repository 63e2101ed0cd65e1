"""Operator commands of the gateway: `python -m gateway.entrypoints.cli --help`."""
from __future__ import annotations

import argparse
import json
import sys

from crm_platform.json_logging import configure_logging
from crm_platform.settings import load_or_exit

from gateway import config
from gateway.bootstrap import Container


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateway", description="Accounts and API keys of the CRM gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-account", help="create an account and print its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--json", action="store_true", help="print {account_id, api_key} as JSON")
    issue = sub.add_parser("issue-key", help="print a new API key for an existing account")
    issue.add_argument("--account-id", required=True)
    args = parser.parse_args(argv)

    settings = load_or_exit(config.load, "gateway-cli")
    configure_logging(f"{config.SERVICE_NAME}-cli", "WARNING")
    container = Container(settings)
    container.ensure_indexes()
    if args.command == "create-account":
        account_id, key = container.accounts.create_account(args.name.strip())
        if args.json:
            print(json.dumps({"account_id": account_id, "api_key": key.plaintext}))
        else:
            print(f"account {account_id} ({args.name})\nAPI key (shown once, store it now): {key.plaintext}")
    elif args.command == "issue-key":
        print(container.accounts.issue_key(args.account_id).plaintext)
    return 0


if __name__ == "__main__":
    sys.exit(main())
