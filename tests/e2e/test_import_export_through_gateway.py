"""End to end through the gateway: an import job with progress and a failed-rows file, a re-import that
creates nothing new, and an export by label in each format; the worker runs the job."""
import requests

from .conftest import bearer, eventually

ROWS = ["Prénom;Nom;Société;E-mail;Portable;Pays"] + [
    f"Personne{i};Import{i};Société {i};personne{i}@import-e2e.fr;06 11 22 {i // 100 % 100:02d} {i % 100:02d};France"
    for i in range(600)
] + ["Ligne;Fautive;;pas-un-email;;Nulle-part"]
FILE = ("\r\n".join(ROWS) + "\r\n").encode("cp1252")


def run_import(system, account, data, name="salon.csv", **settings) -> dict:
    url = f"{system.gateway_url}/v1/imports"
    uploaded = requests.post(url, files={"file": (name, data, "text/csv")}, headers=bearer(account), timeout=30)
    assert uploaded.status_code == 201, uploaded.text
    preview = uploaded.json()
    started = requests.post(f"{url}/{preview['id']}/start", json=settings, headers=bearer(account), timeout=60)
    assert started.status_code == 202, started.text
    seen = []

    def progress():
        body = requests.get(f"{url}/{preview['id']}", headers=bearer(account), timeout=10).json()
        seen.append(body["job"]["counts"].get("rows", 0))
        return body

    done = eventually(progress, lambda body: body["job"]["status"] == "done", timeout_s=120, interval_s=0.2)
    return {"preview": preview, "done": done, "progress": seen}


def test_import_with_progress_failed_rows_and_reimport_then_export_by_label(system, account_a, account_b):
    first = run_import(system, account_a, FILE, labels=["Salon e2e"])
    assert first["preview"]["encoding"] == "cp1252" and first["preview"]["row_count"] == 601
    counts = first["done"]["job"]["counts"]
    assert counts == {"rows": 601, "created": 600, "updated": 0, "skipped": 0, "failed": 1}
    assert first["done"]["job"]["total"] == 2  # batches of 500 rows
    assert first["progress"] == sorted(first["progress"])  # counts only grow (partial ones: integration test)
    failed = requests.get(f"{system.gateway_url}{first['done']['failed_rows_url']}", headers=bearer(account_a), timeout=10)
    assert failed.status_code == 200 and "pas-un-email" in failed.text and "Import1;" not in failed.text
    assert requests.get(f"{system.gateway_url}/v1/imports/{first['preview']['id']}", headers=bearer(account_b),
                        timeout=10).status_code == 404

    again = run_import(system, account_a, FILE)
    assert again["done"]["job"]["counts"] == {"rows": 601, "created": 0, "updated": 0, "skipped": 600, "failed": 1}

    key = "salon-e2e"
    contacts = f"{system.gateway_url}/v1/contacts?labels_any={key}&limit=200"
    eventually(lambda: requests.get(contacts, headers=bearer(account_a), timeout=10).json(),
               lambda page: len(page["items"]) == 200 and page["next_cursor"], timeout_s=60)
    for file_format, marker in (("standard", b"Import7"), ("google", b"Import7"), ("outlook", b"Import7"),
                                ("vcard", b"BEGIN:VCARD")):
        url = f"{system.gateway_url}/v1/exports/contacts?label={key}&format={file_format}"
        exported = eventually(lambda: requests.get(url, headers=bearer(account_a), timeout=60),
                              lambda r: r.status_code == 200 and r.content.count(b"@import-e2e.fr") >= 600,
                              timeout_s=60, interval_s=1)
        assert marker in exported.content
        assert exported.headers["Content-Disposition"].startswith("attachment")
    other = requests.get(f"{system.gateway_url}/v1/exports/contacts?label={key}", headers=bearer(account_b), timeout=30)
    assert other.status_code == 200 and b"@import-e2e.fr" not in other.content
