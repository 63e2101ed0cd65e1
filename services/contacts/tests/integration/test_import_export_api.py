"""Import and export through the contacts API on the real MongoDB server (the job step run here, as the worker does)."""
import io
import threading
import time
from datetime import datetime, timedelta, timezone

from crm_platform.jobs import JobRunner

from contacts import views
from contacts.service_layer import import_handlers
from contacts.service_layer.import_retention import forget_expired_imports, sweep_loop

from .conftest import headers
from .test_custom_fields_api import project_all

FRENCH_EXCEL = (
    "Prénom;Nom;Société;Téléphone;Portable;E-mail;Code postal;Ville;Pays\r\n"
    "Louise;Desnotés;Maison du Papier;03 20 06 51 26;06 12 34 56 78;louise@papier.fr;59000;Lille;France\r\n"
    "Hélène;Pâris;Café de l'Étoile;01 42 00 00 00;;helene@etoile.fr;75008;Paris;France\r\n"
    "Erreur;Sans-Email;;;;pas-un-email;;;Atlantide\r\n"
    "\r\n"
    "José;Ñúñez;Librería;;;jose@libreria.es;28001;Madrid;Espagne\r\n"
).encode("cp1252")


def upload(client, data, name="contacts.csv", account="acct-1"):
    return client.post("/v1/imports", data={"file": (io.BytesIO(data), name)}, headers=headers(account),
                       content_type="multipart/form-data")


def run_jobs(container):
    runner = JobRunner(container.jobs, {import_handlers.IMPORT_JOB: container.import_batches()}, save_every_s=0)
    while (job := container.jobs.claim_next([import_handlers.IMPORT_JOB], runner.owner, timedelta(seconds=60))):
        runner.run_job(job, threading.Event())


def import_file(client, container, data, **settings):
    uploaded = upload(client, data)
    assert uploaded.status_code == 201, uploaded.get_json()
    started = client.post(f"/v1/imports/{uploaded.get_json()['id']}/start", json=settings, headers=headers())
    assert started.status_code == 202, started.get_json()
    run_jobs(container)
    project_all(container)
    return client.get(f"/v1/imports/{uploaded.get_json()['id']}", headers=headers()).get_json()


def test_french_excel_import_with_a_bad_row_then_again(client, container):
    preview = upload(client, FRENCH_EXCEL).get_json()
    assert (preview["encoding"], preview["delimiter"], preview["row_count"]) == ("cp1252", ";", 4)
    assert preview["header"][0] == "Prénom" and preview["rows"][0]["cells"][1] == "Desnotés"
    targets = [column["target"] for column in preview["suggested_mapping"]]
    assert targets[:3] == ["first_name", "last_name", "company"]
    assert client.get(f"/v1/imports/{preview['id']}", headers=headers("acct-2")).status_code == 404

    first = import_file(client, container, FRENCH_EXCEL, labels=["Salon 2026"], mark_subscribed=True)
    assert first["job"]["status"] == "done"
    assert first["job"]["counts"] == {"rows": 4, "created": 3, "updated": 0, "skipped": 0, "failed": 1}
    failed = client.get(first["failed_rows_url"], headers=headers())
    text = failed.get_data(as_text=True)
    assert failed.mimetype == "text/csv" and "Erreur" in text and "Atlantide" in text and "Desnotés" not in text

    found = client.get("/v1/contacts?q=desnotes&labels_any=salon-2026", headers=headers()).get_json()["items"]
    assert len(found) == 1
    louise = found[0]
    assert (louise["first_name"], louise["company"]) == ("Louise", "Maison du Papier")
    assert [p["e164"] for p in louise["phones"]] == ["+33320065126", "+33612345678"]
    assert louise["emails"][0]["subscription_status"] == "subscribed"
    assert louise["addresses"][0]["country"] == "FR"

    again = import_file(client, container, FRENCH_EXCEL)
    assert again["job"]["counts"] == {"rows": 4, "created": 0, "updated": 0, "skipped": 3, "failed": 1}
    assert len(client.get("/v1/contacts?limit=200", headers=headers()).get_json()["items"]) == 3

    # deleted since: the same file brings that contact back, under a new id
    assert client.delete(f"/v1/contacts/{louise['id']}", headers=headers()).status_code == 204
    project_all(container)
    third = import_file(client, container, FRENCH_EXCEL)
    assert third["job"]["counts"] == {"rows": 4, "created": 1, "updated": 0, "skipped": 2, "failed": 1}
    back = client.get("/v1/contacts?q=desnotes", headers=headers()).get_json()["items"]
    assert len(back) == 1 and back[0]["id"] != louise["id"]


