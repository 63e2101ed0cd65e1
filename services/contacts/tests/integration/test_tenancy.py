"""Every id of one account, tried with another account's key: a 404 (or nothing of the first account), never a change."""
from __future__ import annotations

import io
import threading
from datetime import timedelta

from crm_platform.jobs import CommandStep, JobRunner

from contacts.service_layer import label_handlers

from .conftest import headers

OTHER = headers("acct-2")


def project_all(container):
    """What the worker's projection consumer does, for every read model."""
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)
CSV = "Prénom;Nom;E-mail\r\nLouise;Desnotes;louise@papier.fr\r\nPaul;;pas-un-email\r\n".encode("cp1252")


def test_another_account_can_neither_read_nor_change_notes_views_labels_jobs_imports_or_exports(client, container):
    contact = client.post("/v1/contacts", json={"first_name": "Louise", "emails": [{"address": "l@papier.fr"}]},
                          headers=headers()).get_json()
    note = client.post(f"/v1/contacts/{contact['id']}/notes", json={"text": "Rappeler"}, headers=headers()).get_json()
    view = client.post("/v1/saved-views", json={"name": "VIP", "query": {"q": "louise"}}, headers=headers()).get_json()
    assert client.post("/v1/labels", json={"name": "VIP"}, headers=headers()).status_code == 201
    job = client.post("/v1/labels/vip/assignments", json={"contact_ids": [contact["id"]]}, headers=headers())
    uploaded = client.post("/v1/imports", data={"file": (io.BytesIO(CSV), "c.csv")}, headers=headers(),
                           content_type="multipart/form-data").get_json()
    project_all(container)

    note_url = f"/v1/contacts/{contact['id']}/notes/{note['id']}"
    assert client.patch(note_url, json={"revision": 1, "text": "X"}, headers=OTHER).status_code == 404
    assert client.delete(note_url, headers=OTHER).status_code == 404
    assert client.patch(f"/v1/saved-views/{view['id']}", json={"name": "X"}, headers=OTHER).status_code == 404
    assert client.delete(f"/v1/saved-views/{view['id']}", headers=OTHER).status_code == 404
    assert client.patch("/v1/labels/vip", json={"name": "X"}, headers=OTHER).status_code == 404
    assert client.delete("/v1/labels/vip", headers=OTHER).status_code == 404
    job_url = job.headers["Location"]
    assert client.get(job_url, headers=OTHER).status_code == 404
    assert client.post(f"{job_url}/cancel", headers=OTHER).status_code == 404
    for path in ("", "/preview", "/failed-rows"):
        assert client.get(f"/v1/imports/{uploaded['id']}{path}", headers=OTHER).status_code == 404
    assert client.post(f"/v1/imports/{uploaded['id']}/start", json={}, headers=OTHER).status_code == 404
    assert client.delete(f"/v1/imports/{uploaded['id']}", headers=OTHER).status_code == 404
    exported = client.get(f"/v1/exports/contacts?ids={contact['id']}", headers=OTHER)
    assert exported.status_code == 200  # an export of nothing, not an error whose body lacks the name anyway
    assert "Louise" not in exported.get_data(as_text=True) and "papier" not in exported.get_data(as_text=True)
    assert client.get(f"/v1/exports/contacts?view={view['id']}", headers=OTHER).status_code == 404

    # a bulk label job of the other account naming the first account's contact changes nothing of it
    assert client.post("/v1/labels", json={"name": "VIP"}, headers=OTHER).status_code == 201
    foreign = client.post("/v1/labels/vip/assignments", json={"contact_ids": [contact["id"]]}, headers=OTHER)
    step = CommandStep(container.bus, label_handlers.bulk_label_command)  # as the worker runs it
    runner = JobRunner(container.jobs, {label_handlers.BULK_LABEL_JOB: step}, save_every_s=0)
    while (claimed := container.jobs.claim_next([label_handlers.BULK_LABEL_JOB], runner.owner, timedelta(seconds=60))):
        runner.run_job(claimed, threading.Event())
    project_all(container)
    assert client.get(foreign.headers["Location"], headers=OTHER).get_json()["failed"] == 1
    mine = client.get(f"/v1/contacts/{contact['id']}", headers=headers()).get_json()
    assert mine["labels"] == ["vip"] and mine["revision"] == 2  # its own job's label, nothing else
    notes = client.get(f"/v1/contacts/{contact['id']}/notes", headers=headers()).get_json()["items"]
    assert [(n["text"], n["revision"]) for n in notes] == [("Rappeler", 1)]
    assert client.get(f"/v1/imports/{uploaded['id']}", headers=headers()).status_code == 200
