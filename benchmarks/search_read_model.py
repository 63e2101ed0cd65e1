"""Contacts search straight on the read model: a `$regex` (before issue 16) against word-prefix tokens.

No gateway and no `make run` needed, only the MongoDB server: for each count N (default
5,000 and 20,000) it seeds a new throwaway database with N contacts of one account, twice,
in the read model only:
  - `before`: documents as the projection wrote them before search tokens (folded
    `search_text`, phone digits in `search_phones`, no tokens, only the `account_listing` index),
    searched by the `$regex` query of that time;
  - `after`: the projection's own documents and indexes today (`view_fields`,
    `ContactsProjection.ensure_indexes`), searched by `contact_query.find_page`.
Then it runs `python -m devinfra index` (FerretDB on PostgreSQL: the GIN indexes and their
statistics; nothing to do elsewhere), times R first pages (50, newest first) of each kind of
search, of the default list and of a label + subscription filter sorted by last name on both,
prints p50/p95 and the query plans of the token searches, drops the database and saves JSON under benchmarks/results/.

    eval "$(python -m devinfra env)"; python benchmarks/search_read_model.py [--counts 5000,20000]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import phonenumbers
from bson import BSON
from pymongo import ASCENDING, DESCENDING, MongoClient

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "services" / "contacts"), str(REPO / "shared")]
from find_contacts import LAST_NAMES, row  # noqa: E402
from reporting import devinfra_index, percentile, save  # noqa: E402

from contacts.adapters.contacts_projection import ContactsProjection, view_fields  # noqa: E402
from contacts.adapters.search_keys import PHONE_LIKE, digits, fold, search_terms  # noqa: E402
from contacts.contact_query import ContactQuery, build_filter, find_page, literal_regex  # noqa: E402
from contacts.domain.model import Contact  # noqa: E402
from crm_platform.pagination import keyset_page  # noqa: E402

ACCOUNT = "acct-search-bench"
PAGE = 50


def before_fields(fields: dict) -> dict:
    """A document as the projection wrote it before search tokens: phone digits, no tokens."""
    old = {name: value for name, value in fields.items() if name != "search_tokens"}
    spellings = set()
    for phone in fields["phones"]:
        spellings.add(digits(phone["number"]))
        if phone.get("e164"):
            national = phonenumbers.format_number(phonenumbers.parse(phone["e164"]), phonenumbers.PhoneNumberFormat.NATIONAL)
            spellings |= {digits(phone["e164"]), digits(national)}
    return {**old, "search_phones": sorted(s for s in spellings if s)}


def regex_filter(q: str) -> dict:
    """The search filter before search tokens (commit cef1a33)."""
    text = {"search_text": {"$regex": literal_regex(fold(q))}}
    number = digits(q)
    clause = {"$or": [text, {"search_phones": {"$regex": number}}]} if PHONE_LIKE.match(q) and len(number) >= 3 else text
    return {"account_id": ACCOUNT, "deleted": False, "$and": [clause]}


def seed(db, count: int, run: int, batch: int = 1000) -> None:
    before, after = db["contacts_before"], db["contacts"]
    for start in range(0, count, batch):
        docs = []
        for i in range(start, min(count, start + batch)):
            contact = Contact.create(ACCOUNT, row(run, i), labels=["client"])
            now = datetime.now(timezone.utc)
            docs.append({"_id": contact.id, "account_id": ACCOUNT, "version": 1, "deleted": False,
                         "updated_at": now, "last_activity_at": now, **view_fields(contact.details, contact.created_at)})
        after.insert_many(docs, ordered=False)
        before.insert_many([before_fields(doc) for doc in docs], ordered=False)
    # Indexes once the data is in: devinfra's indexer then analyzes the full tables.
    before.create_index([("account_id", ASCENDING), ("deleted", ASCENDING), ("created_at", DESCENDING),
                         ("_id", DESCENDING)], name="account_listing")
    ContactsProjection(after, codec=None).ensure_indexes()
    print(f"  {devinfra_index()}", flush=True)


def searches(count: int, run: int) -> dict[str, list[str]]:
    """Queries of each kind, each finding one contact unless said (contacts are the `row`s of find_contacts.py)."""
    rng = random.Random(count)
    rows = [row(run, rng.randrange(count)) for _ in range(40)]

    def national(r: dict) -> str:  # "+33 6 12 34 56 78" as people write it at home: "06 12 34 56 78"
        return "0" + r["phones"][0]["number"][4:]

    return {
        "name word, 5 letters (~5 % of the account)": [rng.choice(LAST_NAMES)[:5].lower() for _ in rows],
        "first and last name": [f"{r['first_name']} {r['last_name']}" for r in rows],
        "email start": [r["emails"][0]["address"].split(".r")[0] + "." for r in rows],
        "phone, national, whole": [national(r) for r in rows],
        "phone, last 4 digits": [national(r)[-5:] for r in rows],
    }


def timed(page) -> float:
    started = time.perf_counter()
    page()
    return (time.perf_counter() - started) * 1000


def figures(times: list[float]) -> dict:
    return {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1), "runs": len(times)}


def average_size(db, collection: str) -> float:
    """The average BSON size of the collection's documents, from a sample of 200."""
    sample = list(db[collection].find({}).limit(200))
    return sum(len(BSON.encode(doc)) for doc in sample) / max(1, len(sample))