def test_upload_errors_are_clear(client, container):
    assert client.post("/v1/imports", data=b"x", headers=headers(), content_type="text/csv").status_code == 415
    too_big = client.post("/v1/imports", data={"file": (io.BytesIO(b"a" * (container.settings["IMPORT_MAX_BYTES"] + 1)),
                                                         "big.csv")}, headers=headers(), content_type="multipart/form-data")
    assert too_big.status_code == 413 and str(container.settings["IMPORT_MAX_BYTES"]) in too_big.get_json()["detail"]
    uploaded = upload(client, FRENCH_EXCEL).get_json()
    bad = client.post(f"/v1/imports/{uploaded['id']}/start", json={"mapping": [{"target": "nope"}]}, headers=headers())
    assert bad.status_code == 422 and "columns" in bad.get_json()["errors"]
    bad = client.post(f"/v1/imports/{uploaded['id']}/start", json={"on_match": "merge"}, headers=headers())
    assert bad.status_code == 422 and "on_match" in bad.get_json()["errors"]
    for codec in ("rot13", "base64", "no-such-encoding"):  # codecs that are not text encodings are refused too
        refused = client.get(f"/v1/imports/{uploaded['id']}/preview?encoding={codec}", headers=headers())
        assert refused.status_code == 422 and "encoding" in refused.get_json()["errors"]
    reread = client.get(f"/v1/imports/{uploaded['id']}/preview?encoding=utf-8", headers=headers())
    assert reread.status_code == 422 and "not valid utf-8" in reread.get_json()["errors"]["encoding"][0]
    assert client.get(f"/v1/imports/{uploaded['id']}/preview?encoding=latin-1",
                      headers=headers()).get_json()["rows"][0]["cells"][1] == "Desnotés"
    template = client.get("/v1/imports/template.csv", headers=headers())
    assert template.mimetype == "text/csv" and template.get_data(as_text=True).startswith("First name,Last name,")


def test_export_by_label_in_each_format_and_reimport(client, container):
    import_file(client, container, FRENCH_EXCEL, labels=["Salon 2026"])
    louise = client.get("/v1/contacts?q=desnotes", headers=headers()).get_json()["items"][0]
    changed = client.patch(f"/v1/contacts/{louise['id']}", json={"revision": louise["revision"], "function": "directeur",
                                                                 "department": "comptabilite"}, headers=headers())
    assert changed.status_code == 200, changed.get_json()
    project_all(container)
    exported = {}
    for file_format in ("standard", "google", "outlook", "vcard"):
        response = client.get(f"/v1/exports/contacts?label=salon-2026&format={file_format}", headers=headers())
        assert response.status_code == 200, response.get_data(as_text=True)
        exported[file_format] = response.get_data()
        assert "attachment" in response.headers["Content-Disposition"]
    assert exported["standard"].decode().count("Desnotés") == 1
    assert b"Salon 2026" in exported["standard"] and b"Salon 2026" in exported["google"]
    assert "Directeur" in exported["standard"].decode() and "Comptabilité" in exported["standard"].decode()
    assert exported["vcard"].count(b"BEGIN:VCARD") == 3
    french = client.get("/v1/exports/contacts?label=salon-2026&excel_fr=true", headers=headers()).get_data()
    assert french.startswith(b"\xef\xbb\xbf") and b";" in french.splitlines()[0]
    assert client.get("/v1/exports/contacts?label=salon-2026", headers=headers("acct-2")).get_data().count(b"\n") <= 1
    # the standard export re-imports to the same contacts: nothing new
    again = upload(client, exported["standard"], name="export.csv").get_json()
    started = client.post(f"/v1/imports/{again['id']}/start", json={}, headers=headers())
    assert started.status_code == 202, started.get_json()
    run_jobs(container)
    counts = client.get(f"/v1/imports/{again['id']}", headers=headers()).get_json()["job"]["counts"]
    assert counts == {"rows": 3, "created": 0, "updated": 0, "skipped": 3, "failed": 0}


