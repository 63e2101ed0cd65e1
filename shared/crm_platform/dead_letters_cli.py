"""The operator's command for dead-lettered events (crm_platform.dead_letters; docs/operations.md).

    python -m crm_platform.dead_letters_cli list [--consumer C] [--event-type T] [--account A] [--json]
    python -m crm_platform.dead_letters_cli show <topic/partition/offset>
    python -m crm_platform.dead_letters_cli replay (<ref> ... | --all) [--consumer C] [--event-type T] [--account A] [--yes]
    python -m crm_platform.dead_letters_cli purge (--all [--topic T] | --through <ref>) [--yes]

Reads KAFKA_BOOTSTRAP_SERVERS and KAFKA_TOPIC_NAMESPACE from the environment. Replay and purge
ask for confirmation (type `yes`) unless given --yes. Exit status: 0 done, 1 nothing to do or
not confirmed, 2 bad arguments.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable

from crm_platform.dead_letters import SUFFIX, DeadLetters, ReplayFailed, Selection, parse_ref, purge_all


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m crm_platform.dead_letters_cli", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True)

    def filters(command: argparse.ArgumentParser) -> None:
        command.add_argument("--consumer", help="only those the consumer of this name gave up on")
        command.add_argument("--event-type", help="only events of this type")
        command.add_argument("--account", help="only events of this account id")

    listing = commands.add_parser("list", help="every dead letter kept, oldest first per partition")
    filters(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    show = commands.add_parser("show", help="one dead letter: error, consumer, source, envelope metadata")
    show.add_argument("ref")
    replay = commands.add_parser("replay", help="send dead letters again, to the consumer that gave up on each")
    replay.add_argument("refs", nargs="*")
    replay.add_argument("--all", action="store_true", help="every dead letter matching the filters")
    filters(replay)
    replay.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge = commands.add_parser("purge", help="delete dead letters (Kafka deletes a partition's oldest first)")
    purge.add_argument("--all", action="store_true", help="every dead letter (of --topic only, if given)")
    purge.add_argument("--topic", help="a dead-letter topic")
    purge.add_argument("--through", help="a partition's dead letters up to and including this one")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return top


def main(argv: list[str] | None = None, ask: Callable[[str], str] = input, out=sys.stdout,
         store: DeadLetters | None = None) -> int:
    args = parser().parse_args(argv)
    if store is None and not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        print("KAFKA_BOOTSTRAP_SERVERS is not set: load the service's environment first (docs/operations.md)",
              file=out, flush=True)
        return 2
    store = store or DeadLetters(os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ.get("KAFKA_TOPIC_NAMESPACE", ""))
    selection = Selection(frozenset(getattr(args, "refs", None) or ()), getattr(args, "consumer", None),
                          getattr(args, "event_type", None), getattr(args, "account", None))

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    def confirmed(question: str) -> bool:
        return args.yes or ask(f"{question} Type yes to go on: ").strip().lower() == "yes"

    if args.command == "show":
        try:
            topic, _, _ = parse_ref(args.ref)
        except ValueError as exc:
            say(str(exc))
            return 2
        found = [letter for letter in store.read([topic]) if letter.ref == args.ref]
        if not found:
            say(f"no dead letter {args.ref} (purged, or never there)")
            return 1
        say(json.dumps(found[0].summary(), indent=2, ensure_ascii=False))
        return 0
    if args.command == "purge":
        return _purge(args, store, say, confirmed)
    letters = [letter for letter in store.read() if selection.matches(letter)]
    if args.command == "list":
        for letter in letters:
            summary = letter.summary()
            say(json.dumps(summary, ensure_ascii=False) if args.json else
                f"{summary['ref']}  {summary['dead_lettered_at']}  {summary['consumer']}  "
                f"{summary.get('event_type')}  {summary.get('aggregate_id')}  {summary['error']}")
        if not args.json:
            say(f"{len(letters)} dead letter(s)")
        return 0
    if not (args.all or args.refs) or (args.all and args.refs):
        say("replay: name dead letters by their refs, or give --all (with filters to narrow it)")
        return 2
    missing = sorted(selection.refs - {letter.ref for letter in letters})
    if missing:
        say(f"no such dead letter(s): {', '.join(missing)}; nothing replayed")
        return 1
    if not letters:
        say("nothing to replay")
        return 1
    _describe(letters, say)
    if not confirmed(f"Replay these {len(letters)} dead letter(s) to the consumers that gave up on them?"):
        say("not replayed")
        return 1
    try:
        sent = store.replay(letters)
    except ReplayFailed as exc:
        for ref, reason in exc.failed.items():
            say(f"NOT replayed {ref}: {reason}")
        say(f"replayed {exc.sent}, {len(exc.failed)} refused: keep the refused ones (do not purge them)")
        return 1
    say(f"replayed {sent}; once their consumers applied them, purge them (purge --through <ref>)")
    return 0


def _describe(letters, say) -> None:
    for letter in letters:
        summary = letter.summary()
        say(f"  {summary['ref']}  {summary['consumer']}  {summary.get('event_type')}  {summary['error']}")


def _purge(args, store: DeadLetters, say, confirmed) -> int:
    if bool(args.all) == bool(args.through):
        say("purge: give --all (optionally with --topic) or --through <ref>")
        return 2
    if args.through:
        try:
            topic, partition, offset = parse_ref(args.through)
        except ValueError as exc:
            say(str(exc))
            return 2
        letters = [letter for letter in store.read([topic]) if letter.partition == partition and letter.offset <= offset]
        before = purge_all(letters)  # never past the partition's end, whatever the ref says
    else:
        if args.topic and not args.topic.endswith(SUFFIX):
            say(f"purge: {args.topic!r} is not a dead-letter topic (…{SUFFIX})")
            return 2
        letters = store.read([args.topic] if args.topic else None)
        before = purge_all(letters)
    if not letters:
        say("nothing to purge")
        return 1
    _describe(letters, say)  # DeleteRecords takes every older one of a partition: show each, whoever's it is
    if not confirmed(f"Delete these {len(letters)} dead letter(s) for good?"):
        say("not purged")
        return 1
    store.purge(before)
    say(f"purged {len(letters)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
