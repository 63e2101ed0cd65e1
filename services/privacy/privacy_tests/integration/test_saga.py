"""The saga on the real database and exchange store: replies fed through the worker's handler, the export
assembled and downloaded, the time-out and expiry sweeps under their leases with a clock, the certificate."""
import io
import json
import zipfile

import pytest

from crm_platform.contracts.privacy import SubjectDataExportedReply, SubjectErasedReply, SubjectRestrictedReply
from crm_platform.personal_data import SubjectErased
from crm_platform.privacy_exchange import ExportFile

from privacy.adapters.signing import verify_certificate
from privacy.service_layer import sweeps

from .conftest import deliver_reply, headers, project_all, verify_erasures

ABOUT = {"categories": ["identity"], "purposes": ["CRM"], "recipients": [], "retention": "while a customer",
         "source": "the person"}
SERVICES = ("contacts", "billing", "workflows")


def receive(client, type):
    body = {"type": type, "subject": {"contact_id": "contact:1"}, "requester": "Louise Martin", "reason": "e-mail"}
    answer = client.post("/v1/privacy/requests", json=body, headers=headers())
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["id"]


def export_part(container, request_id, service):
    files = [ExportFile("picture.png", "image/png", b"\x89PNG")] if service == "contacts" else []
    part = container.exchange.write_part(request_id, service, ABOUT, {"items": [{"id": f"{service}:1", "n": 1}]},
                                         files)
    return SubjectDataExportedReply(request_id, "acct-1", service, part, 1, "2026-12-02T09:00:05+00:00")


def erased(request_id, service):
    retained = [{"item": "invoice:9", "legal_basis": "Code de commerce L123-22", "retain_until": "2036-12-31"}]
    return SubjectErasedReply(request_id, "acct-1", service, "retained" if service == "billing" else "erased",
                              [f"{service}-key:contact:1"], retained if service == "billing" else [], 2,
                              "2026-12-02T09:00:05+00:00")


def test_an_export_is_assembled_when_every_service_answered_then_downloaded_until_it_expires(
        client, container, clock):
    request_id = receive(client, "access")
    assert client.get(f"/v1/privacy/requests/{request_id}/export", headers=headers()).status_code == 409
    replies = [export_part(container, request_id, service) for service in SERVICES]
    for reply in replies + replies[:1]:  # the first one redelivered
        deliver_reply(container, reply)
    shown = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert shown["status"] == "completed" and shown["export"]["state"] == "ready"
    assert [s["outcome"] for s in shown["services"]] == ["exported"] * 3
    download = client.get(f"/v1/privacy/requests/{request_id}/export", headers=headers())
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert json.loads(archive.read("billing/data.json")) == {"items": [{"id": "billing:1", "n": 1}]}
        assert "manifest.json" in archive.namelist() and "Louise" not in archive.read("manifest.json").decode()

    project_all(container)
    lease = container.expiry_lease()  # the worker's, kept from round to round
    clock.advance(days=7)
    assert client.get(f"/v1/privacy/requests/{request_id}/export", headers=headers()).status_code == 410  # no sweep
    clock.advance(seconds=1)
    assert sweeps.expire_exports(container.bus, container.expired_exports, lease, clock) == 1
    assert client.get(f"/v1/privacy/requests/{request_id}/export", headers=headers()).status_code == 410
    with pytest.raises(SubjectErased):
        container.exchange.read_part(request_id, replies[0].part_blob_id)
    exchange_db = container.mongo.database(container.settings["PRIVACY_EXCHANGE_DB"])
    assert exchange_db["exports.manifests"].count_documents({}) == 0  # parts, the picture, the ZIP: all gone
    assert container.exchange.blobs_of(request_id) == []
    project_all(container)
    assert sweeps.expire_exports(container.bus, container.expired_exports, lease, clock) == 0


