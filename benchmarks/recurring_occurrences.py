"""The recurring-invoice scheduler catching up 10,000 due occurrences (issue 10), in-process on the real database.

The scheduler is the billing worker's loop (service_layer/recurring_scheduler.py): each round asks the recurring
invoices read model what is due and generates it, at most MAX_CATCH_UP (100) occurrences per recurring invoice
per call, oldest first. This script drives those rounds itself, with billing's real Container (event store, read
models, number series, lease) on the MongoDB server of `make run` (or MONGO_URI), in throwaway databases dropped
at the end; no Kafka, no HTTP server. Going through the running system instead would time the worker's one-minute
round interval, and could not tell when the last occurrence was generated other than by polling.

A new account with a French seller's settings (time zone Europe/Paris) and S customers (default 100, put in
billing's customer projection as the contacts consumer would), one weekly recurring invoice each, in issue mode,
anchored in the past so that N occurrences (default 10,000: 100 weekly invoices missed per schedule) are due
today. Then, timed: rounds of the scheduler until one generates nothing. Between rounds the read models catch up
with the new events (the worker's documents consumer does that concurrently; here it is timed apart). The PDF of
each issued invoice (the worker's printing consumer, afterwards) is not part of it.
Prints occurrences/s, the rounds, and the check: the invoices generated, the invoices the account's list shows
and the occurrences recorded all equal the due count, with numbers unique and gapless per fiscal-year series.
Saves JSON under benchmarks/results/ with the database server and the machine.

Run (MongoDB server of `make run`, or `eval "$(python -m devinfra env)"` first):
  python benchmarks/recurring_occurrences.py [--occurrences 10000] [--schedules 100]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO), str(REPO / "services" / "billing")]
from reporting import ReadModelsCatchUp, mongo_uri, save, throwaway_container  # noqa: E402
from issue_invoices import LINES, SELLER, numbering_check  # noqa: E402
from billing import config  # noqa: E402
from billing.bootstrap import Container  # noqa: E402
from billing.entrypoints.api import create_app  # noqa: E402
from billing.service_layer import queries  # noqa: E402
from billing.service_layer.recurring_scheduler import generate_due_recurring_invoices  # noqa: E402
from billing_tests.contact_events import LOUISE, ContactEvents  # noqa: E402


def container_on(uri: str, suffix: str, listener=None):
    """Billing's Container on throwaway databases of that server (reporting.throwaway_container)."""
    return throwaway_container(Container, config, uri, suffix, {"BILLING_DB": "billing", "KEYVAULT_DB": "keys",
                                                                 "PRIVACY_EXCHANGE_DB": "exchange"}, listener)


def split(total: int, parts: int) -> list[int]:
    """`total` as `parts` counts differing by one at most (the first ones the larger)."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def seed(container, client, headers: dict, account_id: str, occurrences: int, schedules: int) -> list[str]:
    """The account's settings, its customers and one weekly recurring invoice each, `occurrences` due in all."""
    answer = client.patch("/v1/billing-settings", headers=headers, json=SELLER)
    assert answer.status_code == 200, answer.get_json()
    today = queries.account_today(account_id, container.unit_of_work(), container.clock)
    events, ids = ContactEvents(container.cipher, account_id), []
    for i, due in enumerate(split(occurrences, schedules)):
        contact_id = f"contact:bench-{i}"
        container.apply_to_customers(events.created(contact_id, {**LOUISE, "company": f"Client {i} SARL"}))
        # weekly from (due - 1) weeks ago: occurrences k = 0 .. due - 1 fall due by today, the next one next week
        created = client.post("/v1/recurring-invoices", headers=headers, json={
            "contact_id": contact_id, "mode": "issue", "lines": LINES, "notes": "Maintenance hebdomadaire",
            "schedule": {"anchor": (today - timedelta(weeks=due - 1)).isoformat(), "every": 1, "unit": "week"}})
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])
    return ids


