"""Operator commands of the gateway: `python -m gateway.entrypoints.cli --help`."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

from crm_platform.errors import CrmError
from crm_platform.json_logging import configure_logging
from crm_platform.settings import load_or_exit

from gateway import config
from gateway.bootstrap import Container
from gateway.domain.api_keys import DEFAULT_SCOPES, SCOPES, parse_scopes
from gateway.domain.key_records import DEFAULT_ROTATION_GRACE, MAX_ROTATION_GRACE, name_problem
from gateway.entrypoints.key_representation import issued_key_view, key_view

MAX_GRACE_HOURS = MAX_ROTATION_GRACE // timedelta(hours=1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="Accounts and API keys of the CRM gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-account", help="create an account and print its first API key (every scope)")
    create.add_argument("--name", required=True)
    create.add_argument("--json", action="store_true", help="print {account_id, api_key} as JSON")
    issue = sub.add_parser("issue-key", help="print a new API key for an existing account")
    issue.add_argument("--account-id", required=True)
    issue.add_argument("--scopes", default=",".join(DEFAULT_SCOPES),
                       help=f"comma-separated, of {', '.join(SCOPES)} (default: %(default)s); `privacy` lets the key "
                            "export and erase a person's data, `admin` manage the account's keys")
    issue.add_argument("--name", default="", help="what the key is for (shown in lists)")
    revoke = sub.add_parser("revoke-key", help="stop an API key from authenticating (at once); not the account's "
                                               "last live admin key")
    revoke.add_argument("--key-id", required=True, help="the 12 characters after crm_ in the key")
    revoke.add_argument("--json", action="store_true", help="print the revoked key as JSON")
    rotate = sub.add_parser("rotate-key", help="print a new secret for an API key; its current one keeps working "
                                               "for the grace period")
    rotate.add_argument("--key-id", required=True, help="the 12 characters after crm_ in the key")
    rotate.add_argument("--grace-hours", type=float, default=DEFAULT_ROTATION_GRACE / timedelta(hours=1),
                        help=f"how long the current secret keeps working (default %(default)g, at most "
                             f"{MAX_GRACE_HOURS}; 0: refused at once)")
    rotate.add_argument("--json", action="store_true", help="print the key with its new `secret` as JSON")
    listing = sub.add_parser("list-keys", help="list an account's keys: id, name, scopes, dates (never a secret)")
    listing.add_argument("--account-id", required=True)
    listing.add_argument("--json", action="store_true", help="print them as a JSON array")
    return parser


def main(argv: list[str] | None = None, container: Container | None = None) -> int:
    """Run one command; `container` is the tests' (else one is built from the environment's settings)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "issue-key":
        try:
            args.scopes = parse_scopes(args.scopes)
        except ValueError as exc:
            parser.error(str(exc))
        if args.name and (problem := name_problem(args.name)):
            parser.error(f"--name {problem}")
    if args.command == "rotate-key" and not 0 <= args.grace_hours <= MAX_GRACE_HOURS:
        parser.error(f"--grace-hours is between 0 and {MAX_GRACE_HOURS}")
    if container is None:
        settings = load_or_exit(config.load, "gateway-cli")
        configure_logging(f"{config.SERVICE_NAME}-cli", "WARNING")
        container = Container(settings)
        container.ensure_indexes()
    try:
        _run(args, container)
    except CrmError as exc:  # NotFound (no such account or key), LastAdminKey, KeyNotLive
        print(f"gateway: {exc.detail}", file=sys.stderr)
        return 2
    return 0


def _run(args: argparse.Namespace, container: Container) -> None:
    accounts = container.accounts
    if args.command == "create-account":
        account_id, key = accounts.create_account(args.name.strip())
        if args.json:
            print(json.dumps({"account_id": account_id, "api_key": key.plaintext}))
        else:
            print(f"account {account_id} ({args.name})\nAPI key (shown once, store it now): {key.plaintext}")
    elif args.command == "issue-key":
        print(accounts.issue_key(args.account_id, args.scopes, name=args.name).plaintext)
    elif args.command == "revoke-key":
        record = accounts.revoke_key(args.key_id)
        print(json.dumps(key_view(record)) if args.json else f"key {args.key_id} revoked")
    elif args.command == "rotate-key":
        record, issued = accounts.rotate_key(args.key_id, timedelta(hours=args.grace_hours))
        if args.json:
            print(json.dumps(issued_key_view(record, issued)))
        else:
            print(f"new API key (shown once, store it now): {issued.plaintext}\n"
                  f"the previous secret works until {record.previous_secret_expires_at.isoformat()}")
    elif args.command == "list-keys":
        keys = [key_view(record) for record in accounts.list_keys(args.account_id)]
        if args.json:
            print(json.dumps(keys, indent=1))
        for key in [] if args.json else keys:
            state = (f"revoked {key['revoked_at']}" if key["revoked_at"] else
                     f"expires {key['expires_at']}" if key["expires_at"] else "live")
            print(f"{key['prefix']}  {','.join(key['scopes']):<26} {state:<40} last used "
                  f"{key['last_used_at'] or 'never'}  {key['name']}")


if __name__ == "__main__":
    sys.exit(main())
