"""End to end (issue 13): a person with records in every service is exported into one ZIP and then erased
across every service through the gateway; a scan of every database and topic of the system then finds none of
their values readable, issued invoices are retained with their legal basis, and the certificate verifies."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import requests
from kafka import KafkaConsumer

from crm_platform import occurrences

from .conftest import REPO, bearer, eventually
from .privacy_seed import seed_person

# 500 records of one person, as the issue asks: notes, files, cards, invoices (half issued) and quotes
SCALE = {"notes": 380, "files": 10, "cards": 50, "invoices": 50, "quotes": 10}


def finished(system, account, request_id, timeout_s=60):
    url = f"{system.gateway_url}/v1/privacy/requests/{request_id}"
    return eventually(lambda: requests.get(url, headers=bearer(account), timeout=10).json(),
                      lambda r: r.get("status") in ("completed", "partially_completed", "rejected"), timeout_s)


def ask(system, account, kind, contact_id):
    answer = requests.post(f"{system.gateway_url}/v1/privacy/requests", headers=bearer(account), timeout=10, json={
        "type": kind, "subject": {"contact_id": contact_id}, "requester": "Délégué à la protection des données",
        "reason": "Demande écrite reçue le 2 décembre"})
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"].endswith(answer.json()["id"])
    return answer.json()["id"]


def test_a_person_is_exported_then_erased_everywhere_with_a_certificate_that_verifies(system, account_b, mongo_client,
                                                                                     tmp_path):
    account = system.create_account("Cabinet Conformité")
    gateway, headers = system.gateway_url, bearer(account)
    # the same records, sooner: the other person meanwhile, and the person's records in workflows and billing made
    # while their notes are, 8 requests at once
    with ThreadPoolExecutor(1) as background:
        seeding_other = background.submit(seed_person, gateway, headers, notes=2, files=1, cards=1, invoices=2,
                                          quotes=1)
        person = seed_person(gateway, headers, **SCALE, workers=8)
        other = seeding_other.result()  # must stay whole
    assert person.record_count == 500

    # the export: one ZIP with every service's part
    exported = finished(system, account, ask(system, account, "access", person.contact_id))
    assert exported["status"] == "completed", exported
    assert {s["service"]: s["answered"] for s in exported["services"]} == {
        "contacts": True, "billing": True, "workflows": True}
    download = requests.get(f"{gateway}/v1/privacy/requests/{exported['id']}/export", headers=headers, timeout=60)
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["services"]) == {"contacts", "billing", "workflows"}
    contacts_part = json.loads(archive.read("contacts/data.json"))
    exported_text = json.dumps(contacts_part, ensure_ascii=False)
    assert all(value in exported_text for value in person.values if "Note" in value)  # every note
    assert len([name for name in archive.namelist() if name.startswith("contacts/") and name.endswith(".pdf")]) \
        == SCALE["files"]
    billing_text = archive.read("billing/data.json").decode()
    assert all(invoice_id in billing_text for invoice_id in person.draft_ids + person.issued_ids)
    workflows_text = archive.read("workflows/data.json").decode()
    assert all(card_id in workflows_text for card_id in person.card_ids)
    assert other.contact_id not in exported_text + billing_text + workflows_text
    refused = requests.get(f"{gateway}/v1/privacy/requests/{exported['id']}", headers=bearer(account_b), timeout=10)
    assert refused.status_code == 404

    # the erasure, across every service
    erased = finished(system, account, ask(system, account, "erasure", person.contact_id))
    assert erased["status"] == "completed", erased
    outcomes = {s["service"]: s for s in erased["services"]}
    assert outcomes["contacts"]["outcome"] == "erased" and outcomes["workflows"]["outcome"] == "erased"
    assert outcomes["billing"]["outcome"] == "retained"
    retained = {item["item"] for item in outcomes["billing"]["retained"]}
    assert retained == {f"invoice:{invoice_id}" for invoice_id in person.issued_ids}
    assert all(item["retain_until"] >= "2036-12-31" and "L123-22" in item["legal_basis"]
               for item in outcomes["billing"]["retained"])
    assert f"contact:{person.contact_id}" in outcomes["contacts"]["keys_destroyed"]

    # nothing of the person readable anywhere: every database and every topic of this system, from the start
    databases = [system.env[name] for name in system.env if name.endswith("_DB") and name != "KEYVAULT_DB"] + \
        [system.env["KEYVAULT_DB"]]
    assert occurrences.in_databases(mongo_client, databases, person.values) == []
    namespace = system.env["KAFKA_TOPIC_NAMESPACE"]
    topics = [t for t in KafkaConsumer(bootstrap_servers=system.env["KAFKA_BOOTSTRAP_SERVERS"]).topics()
              if t.startswith(namespace)]
    assert occurrences.in_topics(system.env["KAFKA_BOOTSTRAP_SERVERS"], topics, person.values, timeout_s=60) == []
    # ... while the other person of the account is whole
    assert requests.get(f"{gateway}/v1/contacts/{other.contact_id}", headers=headers, timeout=10).status_code == 200
    assert occurrences.in_databases(mongo_client, databases, other.values[:1]) != []
    # the retained invoices still read, restricted; the drafts are gone
    kept = requests.get(f"{gateway}/v1/invoices/{person.issued_ids[0]}", headers=headers, timeout=10)
    assert kept.status_code == 200, kept.text
    assert requests.get(f"{gateway}/v1/invoices/{person.draft_ids[0]}", headers=headers, timeout=10).status_code \
        in (404, 410)

    # the service's own scan after the erasure: every database and topic, none of the person's values readable
    verified = eventually(lambda: requests.get(f"{gateway}/v1/privacy/requests/{erased['id']}", headers=headers,
                                               timeout=10).json(),
                          lambda r: (r.get("verification") or {}).get("state") == "done", 120)
    verification = verified["verification"]
    assert (verified["status"], verification["result"], verification["readable_occurrences"]) == (
        "completed", "passed", 0), verification
    assert verification["values_checked"] == 3 and verification["documents_scanned"] > 0  # name both ways, email
    assert verification["records_scanned"] > 0 and set(verification["databases"]) >= set(databases)

    # the certificate: no personal data, and it verifies with the CLI against the served public key
    certificate = requests.get(f"{gateway}/v1/privacy/requests/{erased['id']}/certificate", headers=headers,
                               timeout=10)
    assert certificate.status_code == 200, certificate.text
    assert certificate.json()["verification"]["result"] == "passed"
    text = certificate.text
    assert not [value for value in person.values if value in text or json.dumps(value)[1:-1] in text]
    verified = _verify(system, account, certificate.json(), tmp_path)
    assert verified.returncode == 0 and verified.stdout.strip() == "valid", verified.stderr
    forged = {**certificate.json(), "status": "completed", "missing_services": ["billing"]}
    assert _verify(system, account, forged, tmp_path).returncode == 1


def _verify(system, account, certificate: dict, folder) -> subprocess.CompletedProcess:
    path = folder / "certificate.json"
    path.write_text(json.dumps(certificate))
    return subprocess.run([sys.executable, "-m", "privacy.entrypoints.verify", str(path), "--public-key-url",
                           f"{system.gateway_url}/v1/privacy/public-key", "--api-key", account["api_key"]],
                          capture_output=True, text=True, timeout=60, cwd=REPO, env=system.env)
