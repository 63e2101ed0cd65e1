"""Contacts' answer to a person's privacy export and erasure (issue 13), in-process on the real database.

The end-to-end benchmark (privacy_requests.py) found contacts' answer alone at export p50 3.3 s and erasure p50
3.8 s under load (docs/figures.md). This script times contacts' own privacy handler (the one the worker's privacy
consumer calls: crm_platform.privacy_participation with contacts' participant, service_layer/privacy.py) on
contacts' real Container (event store, read models, key vault, attachment blobs, uploads, export exchange) on the
MongoDB server of `make run` (or MONGO_URI), in throwaway databases dropped at the end; no Kafka, no HTTP server,
no privacy service.

Each run seeds a new person of one account with contacts' share of the benchmark's volumes, through contacts' own
commands (default 380 notes, 10 files, a profile picture, two labels, two custom values, and an uploaded import
file that lists them), the read models caught up. --others adds that many more people with as much to the account
first (an account is rarely one person). Then, timed, one after the other: the export request (its part written
to the exchange) and the erasure request, each counted in database statements by collection with the server's
time (a pymongo CommandListener). Prints p50/max over the runs, and the check: the export held the contact, every
note and file; the erasure destroyed the contact's key and the import's, released the identity claims, and the
read models, caught up afterwards, show nothing of the person; a second delivery of the erasure answers nothing more.
Saves JSON under benchmarks/results/.

Run (MongoDB server of `make run`, or `eval "$(python -m devinfra env)"` first):
  python benchmarks/contacts_privacy.py [--runs 5] [--notes 380] [--files 10] [--others 0] [--profile]
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO), str(REPO / "services" / "contacts")]
from reporting import (ReadModelsCatchUp, mongo_uri, percentile, privacy_replies, privacy_reply,  # noqa: E402
                       print_answer_summary, print_run_line, save, throwaway_container, timed_answer)
from PIL import Image  # noqa: E402
from crm_platform.contracts.privacy import ErasureRequested, SubjectExportRequested  # noqa: E402
from crm_platform.testing.statements import TimedStatements  # noqa: E402
from contacts import config  # noqa: E402
from contacts.bootstrap import Container  # noqa: E402
from contacts.domain import commands  # noqa: E402
from contacts.service_layer import import_handlers  # noqa: E402

ACCOUNT = "acct-bench"
LABELS = ("Très important", "Salon 2026")
FIELDS = (("budget", "Budget", "number"), ("secteur", "Secteur", "text"))
DATABASES = ("CONTACTS_DB", "KEYVAULT_DB", "PRIVACY_EXCHANGE_DB")


def container_on(uri: str, suffix: str, listener=None) -> Container:
    """Contacts' Container on throwaway databases of that server (reporting.throwaway_container)."""
    return throwaway_container(Container, config, uri, suffix, {"CONTACTS_DB": "contacts", "KEYVAULT_DB": "keys",
                                                                 "PRIVACY_EXCHANGE_DB": "exchange"}, listener)


def seed_account(container) -> dict:
    """The account's labels and custom fields (their keys)."""
    bus = container.bus
    labels = [bus.handle(commands.CreateLabel(ACCOUNT, name)).key for name in LABELS]
    for key, name, kind in FIELDS:
        bus.handle(commands.AddCustomField(ACCOUNT, name, kind, key))
    return {"labels": labels}


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def seed_person(container, account: dict, name: str, notes: int, files: int) -> dict:
    """A contact with two labels, two custom values, `notes` notes, `files` files and a profile picture, as
    contacts' API would make them, and an uploaded import file listing them (not started)."""
    bus, marker = container.bus, os.urandom(4).hex()
    email, phone = f"{name}.{marker}@example.fr", f"+3361{int(marker, 16) % 10**7:07d}"
    contact = bus.handle(commands.CreateContact(ACCOUNT, {
        "first_name": f"Éloïse {name}", "last_name": f"Vautrin{marker}", "emails": [{"address": email}],
        "phones": [{"number": phone}], "custom_fields": {"budget": 1200, "secteur": "Édition"}}))
    for key in account["labels"]:
        bus.handle(commands.AssignLabel(ACCOUNT, contact.id, key))
    note_ids = [bus.handle(commands.AddNote(ACCOUNT, contact.id, "note", f"Note {n}: rappeler {marker} mardi")).id
                for n in range(notes)]
    max_bytes = container.settings["ATTACHMENT_MAX_BYTES"]
    attachment_ids = [bus.handle(commands.AddAttachment(
        ACCOUNT, contact.id, f"contrat-{n}.pdf", "application/pdf",
        f"%PDF-1.7\ncontrat {n} de {marker}\n".encode() + os.urandom(20_000), max_bytes)).id for n in range(files)]
    bus.handle(commands.SetProfilePicture(ACCOUNT, contact.id, "photo.png", "image/png", picture(),
                                          container.settings["PICTURE_MAX_BYTES"]))
    listed = f"Prénom;Nom;Email\nÉloïse;Vautrin{marker};{email}\nPaul;Dupont{marker};paul.{marker}@x.example\n"
    imported = import_handlers.upload(container.imports, container.uploads, ACCOUNT, "clients.csv",
                                      listed.encode(), [])
    return {"contact_id": contact.id, "note_ids": note_ids, "attachment_ids": attachment_ids,
            "import_id": imported["id"]}


