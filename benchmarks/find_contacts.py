"""Finding contacts among 100,000 of one account, through the gateway.

1. Seeds N contacts (default 100,000) into a new account, one of two ways:
   - `--seed pipeline`: the service's own bulk path (contacts.service_layer.bulk_create, the
     one imports use): domain rules, sealed personal data, event store and outbox; the running
     worker relays the events to Kafka and builds the read model; the script waits until the
     read model holds them all. Realistic, but on FerretDB it takes hours at 100,000
     (every subject-key and commit lookup scans), see the README.
   - `--seed read-model` (default): the same contacts, normalised by the domain and turned into
     read-model documents by the projection's own `view_fields`, bulk-inserted into the read
     model only (no events: these contacts can be read, not changed). It measures what this
     benchmark is about, the reads, in minutes.
   `--seed none` when the account holds its contacts already.
2. Times, through the gateway, R requests (default 30) of each:
   - search: `q=` with a last-name fragment, an email fragment or phone digits;
   - filter: `labels_any=<label>&subscription_status=subscribed&sort=last_name`;
   - read: GET /v1/contacts/{id} of a random contact;
   - the default list (newest first, 50 a page): its first page, and R pages following the cursor.
3. With `--by-name N`, N requests each of more lists sorted by a name (the whole account by last
   name, by `-last_name`, by first name; a label by last name; the filter above by `-last_name`;
   a search by last name); with `--one-query N`, the one sorted query lists by last name made
   before the initials (adapters/name_initials.py), timed on the read model directly: N times for
   the filter above, once for the whole account.
Prints p50/p95 per kind, the seeding rate, the database server, and saves
JSON under benchmarks/results/.

Run against a system started with `make run`:  python benchmarks/find_contacts.py [--count 100000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from reporting import VAR, load_env, percentile, save  # noqa: E402

LAST_NAMES = ["Desnotés", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
              "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent"]
FIRST_NAMES = ["Louise", "Jean", "Marie", "Pierre", "Camille", "Léa", "Hugo", "Chloé", "Lucas", "Inès"]
LABELS = ["client", "partenaire", "prospect"]
STATUSES = ["not_set", "pending", "subscribed", "unsubscribed"]


def row(run: int, i: int) -> dict:
    rng = random.Random(i)
    return {
        "first_name": rng.choice(FIRST_NAMES), "last_name": f"{rng.choice(LAST_NAMES)}{i % 997}",
        "company": f"Société {i % 5000}",
        "emails": [{"address": f"contact{i}.r{run}@exemple.fr", "subscription_status": STATUSES[i % 4]}],
        "phones": [{"number": f"+33 6 {run % 100:02d} {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}"}],
        "addresses": [{"city": "Lille", "postal_code": "59000", "country": "FR"}],
    }


def new_account(env: dict, name: str) -> dict:
    """A fresh account and its API key, through the gateway's own command."""
    return json.loads(subprocess.run(
        [sys.executable, "-m", "gateway.entrypoints.cli", "create-account", "--name", name, "--json"],
        check=True, capture_output=True, text=True, env=env).stdout)


def container_of(env: dict):
    sys.path[:0] = [str(REPO / "services" / "contacts"), str(REPO / "shared")]
    from contacts import config
    from contacts.bootstrap import Container

    return Container(config.load(env))