def test_an_export_with_a_part_that_cannot_be_read_completes_without_it_after_bounded_sweeps(
        client, container, clock):
    request_id = receive(client, "portability")
    replies = [export_part(container, request_id, service) for service in ("contacts", "workflows")]
    lost = SubjectDataExportedReply(request_id, "acct-1", "billing", "blob-that-was-never-written", 1,
                                    "2026-12-02T09:00:05+00:00")
    for reply in [*replies, lost]:
        deliver_reply(container, reply)  # the last one's ZIP fails: its reply is kept all the same
    shown = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert shown["status"] == "in_progress" and shown["missing_services"] == []
    overdue, lease = container.overdue_requests, container.timeout_lease()
    for _ in range(3):
        project_all(container)
        sweeps.time_out_requests(container.bus, overdue, lease, clock)  # retried at once, not after the timeout
    done = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert (done["status"], done["failed_parts"], done["export"]["state"]) == (
        "partially_completed", ["billing"], "ready")
    download = client.get(f"/v1/privacy/requests/{request_id}/export", headers=headers())
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert "contacts/data.json" in archive.namelist() and not any(
            name.startswith("billing/") for name in archive.namelist())
        assert json.loads(archive.read("manifest.json"))["request"]["failed_parts"] == ["billing"]
    certificate = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).get_json()
    assert certificate["failed_parts"] == ["billing"]
    project_all(container)
    assert sweeps.time_out_requests(container.bus, overdue, lease, clock) == 0


def test_a_request_times_out_naming_the_missing_services_and_a_late_reply_upgrades_it(client, container, clock):
    request_id = receive(client, "erasure")
    deliver_reply(container, erased(request_id, "contacts"))
    project_all(container)
    overdue, lease = container.overdue_requests, container.timeout_lease()
    clock.advance(seconds=899)
    assert sweeps.time_out_requests(container.bus, overdue, lease, clock) == 0
    clock.advance(seconds=1)
    assert sweeps.time_out_requests(container.bus, overdue, lease, clock) == 1
    partial = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert partial["status"] == "partially_completed" and partial["missing_services"] == ["billing", "workflows"]
    project_all(container)
    assert sweeps.time_out_requests(container.bus, overdue, lease, clock) == 0

    deliver_reply(container, erased(request_id, "billing"))
    deliver_reply(container, erased(request_id, "workflows"))
    done = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert done["status"] == "completed" and done["missing_services"] == []
    billing = next(s for s in done["services"] if s["service"] == "billing")
    assert billing["outcome"] == "retained" and billing["retained"][0]["retain_until"] == "2036-12-31"
    project_all(container)
    listed = client.get("/v1/privacy/requests?status=completed", headers=headers()).get_json()["items"]
    assert [item["id"] for item in listed] == [request_id]


def test_a_sweep_does_nothing_while_another_worker_holds_its_lease(client, container, clock):
    request_id = receive(client, "erasure")
    project_all(container)
    clock.advance(hours=1)
    holder = container.timeout_lease()
    assert holder.acquire_or_renew()
    assert sweeps.time_out_requests(container.bus, container.overdue_requests, container.timeout_lease(), clock) == 0
    assert client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()["status"] == "in_progress"


def test_the_certificate_comes_when_the_request_completes_signed_and_without_personal_data(client, container):
    request_id = receive(client, "erasure")
    assert client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).status_code == 409
    for service in SERVICES:
        deliver_reply(container, erased(request_id, service))
    assert client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).status_code == 409
    assert verify_erasures(container) == 1  # the certificate waits for the scan after the erasure
    certificate = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).get_json()
    key = client.get("/v1/privacy/public-key", headers=headers()).get_json()
    assert verify_certificate(certificate, key["public_key"]) and certificate["signature"]["key_id"] == key["key_id"]
    assert certificate["status"] == "completed" and len(certificate["subject_hash"]) == 64
    text = json.dumps(certificate)
    assert "contact:1" not in text and "Louise" not in text
    destroyed = {s["service"]: s["keys_destroyed"] for s in certificate["services"]}
    assert destroyed["billing"][0].startswith("billing-key:") and len(destroyed["billing"][0]) == 12 + 64
    assert destroyed["contacts"] != destroyed["billing"]
    tampered = {**certificate, "status": "partially_completed"}
    assert not verify_certificate(tampered, key["public_key"])


