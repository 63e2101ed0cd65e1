"""Operator commands of the gateway: `python -m gateway.entrypoints.cli --help`."""
from __future__ import annotations

import argparse
import json
import sys

from crm_platform.errors import NotFound
from crm_platform.json_logging import configure_logging
from crm_platform.settings import load_or_exit

from gateway import config
from gateway.bootstrap import Container
from gateway.domain.api_keys import DEFAULT_SCOPES, SCOPES, parse_scopes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateway", description="Accounts and API keys of the CRM gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-account", help="create an account and print its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--json", action="store_true", help="print {account_id, api_key} as JSON")
    issue = sub.add_parser("issue-key", help="print a new API key for an existing account")
    issue.add_argument("--account-id", required=True)
    issue.add_argument("--scopes", default=",".join(DEFAULT_SCOPES),
                       help=f"comma-separated, of {', '.join(SCOPES)} (default: %(default)s); `privacy` lets the key "
                            "export and erase a person's data")
    revoke = sub.add_parser("revoke-key", help="stop an API key from authenticating (at once)")
    revoke.add_argument("--key-id", required=True, help="the 12 characters after crm_ in the key")
    listing = sub.add_parser("list-keys", help="list an account's keys: id, scopes, creation, revoked (no secrets)")
    listing.add_argument("--account-id", required=True)
    args = parser.parse_args(argv)
    if args.command == "issue-key":
        try:
            args.scopes = parse_scopes(args.scopes)
        except ValueError as exc:
            parser.error(str(exc))

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
        try:
            print(container.accounts.issue_key(args.account_id, args.scopes).plaintext)
        except NotFound as exc:
            print(f"gateway: {exc.detail}", file=sys.stderr)
            return 2
    elif args.command == "revoke-key":
        if not container.accounts.revoke_key(args.key_id):
            print(f"gateway: no live key {args.key_id}", file=sys.stderr)
            return 2
        print(f"key {args.key_id} revoked")
    elif args.command == "list-keys":
        print(json.dumps(container.accounts.list_keys(args.account_id), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