def plan_nodes(explained) -> list[str]:
    """Node types (PostgreSQL, under FerretDB) or stages (MongoDB) of an explain answer, depth first."""
    found = []
    if isinstance(explained, dict):
        for key, value in explained.items():
            if key in ("Node Type", "stage", "Index Name", "indexName", "Index Cond") and isinstance(value, str):
                found.append(value)
            found += plan_nodes(value)
    elif isinstance(explained, list):
        for value in explained:
            found += plan_nodes(value)
    return found


def measure(db, count: int, run: int, repeats: int, before_repeats: int) -> dict:
    before, after = db["contacts_before"], db["contacts"]
    results: dict = {}
    for kind, queries in searches(count, run).items():
        new = [timed(lambda q=q: find_page(after, ACCOUNT, ContactQuery(q=q), PAGE, None)) for q in queries[:repeats]]
        old = [timed(lambda q=q: keyset_page(before, regex_filter(q), sort="-created_at", field="created_at",
                                              limit=PAGE, cursor=None, dated=True)) for q in queries[:before_repeats]]
        found = [len(find_page(after, ACCOUNT, ContactQuery(q=q), PAGE, None)[0]) for q in queries[:5]]
        results[kind] = {"example": queries[0], "found_in_first_5": found, "before": figures(old), "after": figures(new)}
        print(f"  {kind} ({queries[0]!r}, found {found}): before {results[kind]['before']} after {results[kind]['after']}",
              flush=True)
    # The alternative to one token as a top-level equality: every token in one `$all` (FerretDB does not push it down).
    two_words = searches(count, run)["first and last name"]
    as_all = [timed(lambda q=q: keyset_page(after, {"account_id": ACCOUNT, "deleted": False, "search_tokens": {
        "$all": search_terms(q).tokens}}, sort="-created_at", field="created_at", limit=PAGE, cursor=None, dated=True))
        for q in two_words[:before_repeats]]
    results["first and last name, every token in one $all"] = figures(as_all)
    print(f"  first and last name, every token in one $all: {figures(as_all)}", flush=True)
    listing = {name: figures([timed(lambda c=collection: find_page(c, ACCOUNT, ContactQuery(), PAGE, None))
                              for _ in range(before_repeats)]) for name, collection in (("before", before), ("after", after))}
    results["default list page"] = listing
    print(f"  default list page: {listing}", flush=True)
    # A filter FerretDB pushes down (label and subscription equalities), sorted by last name in memory: it decodes
    # every matching document, so it pays for the tokens' share of each document as the default list does.
    filtered = ContactQuery(labels_any=["client"], subscription_status="subscribed", sort="last_name")
    labelled = {name: figures([timed(lambda c=collection: find_page(c, ACCOUNT, filtered, PAGE, None))
                               for _ in range(before_repeats)]) for name, collection in (("before", before), ("after", after))}
    results["label + subscription, sorted by last name"] = labelled
    print(f"  label + subscription, sorted by last name: {labelled}", flush=True)
    sizes = {name: round(average_size(db, collection.name)) for name, collection in (("before", before), ("after", after))}
    results["average document size (bytes, BSON)"] = sizes
    print(f"  average document size (bytes, BSON): {sizes}", flush=True)
    q = searches(count, run)["first and last name"][0]
    explained = db.command({"explain": {"find": "contacts", "filter": build_filter(ACCOUNT, ContactQuery(q=q)),
                                        "sort": {"created_at": -1}, "limit": PAGE + 1}})
    results["plan of a two-word search"] = {"q": q, "filterPushdown": explained.get("filterPushdown"),
                                            "nodes": plan_nodes(explained.get("queryPlanner"))}
    print(f"  plan of {q!r}: {results['plan of a two-word search']}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="5000,20000", help="comma-separated numbers of contacts")
    parser.add_argument("--repeats", type=int, default=30, help="token searches timed per kind")
    parser.add_argument("--before-repeats", type=int, default=10, help="regex searches and list pages timed per kind")
    args = parser.parse_args()
    client = MongoClient(os.environ["MONGO_URI"])
    report: dict = {"benchmark": "search_read_model", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "page": PAGE, "by_count": {}}
    for count in (int(c) for c in args.counts.split(",")):
        name, run = f"bench_search_{uuid.uuid4().hex[:12]}", random.randrange(10_000)
        print(f"{count} contacts in the throwaway database {name}...", flush=True)
        try:
            started = time.perf_counter()
            seed(client[name], count, run)
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
            report["by_count"][str(count)] = measure(client[name], count, run, args.repeats, args.before_repeats)
        finally:
            client.drop_database(name)
    save(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