def listed_numbers(client, headers: dict) -> list[str]:
    numbers, cursor = [], None
    while True:
        page = client.get("/v1/invoices", headers=headers,
                          query_string={"limit": 200, **({"cursor": cursor} if cursor else {})}).get_json()
        numbers += [invoice["number"] for invoice in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            return numbers


def run(container, occurrences: int, schedules: int, max_rounds: int = 1000) -> dict:
    """Seed, then time the scheduler's rounds until nothing is due; the report (without where it ran)."""
    app = create_app(container.settings)
    app.extensions["container"] = container
    client, account_id = app.test_client(), "acct-bench"
    headers = {"X-Internal-Token": container.settings["INTERNAL_TOKEN"], "X-Account-Id": account_id}
    schedules = min(schedules, occurrences)
    started = time.perf_counter()
    ids = seed(container, client, headers, account_id, occurrences, schedules)
    catch_up = ReadModelsCatchUp(container)
    catch_up()
    print(f"seeded {schedules} weekly recurring invoices, {occurrences} occurrences due, in "
          f"{time.perf_counter() - started:.1f} s; timing the scheduler's rounds...", flush=True)
    lease, rounds, generating_s, catching_up_s = container.scheduler_lease(), [], 0.0, 0.0
    while len(rounds) < max_rounds:
        started = time.perf_counter()
        made = generate_due_recurring_invoices(container.bus, container.due_recurring_invoices, lease,
                                               container.retry_backoff)
        generating_s += (round_s := time.perf_counter() - started)
        rounds.append({"invoices": made, "seconds": round(round_s, 2)})
        if made == 0:  # it wrote nothing: nothing for the read models (re-reading the event store takes minutes)
            print(f"  round {len(rounds)}: nothing due, in {round_s:.1f} s", flush=True)
            break
        started = time.perf_counter()
        rounds[-1]["events_projected"] = catch_up()
        catching_up_s += (projected_s := time.perf_counter() - started)
        rounds[-1]["projected_s"] = round(projected_s, 2)
        print(f"  round {len(rounds)}: {made} invoices in {round_s:.1f} s, read models caught up with "
              f"{rounds[-1]['events_projected']} events in {projected_s:.1f} s", flush=True)
    generated = sum(r["invoices"] for r in rounds)
    recorded = sum(len(client.get(f"/v1/recurring-invoices/{recurring_id}", headers=headers).get_json()["generated"])
                   for recurring_id in ids)
    numbers = listed_numbers(client, headers)
    total_s = generating_s + catching_up_s
    return {"benchmark": "recurring_occurrences", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "occurrences_due": occurrences, "schedules": schedules, "unit": "week", "mode": "issue",
            "lines_per_invoice": len(LINES), "rounds": rounds,
            "generating_s": round(generating_s, 1), "read_models_catching_up_s": round(catching_up_s, 1),
            "occurrences_per_s": round(generated / generating_s, 1) if generating_s else None,
            "occurrences_per_s_with_catching_up": round(generated / total_s, 1) if total_s else None,
            "check": {"invoices_generated": generated, "occurrences_recorded": recorded,
                      "numbers_listed": numbering_check(numbers, occurrences),
                      "ok": generated == recorded == occurrences and numbering_check(numbers, occurrences)["ok"]}}


def main(argv: list[str] | None = None, env: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--occurrences", type=int, default=10000, help="occurrences due in all")
    parser.add_argument("--schedules", type=int, default=100, help="weekly recurring invoices they are spread over")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway databases (named in the report)")
    args = parser.parse_args(argv)
    if min(args.occurrences, args.schedules) < 1:
        parser.error("--occurrences and --schedules must be at least 1")
    container = container_on(mongo_uri(env if env is not None else dict(os.environ)), os.urandom(4).hex())
    try:
        report = run(container, args.occurrences, args.schedules)
    finally:
        if not args.keep:
            for db in ("BILLING_DB", "KEYVAULT_DB", "PRIVACY_EXCHANGE_DB"):
                container.mongo.client.drop_database(container.settings[db])
    save({**report, "databases_kept": [container.settings["BILLING_DB"]] if args.keep else []})
    check = report["check"]
    print(f"{check['invoices_generated']} of {args.occurrences} due occurrences generated in "
          f"{report['generating_s']} s ({report['occurrences_per_s']}/s; {report['read_models_catching_up_s']} s "
          f"more for the read models); numbers unique {check['numbers_listed']['unique']}, gapless "
          f"{check['numbers_listed']['gapless']}: {'OK' if check['ok'] else 'FAILED'}", flush=True)
    return 0 if check["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
