"""Operator commands of the workflows service: `python -m workflows.entrypoints.cli --help`."""
from __future__ import annotations

import argparse
import sys
import time

from crm_platform.json_logging import configure_logging
from crm_platform.projections import replay
from crm_platform.settings import load_or_exit

from workflows import config
from workflows.bootstrap import Container


def rebuild_projection(container: Container) -> int:
    """Re-apply every stored event to the boards, cards, tasks and task reminders read models and to the contacts'
    timelines, in place and safe on a live system (a document the live consumer moved further is kept; a timeline
    entry is the same whenever it is written, and an erased contact gets none)."""
    container.ensure_indexes()

    def apply(envelope) -> None:
        container.read_models.apply(envelope, rebuilding=True)
        container.apply_to_timeline(envelope, rebuilding=True)

    return replay(container.event_store.read_all(), apply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workflows", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rebuild-projection",
                   help="rebuild the boards, cards, tasks and task reminders read models and the contacts' "
                        "timelines from the event store")
    parser.parse_args(argv)
    settings = load_or_exit(config.load, "workflows-cli")
    configure_logging(f"{config.SERVICE_NAME}-cli", settings["LOG_LEVEL"])
    started = time.perf_counter()
    count = rebuild_projection(Container(settings))
    print(f"replayed {count} events into the workflows read models in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
