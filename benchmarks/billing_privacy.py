"""Billing's answer to a person's privacy export and erasure (issue 13), in-process on the real database.

The end-to-end benchmark (privacy_requests.py) names billing as the slowest service to answer. This script times
billing's own privacy handler (the one the worker's privacy consumer calls: crm_platform.privacy_participation) on
billing's real Container (event store, read models, key vault, kept PDFs, export exchange) on the MongoDB server of
`make run` (or MONGO_URI), in throwaway databases dropped at the end; no Kafka, no HTTP server, no privacy service.

Each run seeds a new person of one account with the benchmark's volumes in billing (default 50 invoices of which
every second is issued, 10 quotes), the read models caught up, and the issued invoices' PDFs kept as the worker's
printing consumer keeps them (unless --no-kept-pdfs: then the export renders them). --others adds that many more
people with the same documents to the account first (an account is rarely one person). Then, timed, one after the
other: the export request (its part written to the exchange) and the erasure request, each counted in database
statements by collection (a pymongo CommandListener). Prints p50/max over the runs, and the check: the export held
every document, the erasure retained the issued invoices and destroyed the keys of the drafts and quotes; a second
delivery of the erasure request answers nothing more. Saves JSON under benchmarks/results/.

Run (MongoDB server of `make run`, or `eval "$(python -m devinfra env)"` first):
  python benchmarks/billing_privacy.py [--runs 5] [--invoices 50] [--quotes 10] [--others 0] [--profile]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO), str(REPO / "services" / "billing")]
from reporting import (ReadModelsCatchUp, mongo_uri, percentile, privacy_replies, privacy_reply,  # noqa: E402
                       print_answer_summary, print_run_line, save, timed_answer as timed)
from recurring_occurrences import container_on  # noqa: E402
from crm_platform.contracts.privacy import ErasureRequested, SubjectExportRequested  # noqa: E402
from crm_platform.testing.statements import TimedStatements  # noqa: E402
from billing.adapters.document_rendering import render_pdf  # noqa: E402
from billing.adapters.cross_industry_invoice import e_invoice_xml  # noqa: E402
from billing.domain import commands  # noqa: E402
from billing.domain import quote_commands as quote_commands  # noqa: E402
from billing.service_layer import printing  # noqa: E402
from billing_tests.contact_events import LOUISE, ContactEvents  # noqa: E402

ACCOUNT = "acct-bench"
LINE = {"description": "Accompagnement", "quantity": "1", "unit": "jour", "unit_price": "450.00",
        "taxes": [{"category": "S", "rate": "20"}]}


def seed_person(container, contact_id: str, invoices: int, quotes: int, keep_pdfs: bool) -> dict:
    """A customer with `invoices` invoices (every second one issued) and `quotes` quote drafts, as billing's API
    would make them; the issued invoices' PDFs kept as the printing consumer keeps them (unless not `keep_pdfs`)."""
    container.apply_to_customers(ContactEvents(container.cipher, ACCOUNT).created(contact_id, LOUISE))
    bus, drafts, issued = container.bus, [], []
    for n in range(invoices):
        draft = bus.handle(commands.CreateInvoiceDraft(ACCOUNT, contact_id, (LINE,), notes=f"Note {n}"))
        if n % 2:
            issued.append(bus.handle(commands.IssueInvoice(ACCOUNT, draft.id)).id)
        else:
            drafts.append(draft.id)
    made = [bus.handle(quote_commands.CreateQuoteDraft(ACCOUNT, contact_id, (LINE,))).id for _ in range(quotes)]
    if keep_pdfs:
        for invoice_id in issued:
            printing.keep_printed("InvoiceIssued", ACCOUNT, invoice_id, container.unit_of_work(),
                                  container.kept_pdfs, render_pdf, e_invoice_xml)
    return {"contact_id": contact_id, "drafts": drafts, "issued": issued, "quotes": made}


