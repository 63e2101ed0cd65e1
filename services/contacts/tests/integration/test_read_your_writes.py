"""A read by id (and the account's settings lists) reflects every write acknowledged before it.

The worker is played by a thread that projects the stored events a little
after each write, as the real one does under load: the reads must wait for it,
bounded, instead of answering 404 or an old revision.
"""
import threading
import time

import pytest

from .conftest import headers

LATE = 0.3  # seconds the "worker" takes to project


class LateWorker:
    def __init__(self, container):
        self.container = container

    def project_soon(self):
        def run():
            time.sleep(LATE)
            for envelope in self.container.event_store.read_all():
                self.container.apply_to_projections(envelope)
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


@pytest.fixture
def worker(container):
    return LateWorker(container)


def test_a_contact_is_readable_right_after_each_acknowledged_write(client, worker):
    created = client.post("/v1/contacts", json={"first_name": "Aline"}, headers=headers()).get_json()
    worker.project_soon()
    read = client.get(f"/v1/contacts/{created['id']}", headers=headers())
    assert read.status_code == 200 and read.get_json()["revision"] == 1

    changed = client.patch(f"/v1/contacts/{created['id']}", json={"revision": 1, "company": "Atelier"}, headers=headers())
    assert changed.status_code == 200
    worker.project_soon()
    read = client.get(f"/v1/contacts/{created['id']}", headers=headers())
    assert (read.get_json()["revision"], read.get_json()["company"]) == (2, "Atelier")

    assert client.delete(f"/v1/contacts/{created['id']}?revision=2", headers=headers()).status_code == 204
    worker.project_soon()
    assert client.get(f"/v1/contacts/{created['id']}", headers=headers()).status_code == 404


def test_the_notes_of_a_new_contact_are_listed_right_after_it_is_created(client, worker):
    created = client.post("/v1/contacts", json={"first_name": "Aline"}, headers=headers()).get_json()
    worker.project_soon()
    assert client.get(f"/v1/contacts/{created['id']}/notes", headers=headers()).status_code == 200


def test_the_settings_lists_show_a_change_right_after_it_is_acknowledged(client, worker):
    assert client.post("/v1/labels", json={"name": "Fournisseur"}, headers=headers()).status_code == 201
    assert client.post("/v1/custom-fields", json={"name": "Taille", "type": "number"}, headers=headers()).status_code == 201
    assert client.post("/v1/options/functions", json={"name": "Cheffe de projet"}, headers=headers()).status_code == 201
    view = client.post("/v1/saved-views", json={"name": "Tout", "query": {}}, headers=headers())
    assert view.status_code == 201, view.get_json()
    worker.project_soon()
    assert "Fournisseur" in [l["name"] for l in client.get("/v1/labels", headers=headers()).get_json()["items"]]
    assert [f["name"] for f in client.get("/v1/custom-fields", headers=headers()).get_json()["items"]] == ["Taille"]
    assert "Cheffe de projet" in [o["name"] for o in
                                  client.get("/v1/options/functions", headers=headers()).get_json()["items"]]
    assert [v["name"] for v in client.get("/v1/saved-views", headers=headers()).get_json()["items"]] == ["Tout"]


def test_a_worker_that_never_projects_gives_503_read_model_behind_not_a_wrong_answer(client, settings):
    settings["READ_YOUR_WRITES_SECONDS"] = 0.2
    created = client.post("/v1/contacts", json={"first_name": "Aline"}, headers=headers()).get_json()
    response = client.get(f"/v1/contacts/{created['id']}", headers=headers())
    assert response.status_code == 503
    assert response.get_json()["type"] == "/problems/read-model-behind"
    assert response.headers["Retry-After"] == "1"


def test_another_accounts_contact_is_not_waited_for(client, settings):
    settings["READ_YOUR_WRITES_SECONDS"] = 5
    created = client.post("/v1/contacts", json={"first_name": "Aline"}, headers=headers()).get_json()
    started = time.monotonic()
    assert client.get(f"/v1/contacts/{created['id']}", headers=headers("acct-2")).status_code == 404
    assert time.monotonic() - started < 1
