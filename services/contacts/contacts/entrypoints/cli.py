"""Operator commands of the contacts service: `python -m contacts.entrypoints.cli --help`."""
from __future__ import annotations

import argparse
import logging
import sys
import time

from crm_platform.identity_claims import rekey_plain_claims
from crm_platform.json_logging import configure_logging
from crm_platform.settings import load_or_exit
from crm_platform.projections import replay

from contacts import config
from contacts.adapters.identity_claims import OWNER_FIELD
from contacts.bootstrap import Container
from contacts.domain import commands

log = logging.getLogger(__name__)


def rebuild_projection(container: Container) -> int:
    """Re-apply every stored contact event to the projection, in place and safe on a live system.

    Each document is rewritten from the events at its version or kept if the live
    consumer has already moved it further, so the rebuild never goes backwards (on FerretDB over SQLite, only
    where the consumer does not write the same document at the same moment: crm_platform.id_guards). Then
    contacts stored before creation numbers or name initials get theirs (adapters/contact_numbers.py,
    adapters/name_initials.py).
    """
    container.ensure_indexes()
    read_models = container.read_models()

    def apply(envelope) -> None:
        for read_model in read_models:
            read_model.apply(envelope, rebuilding=True)

    replayed = replay(container.event_store.read_all(), apply)
    numbered = container.projection.numbers.number_unnumbered()
    if numbered:
        log.info("contacts stored before creation numbers numbered", extra={"contacts": numbered})
    given = container.projection.initials.give_initials()
    if given:
        log.info("name initials given or mended", extra={"contacts": given})
    return replayed


def rekey_identity_claims(container: Container) -> int:
    """Claims stored under the plain identity before claims were keyed, moved to their keyed id."""
    return rekey_plain_claims(container.db["identity_claims"], container.identity_claims(), OWNER_FIELD)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contacts", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rebuild-projection", help="rebuild every read model of the service from the event store")
    sub.add_parser("rekey-identity-claims", help="move claims stored under a plain email or phone (before "
                                                 "they were keyed) to their keyed id; run once after upgrading")
    erase = sub.add_parser("erase-contact", help="erase a person: the contact and every contact merged with it")
    erase.add_argument("--account", required=True)
    erase.add_argument("--contact", required=True)
    args = parser.parse_args(argv)
    settings = load_or_exit(config.load, "contacts-cli")
    configure_logging(f"{config.SERVICE_NAME}-cli", settings["LOG_LEVEL"])
    if args.command == "rebuild-projection":
        started = time.perf_counter()
        count = rebuild_projection(Container(settings))
        print(f"replayed {count} events into the contacts projection in {time.perf_counter() - started:.1f} s")
    elif args.command == "rekey-identity-claims":
        print(f"moved {rekey_identity_claims(Container(settings))} claims to their keyed id")
    elif args.command == "erase-contact":
        erased = Container(settings).bus.handle(commands.EraseContact(args.account, args.contact))
        print(f"erased {', '.join(erased.contact_ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