def one_run(container, statements: TimedStatements, catch_up, run: int, args) -> dict:
    person = seed_person(container, f"contact:bench-{run}", args.invoices, args.quotes, args.kept_pdfs)
    catch_up()
    handler = container.privacy_handler()
    stamp = datetime.now(timezone.utc).isoformat()
    contact = [person["contact_id"]]
    export = timed(handler, statements, SubjectExportRequested(f"request:export-{run}", ACCOUNT, contact, ["billing"],
                                                               stamp), args.profile)
    exported = privacy_reply(container, f"request:export-{run}")
    erasure_request = ErasureRequested(f"request:erase-{run}", ACCOUNT, contact, ["billing"], stamp)
    erasure = timed(handler, statements, erasure_request, args.profile)
    erased = privacy_reply(container, f"request:erase-{run}")
    again = timed(container.privacy_handler(), statements, erasure_request, False)  # a redelivery: answered already
    part = container.privacy_exchange.read_part(f"request:export-{run}", exported["part_blob_id"])
    invoices = len(person["drafts"]) + len(person["issued"])
    expected_keys = sorted(f"billing-document:{i}" for i in person["drafts"] + person["quotes"])
    check = {"invoices_exported": len(part["data"]["invoices"]), "quotes_exported": len(part["data"]["quotes"]),
             "pdfs_exported": len([f for f in part["files"] if f["name"].endswith(".pdf")]),
             "outcome": erased["outcome"], "retained": len(erased["retained"]),
             "keys_destroyed": len(erased["keys_destroyed"])}
    check["replies_after_redelivery"] = privacy_replies(container, f"request:erase-{run}")
    check["ok"] = (check["invoices_exported"] == invoices and check["quotes_exported"] == len(person["quotes"])
                   and check["pdfs_exported"] == len(person["issued"])
                   and erased["outcome"] == ("retained" if person["issued"] else "erased")
                   and sorted(item["item"] for item in erased["retained"])
                   == sorted(f"invoice:{i}" for i in person["issued"])
                   and sorted(erased["keys_destroyed"]) == expected_keys
                   and check["replies_after_redelivery"] == 1)
    print_run_line(run, export, erasure, again, check)
    return {"export": export, "erasure": erasure, "redelivered": again, "check": check}


def run(container, statements: TimedStatements, args) -> dict:
    load_before = [round(x, 2) for x in os.getloadavg()]
    catch_up = ReadModelsCatchUp(container)
    started = time.perf_counter()
    for other in range(args.others):
        seed_person(container, f"contact:other-{other}", args.invoices, args.quotes, keep_pdfs=False)
    if args.others:
        catch_up()
        print(f"seeded {args.others} other people in {time.perf_counter() - started:.1f} s", flush=True)
    runs = [one_run(container, statements, catch_up, n, args) for n in range(args.runs)]
    summary = {phase: {"p50_ms": round(percentile([r[phase]["ms"] for r in runs], 50), 1),
                       "max_ms": max(r[phase]["ms"] for r in runs),
                       "statements_p50": percentile([r[phase]["statements"] for r in runs], 50)}
               for phase in ("export", "erasure")}
    return {"benchmark": "billing_privacy", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "load_average_before": load_before,
            "invoices": args.invoices, "issued": args.invoices // 2, "quotes": args.quotes, "others": args.others,
            "kept_pdfs": args.kept_pdfs, "summary": summary, "runs": runs,
            "check": {"ok": all(r["check"]["ok"] for r in runs)}}


def main(argv: list[str] | None = None, env: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="people exported then erased, one after the other")
    parser.add_argument("--invoices", type=int, default=50, help="invoices per person (every second one issued)")
    parser.add_argument("--quotes", type=int, default=10, help="quote drafts per person")
    parser.add_argument("--others", type=int, default=0, help="other people with as many documents in the account")
    parser.add_argument("--no-kept-pdfs", dest="kept_pdfs", action="store_false",
                        help="the printing consumer has not kept the issued invoices' PDFs: the export renders them")
    parser.add_argument("--profile", action="store_true", help="a cProfile of each timed answer in the report")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway databases")
    args = parser.parse_args(argv)
    if args.runs < 1 or min(args.invoices, args.quotes, args.others) < 0:
        parser.error("--runs must be at least 1, the counts not negative")
    statements = TimedStatements()
    container = container_on(mongo_uri(env if env is not None else dict(os.environ)), os.urandom(4).hex(), statements)
    container.note_document_parties()  # as billing's worker does at start: on a new store, only the marker
    try:
        report = run(container, statements, args)
    finally:
        container.close_printing_renderer()
        if not args.keep:
            for db in ("BILLING_DB", "KEYVAULT_DB", "PRIVACY_EXCHANGE_DB"):
                container.mongo.client.drop_database(container.settings[db])
    save(report)
    return print_answer_summary("billing's", args.runs, report)


if __name__ == "__main__":
    sys.exit(main())