def seed_read_model(env: dict, account_id: str, count: int, batch: int) -> dict:
    sampled: list[str] = []  # ids to read one by one, without listing the account (slow on FerretDB)
    from contacts.adapters.contacts_projection import view_fields
    from contacts.domain.model import Contact

    projection = container_of(env).projection
    contacts = projection.collection
    run = random.randrange(10_000)
    started = time.perf_counter()
    for start in range(0, count, batch):
        label = LABELS[(start // batch) % len(LABELS)]
        docs = []
        for i in range(start, min(count, start + batch)):
            contact = Contact.create(account_id, row(run, i), labels=[label])
            now = datetime.now(timezone.utc)
            docs.append({"_id": contact.id, "account_id": account_id, "version": 1, "deleted": False,
                         "updated_at": now, "last_activity_at": now,
                         **view_fields(contact.details, contact.created_at)})
        projection.new_documents(docs)  # the creation numbers the projection gives (adapters/contact_numbers.py)
        contacts.insert_many(docs, ordered=False)
        sampled.extend(doc["_id"] for doc in docs[:2])
        if (start // batch) % 10 == 0:
            print(f"  read model: {min(count, start + batch)}/{count}", flush=True)
    elapsed = time.perf_counter() - started
    return {"mode": "read-model", "seconds": round(elapsed, 1), "rows_per_s": round(count / elapsed, 1),
            "sample_ids": sampled[:200]}


def seed_pipeline(env: dict, account_id: str, count: int, batch: int) -> dict:
    from contacts.service_layer.bulk_create import create_many

    container = container_of(env)
    run = random.randrange(10_000)
    started = time.perf_counter()
    created = 0
    for start in range(0, count, batch):
        label = LABELS[(start // batch) % len(LABELS)]
        rows = [row(run, i) for i in range(start, min(count, start + batch))]
        outcomes = create_many(container.unit_of_work(), account_id, rows, labels=[label])
        created += sum(o.status == "created" for o in outcomes)
        print(f"  stored {min(count, start + batch)}/{count} ({created} created)", flush=True)
    stored_s = time.perf_counter() - started
    contacts = container.projection.collection
    while (projected := contacts.count_documents({"account_id": account_id, "deleted": False})) < count:
        print(f"  read model: {projected}/{count} after {time.perf_counter() - started:.0f} s", flush=True)
        time.sleep(10)
    total_s = time.perf_counter() - started
    return {"mode": "pipeline", "created": created, "stored_s": round(stored_s, 1), "queryable_s": round(total_s, 1),
            "rows_per_s_stored": round(count / stored_s, 1), "rows_per_s_queryable": round(count / total_s, 1)}


def timed(session: requests.Session, url: str, headers: dict) -> tuple[float, int]:
    started = time.perf_counter()
    response = session.get(url, headers=headers, timeout=300)
    return time.perf_counter() - started, response.status_code


def measure(gateway: str, headers: dict, repeats: int, sample_ids: list[str]) -> dict:
    session = requests.Session()
    rng = random.Random(7)
    queries = {
        "search": lambda: f"/v1/contacts?q={rng.choice([rng.choice(LAST_NAMES)[:5].lower(), f'contact{rng.randrange(100000)}.', f'{rng.randrange(10, 99)} {rng.randrange(10, 99)}'])}",
        "label_status_by_last_name": lambda: f"/v1/contacts?labels_any={rng.choice(LABELS)}&subscription_status=subscribed&sort=last_name",
        "read_one": lambda: f"/v1/contacts/{rng.choice(sample_ids)}",
        "default_list_first_page": lambda: "/v1/contacts?limit=50",
    }
    results = each_kind(session, gateway, headers, queries, repeats)
    results["default_list_next_pages"] = next_pages(session, gateway, headers, repeats)
    return results


def each_kind(session: requests.Session, gateway: str, headers: dict, queries: dict, repeats: int) -> dict:
    """`repeats` requests of each kind (name -> a function making its path): p50, p95, max, statuses not 200."""
    results = {}
    for name, make in queries.items():
        answers = [timed(session, gateway + make(), headers) for _ in range(repeats)]
        times = [elapsed * 1000 for elapsed, _ in answers]
        results[name] = {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
                         "max_ms": round(max(times), 1), "requests": repeats,
                         "not_200": sorted(status for _, status in answers if status != 200)}
        print(f"  {name}: p50 {results[name]['p50_ms']} ms, p95 {results[name]['p95_ms']} ms, "
              f"max {results[name]['max_ms']} ms", flush=True)
    return results


def measure_by_name(gateway: str, headers: dict, repeats: int) -> dict:
    """Lists sorted by a name (read initial by initial, contact_pages.name_page), `repeats` requests each."""
    session = requests.Session()
    rng = random.Random(11)
    queries = {
        "whole_account_by_last_name": lambda: "/v1/contacts?sort=last_name",
        "whole_account_by_descending_last_name": lambda: "/v1/contacts?sort=-last_name",
        "whole_account_by_first_name": lambda: "/v1/contacts?sort=first_name",
        "label_by_last_name": lambda: f"/v1/contacts?labels_any={rng.choice(LABELS)}&sort=last_name",
        "label_status_by_descending_last_name":
            lambda: f"/v1/contacts?labels_any={rng.choice(LABELS)}&subscription_status=subscribed&sort=-last_name",
        "search_by_last_name": lambda: f"/v1/contacts?q=contact{rng.randrange(100000)}.&sort=last_name",
    }
    return each_kind(session, gateway, headers, queries, repeats)


def measure_one_query(env: dict, account_id: str, repeats: int) -> dict:
    """What a list sorted by last name cost before the initials: one query sorting all its filter lets through
    (crm_platform.pagination.keyset_page), timed on the read model directly, `repeats` times for the label and
    status filter and once for the whole account (tens of seconds on FerretDB)."""
    from crm_platform.pagination import keyset_page
    from contacts.contact_query import ContactQuery, build_filter

    contacts = container_of(env).projection.collection
    rng = random.Random(13)
    results = {}
    for name, runs, query in (
            ("label_status_by_last_name", repeats,
             lambda: ContactQuery(labels_any=[rng.choice(LABELS)], subscription_status="subscribed")),
            ("whole_account_by_last_name", 1, ContactQuery)):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            keyset_page(contacts, build_filter(account_id, query()), sort="last_name", field="sort_last_name",
                        limit=50, cursor=None, dated=False)
            times.append((time.perf_counter() - started) * 1000)
        results[name] = {"p50_ms": round(percentile(times, 50), 1), "max_ms": round(max(times), 1), "requests": runs}
        print(f"  one sorted query, {name}: p50 {results[name]['p50_ms']} ms", flush=True)
    return results


def next_pages(session: requests.Session, gateway: str, headers: dict, pages: int) -> dict:
    """The default list page after page, each following the cursor of the one before."""
    times, statuses, cursor = [], [], None
    for _ in range(pages):
        started = time.perf_counter()
        response = session.get(f"{gateway}/v1/contacts", params={"limit": 50, **({"cursor": cursor} if cursor else {})},
                               headers=headers, timeout=300)
        times.append((time.perf_counter() - started) * 1000)
        statuses.append(response.status_code)
        cursor = response.json().get("next_cursor") if response.status_code == 200 else None
        if cursor is None:
            break
    result = {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
              "max_ms": round(max(times), 1), "requests": len(times), "not_200": sorted(s for s in statuses if s != 200)}
    print(f"  default_list_next_pages: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", choices=("read-model", "pipeline", "none"), default="read-model",
                        help="seeding a new account each time (saved to var/find-benchmark-account.json)")
    parser.add_argument("--account-file", default="find-benchmark-account.json",
                        help="with --seed none: the account to read from, in the var directory")
    parser.add_argument("--by-name", type=int, default=0, metavar="N",
                        help="also time N requests of more lists sorted by a name (the whole account, descending...)")
    parser.add_argument("--one-query", type=int, default=0, metavar="N",
                        help="also time the one sorted query lists by last name made before the initials, directly")
    args = parser.parse_args()
    env = load_env()
    if args.seed == "none":  # the account of an earlier run, or the demo account
        account = json.loads((VAR / args.account_file).read_text())
    else:
        account = new_account(env, "Find benchmark")
        (VAR / "find-benchmark-account.json").write_text(json.dumps(account))
    headers = {"Authorization": f"Bearer {account['api_key']}"}
    report: dict = {"benchmark": "find_contacts", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "contacts": args.count}
    if args.seed != "none":
        print(f"seeding {args.count} contacts into account {account['account_id']} ({args.seed})...", flush=True)
        seed = seed_read_model if args.seed == "read-model" else seed_pipeline
        report["seed"] = seed(env, account["account_id"], args.count, args.batch)
    sample_ids = report.get("seed", {}).pop("sample_ids", None)
    if not sample_ids:  # seeded otherwise: the default list (on FerretDB it sorts the account: can time out)
        page = requests.get(f"{args.gateway}/v1/contacts?limit=200&fields=first_name", headers=headers, timeout=300)
        sample_ids = [item["id"] for item in page.json()["items"]]
    print(f"timing {args.repeats} requests of each kind through {args.gateway}...", flush=True)
    report["through_gateway"] = measure(args.gateway, headers, args.repeats, sample_ids)
    if args.by_name:
        print(f"timing {args.by_name} requests of each list sorted by a name...", flush=True)
        report["by_name_through_gateway"] = measure_by_name(args.gateway, headers, args.by_name)
    if args.one_query:
        print("timing the one sorted query of lists by last name, on the read model...", flush=True)
        report["one_sorted_query_direct"] = measure_one_query(env, account["account_id"], args.one_query)
    save(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