def test_progress_is_visible_while_the_job_runs_and_a_cancel_stops_it(client, container, monkeypatch):
    monkeypatch.setattr(import_handlers, "ROWS_PER_BATCH", 2)
    uploaded = upload(client, FRENCH_EXCEL).get_json()
    assert client.post(f"/v1/imports/{uploaded['id']}/start", json={}, headers=headers()).status_code == 202
    labels = container.labels_projection.collection
    batches = import_handlers.ImportBatches(container.imports, container.uploads, container.unit_of_work,
                                            lambda account, name: views.label_key_by_name(labels, account, name), "FR")
    reached = [threading.Event(), threading.Event()]
    release = [threading.Event(), threading.Event()]

    def step(job, start):  # each batch waits for the test before it counts as done
        counts = batches(job, start)
        reached[start // 2].set()
        release[start // 2].wait(timeout=30)
        return counts

    runner = JobRunner(container.jobs, {import_handlers.IMPORT_JOB: step}, save_every_s=0)
    job = container.jobs.claim_next([import_handlers.IMPORT_JOB], runner.owner, timedelta(seconds=60))
    thread = threading.Thread(target=runner.run_job, args=(job, threading.Event()))
    thread.start()
    try:
        assert reached[0].wait(timeout=30)
        release[0].set()
        assert reached[1].wait(timeout=30)  # the first batch is recorded; the second is in progress
        running = client.get(f"/v1/imports/{uploaded['id']}", headers=headers()).get_json()["job"]
        assert running["status"] == "running" and running["total"] == 2 and running["processed"] == 1
        assert running["counts"]["rows"] == 2
        busy = client.delete(f"/v1/imports/{uploaded['id']}", headers=headers())
        assert busy.status_code == 409 and busy.get_json()["job_id"] == running["id"]
        cancelled = client.post(f"/v1/jobs/{running['id']}/cancel", headers=headers())
        assert cancelled.status_code == 200 and cancelled.get_json()["cancel_requested"]
    finally:
        for gate in release:
            gate.set()
        thread.join(timeout=30)
    final = client.get(f"/v1/imports/{uploaded['id']}", headers=headers()).get_json()["job"]
    assert final["status"] == "cancelled" and final["counts"]["rows"] == 4 and final["processed"] == 2
    assert client.delete(f"/v1/imports/{uploaded['id']}", headers=headers()).status_code == 204
    assert client.get(f"/v1/imports/{uploaded['id']}", headers=headers()).status_code == 404



SAME_PERSON_TWICE = (
    "First name,Last name,Company,E-mail,Mobile phone\r\n"
    "Louise,Desnotés,,louise@papier.fr,06 12 34 56 78\r\n"
    "Hélène,Pâris,,helene@etoile.fr,\r\n"
    "Louise,,Maison du Papier,LOUISE@Papier.FR,\r\n"  # the same person: the email in capitals
    "L.,Desnotés,,,+33 6 12 34 56 78\r\n"             # the same person again: matched by phone
).encode()


def start_and_run(client, container, data, account, **settings):
    uploaded = upload(client, data, account=account).get_json()
    started = client.post(f"/v1/imports/{uploaded['id']}/start", json=settings, headers=headers(account))
    assert started.status_code == 202, started.get_json()
    run_jobs(container)
    project_all(container)
    return client.get(f"/v1/imports/{uploaded['id']}", headers=headers(account)).get_json()


def test_the_same_person_twice_in_one_file_is_one_contact(client, container, monkeypatch):
    """Rows of one file are matched against each other, within a batch and across batches (issue 9)."""
    for account, rows_per_batch in (("acct-1", 500), ("acct-2", 1)):  # one batch; then one row per batch
        monkeypatch.setattr(import_handlers, "ROWS_PER_BATCH", rows_per_batch)
        done = start_and_run(client, container, SAME_PERSON_TWICE, account, on_match="update")
        assert done["job"]["counts"] == {"rows": 4, "created": 2, "updated": 2, "skipped": 0, "failed": 0}, account
        items = client.get("/v1/contacts?limit=200", headers=headers(account)).get_json()["items"]
        assert sorted((c["first_name"], c["company"]) for c in items) == [("Hélène", None), ("L.", "Maison du Papier")]


def test_a_row_sharing_a_phone_with_an_earlier_row_that_matched_a_stored_contact_is_that_contact(client, container):
    stored = client.post("/v1/contacts", json={"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]},
                         headers=headers())
    assert stored.status_code == 201
    done = start_and_run(client, container, SAME_PERSON_TWICE, "acct-1", on_match="skip")
    assert done["job"]["counts"] == {"rows": 4, "created": 1, "updated": 0, "skipped": 3, "failed": 0}
    items = client.get("/v1/contacts?limit=200", headers=headers()).get_json()["items"]
    assert sorted(c["first_name"] for c in items) == ["Hélène", "Louise"]


def test_an_imported_vcard_cannot_give_another_contacts_phone_to_the_contact_it_updates(client, container):
    louise = client.post("/v1/contacts", json={"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]},
                         headers=headers())
    paul = client.post("/v1/contacts", json={"first_name": "Paul", "phones": [{"number": "+33 6 12 34 56 78"}]},
                       headers=headers())
    assert louise.status_code == paul.status_code == 201
    card = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Louise Desnot\xc3\xa9s\r\nN:Desnot\xc3\xa9s;Louise;;;\r\n"
            b"EMAIL:louise@papier.fr\r\nTEL;TYPE=CELL:+33 6 12 34 56 78\r\nTEL;TYPE=WORK:03 20 06 51 26\r\nEND:VCARD\r\n")
    uploaded = upload(client, card, name="louise.vcf").get_json()
    assert client.post(f"/v1/imports/{uploaded['id']}/start", json={"on_match": "update"},
                       headers=headers()).status_code == 202
    run_jobs(container)
    project_all(container)
    done = client.get(f"/v1/imports/{uploaded['id']}", headers=headers()).get_json()
    assert done["job"]["counts"] == {"rows": 1, "created": 0, "updated": 0, "skipped": 0, "failed": 1}
    failed = client.get(done["failed_rows_url"], headers=headers()).get_data(as_text=True)
    assert "+33612345678" in failed and paul.get_json()["id"] in failed
    holders = client.get("/v1/contacts?q=%2B33612345678", headers=headers()).get_json()["items"]
    assert [c["id"] for c in holders] == [paul.get_json()["id"]]
    unchanged = client.get(f"/v1/contacts/{louise.get_json()['id']}", headers=headers()).get_json()
    assert unchanged["phones"] == [] and unchanged["revision"] == louise.get_json()["revision"]


GOOGLE_WITH_NOTES = (
    "First Name,Last Name,Notes,E-mail 1 - Label,E-mail 1 - Value\r\n"
    "Louise,Desnotés,\"Rencontrée au salon\r\nRappeler en mars\",* Work,louise@papier.fr\r\n"
    "Hélène,Pâris,,Home,helene@etoile.fr\r\n"
).encode()


def notes_of(client, contact_id):
    return client.get(f"/v1/contacts/{contact_id}/notes", headers=headers()).get_json()["items"]


def test_googles_notes_column_becomes_a_note_once(client, container):
    first = import_file(client, container, GOOGLE_WITH_NOTES)
    assert first["job"]["counts"] == {"rows": 2, "created": 2, "updated": 0, "skipped": 0, "failed": 0}
    louise = client.get("/v1/contacts?q=desnotes", headers=headers()).get_json()["items"][0]
    notes = notes_of(client, louise["id"])
    assert [(n["kind"], n["text"]) for n in notes] == [("note", "Rencontrée au salon\nRappeler en mars")]
    helene = client.get("/v1/contacts?q=paris", headers=headers()).get_json()["items"][0]
    assert notes_of(client, helene["id"]) == []

    # the batch runs again, as when a job is resumed, before the note it added is projected: its derived id tells
    container.notes_projection.collection.delete_many({})
    container.import_batches()(container.jobs.get("acct-1", first["job"]["id"]), 0)
    project_all(container)
    assert len(notes_of(client, louise["id"])) == 1

    again = import_file(client, container, GOOGLE_WITH_NOTES, on_match="update")  # the same file, another import
    assert again["job"]["counts"]["created"] == 0
    assert len(notes_of(client, louise["id"])) == 1


def test_failed_rows_as_uploaded_are_in_the_files_encoding_and_delimiter(client, container):
    done = import_file(client, container, FRENCH_EXCEL)
    plain = client.get(done["failed_rows_url"], headers=headers())
    assert plain.headers["Content-Type"] == "text/csv; charset=utf-8" and plain.get_data().startswith(b"Pr\xc3\xa9nom,")
    french = client.get(done["failed_rows_url"], query_string={"as_uploaded": "true"}, headers=headers())
    assert french.status_code == 200 and french.headers["Content-Type"] == "text/csv; charset=cp1252"
    lines = french.get_data().decode("cp1252").splitlines()
    assert lines[0] == "Prénom;Nom;Société;Téléphone;Portable;E-mail;Code postal;Ville;Pays;Error;Row"
    assert lines[1].startswith("Erreur;Sans-Email;;;;pas-un-email;;;Atlantide;")
    assert client.get(done["failed_rows_url"], query_string={"as_uploaded": "maybe"}, headers=headers()).status_code == 422
def test_the_uploaded_file_and_its_failed_rows_are_sealed_and_deleting_the_import_destroys_their_key(client, container):
    record = import_file(client, container, FRENCH_EXCEL)
    stored = str(list(container.db["uploads.chunks"].find())) + str(list(container.imports.failures.find()))
    assert "Louise" not in stored and "Erreur" not in stored and "Atlantide" not in stored
    assert "pas-un-email" not in stored
    failed = client.get(record["failed_rows_url"], headers=headers()).get_data(as_text=True)
    assert "Erreur" in failed and "Atlantide" in failed  # they open for the account while the import exists
    preview = client.get(f"/v1/imports/{record['id']}/preview", headers=headers()).get_json()
    assert preview["rows"][0]["cells"][0] == "Louise"
    assert client.delete(f"/v1/imports/{record['id']}", headers=headers()).status_code == 204
    assert container.cipher.is_erased(record["id"])  # whatever copy of a chunk lies anywhere stays unreadable
    assert container.db["uploads.chunks"].count_documents({}) == 0
    assert container.imports.failures.count_documents({}) == 0


def test_an_import_past_its_retention_is_forgotten_by_the_sweep_and_refused_on_access_before(client, container):
    assert container.settings["IMPORT_RETENTION_DAYS"] == 7
    old = import_file(client, container, FRENCH_EXCEL)
    fresh = upload(client, FRENCH_EXCEL).get_json()
    week_ago = datetime.now(timezone.utc) - timedelta(days=7, minutes=1)
    container.imports.imports.update_one({"_id": old["id"]}, {"$set": {"created_at": week_ago}})
    # on access, before any sweep: nothing of it is served any more
    assert client.get(old["failed_rows_url"], headers=headers()).status_code == 404
    assert client.get(f"/v1/imports/{old['id']}/preview", headers=headers()).status_code == 404
    assert client.get(f"/v1/imports/{old['id']}", headers=headers()).get_json()["status"] == "expired"

    assert forget_expired_imports(container.imports, container.uploads, container.jobs) == 1
    assert forget_expired_imports(container.imports, container.uploads, container.jobs) == 0
    assert container.cipher.is_erased(old["id"]) and not container.cipher.is_erased(fresh["id"])
    record = container.imports.imports.find_one({"_id": old["id"]})
    assert record["status"] == "expired" and "file_name" not in record and "blob_id" not in record
    assert container.imports.failures.count_documents({"import_id": old["id"]}) == 0
    assert container.db["uploads.manifests"].count_documents({}) == 1  # the fresh upload's file stays
    shown = client.get(f"/v1/imports/{old['id']}", headers=headers()).get_json()
    assert shown["status"] == "expired" and shown["job"]["counts"]["created"] == 3  # what it did stays visible
    assert client.get(f"/v1/imports/{fresh['id']}/preview", headers=headers()).status_code == 200
    assert client.delete(f"/v1/imports/{old['id']}", headers=headers()).status_code == 204


def test_the_workers_sweep_forgets_an_expired_import_on_its_own(client, container):
    uploaded = upload(client, FRENCH_EXCEL).get_json()
    container.imports.imports.update_one({"_id": uploaded["id"]},
                                         {"$set": {"created_at": datetime.now(timezone.utc) - timedelta(days=8)}})
    stop = threading.Event()
    sweeper = threading.Thread(target=sweep_loop(container.imports, container.uploads, container.jobs, every_s=0.1),
                               args=(stop,))
    sweeper.start()
    try:
        deadline = time.monotonic() + 10
        while not container.cipher.is_erased(uploaded["id"]) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        sweeper.join(timeout=10)
    assert container.cipher.is_erased(uploaded["id"]) and not sweeper.is_alive()
    assert container.db["uploads.manifests"].count_documents({}) == 0
