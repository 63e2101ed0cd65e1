"""Operator commands of the billing service: `python -m billing.entrypoints.cli --help`."""
from __future__ import annotations

import argparse
import sys
import time

from crm_platform.json_logging import configure_logging
from crm_platform.projections import replay
from crm_platform.settings import load_or_exit

from billing import config
from billing.bootstrap import Container


def rebuild_read_models(container: Container) -> int:
    """Re-apply every stored billing event to the invoices, credit notes, quotes and recurring invoices read
    models and to the contacts' timelines, in place and safe on a live system (a document is rewritten at its
    revision or kept if the consumer moved it further; a timeline entry is the same whenever it is written, and an
    erased contact gets none). The customers come from contacts.events, not from this store: they are not rebuilt
    here."""
    container.ensure_indexes()

    def apply(envelope) -> None:
        container.apply_to_documents(envelope, rebuilding=True)
        container.apply_to_timeline(envelope, rebuilding=True)

    return replay(container.event_store.read_all(), apply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="billing", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rebuild-read-models", help="rebuild the invoices, credit notes, quotes and recurring invoices "
                                               "read models and the contacts' timelines from the event store")
    sub.add_parser("note-document-parties", help="note whom every stored document is for (document_parties), as "
                                                 "the worker's backfill does once, even if it has: after a rollout "
                                                 "during which older processes still wrote documents")
    args = parser.parse_args(argv)
    settings = load_or_exit(config.load, "billing-cli")
    configure_logging(f"{config.SERVICE_NAME}-cli", settings["LOG_LEVEL"])
    if args.command == "rebuild-read-models":
        started = time.perf_counter()
        count = rebuild_read_models(Container(settings))
        print(f"replayed {count} events into the invoices, credit notes, quotes and recurring invoices read models "
              f"and the timelines in {time.perf_counter() - started:.1f} s")
    elif args.command == "note-document-parties":
        started = time.perf_counter()
        container = Container(settings)
        container.ensure_indexes()
        count = container.event_store.note_stored_documents(container.document_parties_lease(), again=True)
        if count is None:
            print("not done: the worker's backfill holds the lease now; try again in a minute")
            return 1
        print(f"read {count} events and noted their documents' parties in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