def test_the_certificate_prints_as_a_pdf_a_with_the_signed_json_inside(client, container):
    import io

    import pikepdf

    request_id = receive(client, "erasure")
    url = f"/v1/privacy/requests/{request_id}/certificate/pdf"
    assert client.get(url, headers=headers()).status_code == 409
    for service in SERVICES:
        deliver_reply(container, erased(request_id, service))
    verify_erasures(container)
    printed = client.get(url, headers=headers())
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert printed.headers["Content-Disposition"].startswith("attachment")
    with pikepdf.open(io.BytesIO(printed.data)) as pdf:
        attached = pdf.attachments["certificate.json"].get_file().read_bytes()
        with pdf.open_metadata() as xmp:
            assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "B")
    certificate = json.loads(attached)
    key = client.get("/v1/privacy/public-key", headers=headers()).get_json()
    assert certificate["request_id"] == request_id and verify_certificate(certificate, key["public_key"])
    assert "Louise" not in printed.data.decode("latin-1") + attached.decode()
    assert client.get(url.replace(request_id, "missing"), headers=headers()).status_code == 404


def test_past_its_retention_the_expiry_sweep_shreds_a_request_record_and_the_api_shows_null(
        client, container, clock):
    request_id = receive(client, "erasure")
    for service in SERVICES:
        deliver_reply(container, erased(request_id, service))
    verify_erasures(container)
    project_all(container)
    lease = container.expiry_lease()
    clock.advance(days=3 * 365 - 1)
    assert sweeps.shred_request_records(container.bus, container.records_past_retention, lease, clock) == 0
    clock.advance(days=1)
    assert sweeps.shred_request_records(container.bus, container.records_past_retention, lease, clock) == 1
    shown = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert (shown["requester"], shown["reason"], shown["record_shredded"]) == (None, None, True)
    assert shown["status"] == "completed" and "Louise" not in json.dumps(shown)
    assert client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).status_code == 200
    project_all(container)
    assert sweeps.shred_request_records(container.bus, container.records_past_retention, lease, clock) == 0


def restricted(request_id, service):
    return SubjectRestrictedReply(request_id, "acct-1", service, "restricted", "2026-12-02T09:00:05+00:00")


def test_a_restriction_completes_restricted_everywhere_is_certified_listed_and_lifted_once(client, container):
    request_id = receive(client, "restriction")
    for service in SERVICES:
        deliver_reply(container, restricted(request_id, service))
    shown = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert shown["status"] == "completed" and [s["outcome"] for s in shown["services"]] == ["restricted"] * 3
    certificate = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).get_json()
    assert certificate["type"] == "restriction" and certificate["lifted_at"] is None
    assert [s["outcome"] for s in certificate["services"]] == ["restricted"] * 3
    assert verify_certificate(certificate, client.get("/v1/privacy/public-key", headers=headers()).get_json()[
        "public_key"])

    lifted = client.post(f"/v1/privacy/requests/{request_id}/lift", headers=headers())
    assert lifted.status_code == 200 and lifted.get_json()["lifted_at"]
    again = client.post(f"/v1/privacy/requests/{request_id}/lift", headers=headers()).get_json()
    assert again["lifted_at"] == lifted.get_json()["lifted_at"]
    trail = [entry["what"] for entry in again["audit_trail"]]
    assert trail.count("ProcessingRestrictionLifted") == 1 and "ProcessingRestrictionApplied" in trail
    certified = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).get_json()
    assert certified["lifted_at"] == again["lifted_at"]
    project_all(container)
    listed = client.get("/v1/privacy/requests", query_string={"type": "restriction"}, headers=headers()).get_json()
    assert [(r["id"], r["type"], r["lifted_at"]) for r in listed["items"]] == [
        (request_id, "restriction", again["lifted_at"])]
    erasure = receive(client, "erasure")
    not_liftable = client.post(f"/v1/privacy/requests/{erasure}/lift", headers=headers())
    assert not_liftable.status_code == 409 and not_liftable.get_json()["type"] == "/problems/not-liftable"