def one_run(container, statements: TimedStatements, catch_up, account: dict, run: int, args) -> dict:
    person = seed_person(container, account, f"bench{run}", args.notes, args.files)
    catch_up()
    handler = container.privacy_handler()
    stamp = datetime.now(timezone.utc).isoformat()
    contact_id = person["contact_id"]
    export = timed_answer(handler, statements, SubjectExportRequested(
        f"request:export-{run}", ACCOUNT, [contact_id], ["contacts"], stamp), args.profile)
    exported = privacy_reply(container, f"request:export-{run}")
    erasure_request = ErasureRequested(f"request:erase-{run}", ACCOUNT, [contact_id], ["contacts"], stamp)
    erasure = timed_answer(handler, statements, erasure_request, args.profile)
    erased = privacy_reply(container, f"request:erase-{run}")
    again = timed_answer(container.privacy_handler(), statements, erasure_request, False)  # answered already
    catch_up()  # the read models apply ContactErased as the worker's projection consumer would
    part = container.privacy_exchange.read_part(f"request:export-{run}", exported["part_blob_id"])
    data, db = part["data"], container.db
    check = {"contacts_exported": len(data["contacts"]), "notes_exported": len(data["notes"]),
             "files_exported": len(part["files"]), "labels_exported": len(data["labels"]),
             "item_count": exported["item_count"], "outcome": erased["outcome"],
             "keys_destroyed": sorted(erased["keys_destroyed"]), "items_erased": erased["items_erased"],
             "claims_left": db["identity_claims"].count_documents({"contact_id": contact_id}),
             "notes_readable": db["notes"].count_documents({"contact_id": contact_id, "text": {"$exists": True}}),
             "contact_tombstoned": db["contacts"].count_documents({"_id": contact_id, "erased": True}),
             "import_forgotten": container.cipher.is_erased(person["import_id"]),
             "replies_after_redelivery": privacy_replies(container, f"request:erase-{run}")}
    files = len(person["attachment_ids"]) + 1  # and the picture
    check["ok"] = (check["contacts_exported"] == 1 and check["notes_exported"] == args.notes
                   and check["files_exported"] == files and check["labels_exported"] == len(LABELS)
                   and check["item_count"] == 1 + args.notes + files and erased["outcome"] == "erased"
                   and check["keys_destroyed"] == sorted([f"contact:{contact_id}", person["import_id"]])
                   and check["items_erased"] == 1 + args.notes + files + 1
                   and check["claims_left"] == 0 and check["notes_readable"] == 0 and check["contact_tombstoned"] == 1
                   and check["import_forgotten"] and check["replies_after_redelivery"] == 1)
    print_run_line(run, export, erasure, again, check)
    return {"export": export, "erasure": erasure, "redelivered": again, "check": check}


def run(container, statements: TimedStatements, args) -> dict:
    load_before = [round(x, 2) for x in os.getloadavg()]
    catch_up = ReadModelsCatchUp(container, "projection_batch", "apply_to_projections")
    account = seed_account(container)
    started = time.perf_counter()
    for other in range(args.others):
        seed_person(container, account, f"other{other}", args.notes, args.files)
    if args.others:
        catch_up()
        print(f"seeded {args.others} other people in {time.perf_counter() - started:.1f} s", flush=True)
    runs = [one_run(container, statements, catch_up, account, n, args) for n in range(args.runs)]
    summary = {phase: {"p50_ms": round(percentile([r[phase]["ms"] for r in runs], 50), 1),
                       "max_ms": max(r[phase]["ms"] for r in runs),
                       "statements_p50": percentile([r[phase]["statements"] for r in runs], 50)}
               for phase in ("export", "erasure")}
    return {"benchmark": "contacts_privacy", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "load_average_before": load_before, "notes": args.notes, "files": args.files, "others": args.others,
            "summary": summary, "runs": runs, "check": {"ok": all(r["check"]["ok"] for r in runs)}}


def main(argv: list[str] | None = None, env: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="people exported then erased, one after the other")
    parser.add_argument("--notes", type=int, default=380, help="notes per person")
    parser.add_argument("--files", type=int, default=10, help="files per person (and a profile picture)")
    parser.add_argument("--others", type=int, default=0, help="other people with as much in the account")
    parser.add_argument("--profile", action="store_true", help="a cProfile of each timed answer in the report")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway databases")
    args = parser.parse_args(argv)
    if args.runs < 1 or min(args.notes, args.files, args.others) < 0:
        parser.error("--runs must be at least 1, the counts not negative")
    statements = TimedStatements()
    container = container_on(mongo_uri(env if env is not None else dict(os.environ)), os.urandom(4).hex(), statements)
    try:
        report = run(container, statements, args)
    finally:
        if not args.keep:
            for db in DATABASES:
                container.mongo.client.drop_database(container.settings[db])
    save(report)
    return print_answer_summary("contacts'", args.runs, report)


if __name__ == "__main__":
    sys.exit(main())
