"""End to end: the aggregated contact read (issue 14, item 1) gathers a contact's label, note, invoice, card and task
from contacts, billing and workflows; with billing stopped it still answers within the deadline, its sections
`unavailable`."""
import time
from datetime import datetime, timedelta, timezone

import requests

from .conftest import bearer, eventually

SECTION_DEADLINE_S = 1.5  # the gateway's default CONTACT_SECTION_DEADLINE_S
LINE = {"description": "Audit", "quantity": "1", "unit": "jour", "unit_price": "800.00",
        "taxes": [{"category": "S", "rate": "20"}]}


def test_the_360_read_gathers_every_service_and_survives_billing_stopped(system, account_b):
    account = system.create_account("Agence Vue Complete")
    base, auth = system.gateway_url, bearer(account)

    def post(path, body, expected=201):
        return eventually(lambda: requests.post(f"{base}{path}", json=body, headers=auth, timeout=10),
                          lambda r: r.status_code == expected, timeout_s=60)

    contact = post("/v1/contacts", {"first_name": "Irène", "last_name": "Vuecomplete"}).json()
    label = post("/v1/labels/find-or-create", {"name": "Fidèle"}, expected=200).json()
    assert requests.put(f"{base}/v1/contacts/{contact['id']}/labels/{label['key']}", headers=auth, timeout=10).ok
    note = post(f"/v1/contacts/{contact['id']}/notes", {"text": "Rappeler en mai"}).json()
    settings = requests.patch(f"{base}/v1/billing-settings", headers=auth, timeout=10,
                              json={"revision": 0, "seller": {"name": "Agence Vue SAS", "siren": "732829320"}})
    assert settings.status_code == 200, settings.text
    invoice = post("/v1/invoices", {"contact_id": contact["id"], "lines": [LINE]}).json()
    board = eventually(lambda: requests.get(f"{base}/v1/boards", headers=auth, timeout=10).json(),
                       lambda page: len(page.get("items", [])) == 1)["items"][0]
    card = post("/v1/cards", {"board_id": board["id"], "title": "Audit d'Irène", "contact_id": contact["id"]}).json()
    task = post("/v1/tasks", {"title": "Envoyer l'audit", "due_at": "2030-01-15T09:00:00+00:00",
                              "contact_id": contact["id"]}).json()

    url = f"{base}/v1/contacts/{contact['id']}/360"
    expected = {"labels": label["key"], "notes": note["id"], "invoices": invoice["id"], "cards": card["id"],
                "tasks": task["id"]}

    def shown(body):
        sections = body.get("sections", {})
        return all(any(item.get("id", item.get("key")) == wanted for item in sections.get(name, {}).get("items", []))
                   for name, wanted in expected.items())

    whole = eventually(lambda: requests.get(url, headers=auth, timeout=10).json(), shown)
    assert shown(whole), whole
    assert whole["contact"]["id"] == contact["id"]
    assert {name: s["status"] for name, s in whole["sections"].items()} == dict.fromkeys(
        ("labels", "notes", "attachments", "invoices", "quotes", "cards", "tasks", "timeline"), "ok")
    assert whole["sections"]["labels"]["items"] == [{"key": label["key"], "name": "Fidèle"}]
    some = requests.get(f"{base}/v1/contacts/{contact['id']}", params={"include": "notes,tasks"}, headers=auth,
                        timeout=10)
    assert some.status_code == 200 and set(some.json()["sections"]) == {"notes", "tasks"}
    # another account's contact id: 404 for the whole read, nothing of any section
    foreign = requests.get(url, headers=bearer(account_b), timeout=10)
    assert foreign.status_code == 404 and "sections" not in foreign.json()
    bad = requests.get(url, params={"include": "notes,salaries"}, headers=auth, timeout=10)
    assert bad.status_code == 422 and "include" in bad.json()["errors"]

    with system.stopped("billing-api"):
        started = time.monotonic()
        partial = requests.get(url, headers=auth, timeout=10)
        elapsed = time.monotonic() - started
        assert partial.status_code == 200, partial.text
        assert elapsed < SECTION_DEADLINE_S + 0.5
        sections = partial.json()["sections"]
        assert sections["invoices"] == {"status": "unavailable"} and sections["quotes"] == {"status": "unavailable"}
        assert sections["notes"]["status"] == sections["cards"]["status"] == sections["tasks"]["status"] == "ok"
    back = eventually(lambda: requests.get(url, headers=auth, timeout=10).json(),
                      lambda body: body.get("sections", {}).get("invoices", {}).get("status") == "ok")
    assert [item["id"] for item in back["sections"]["invoices"]["items"]] == [invoice["id"]]


def test_the_360_read_as_of_a_moment_shows_the_contact_its_labels_and_notes_as_they_were(system):
    """Time travel (issue 14): the contacts service replays its events; the other services say they cannot."""
    account = system.create_account("Agence Retour Arriere")
    base, auth = system.gateway_url, bearer(account)

    def post(path, body, expected=201):  # the account's own settings come a moment after it is created
        return eventually(lambda: requests.post(f"{base}{path}", json=body, headers=auth, timeout=10),
                          lambda r: r.status_code == expected, timeout_s=60)

    contact = post("/v1/contacts", {"first_name": "Odile"}).json()
    label = post("/v1/labels", {"name": "Salon 2026", "key": "salon-2026"})
    assert label.status_code == 201, label.text
    assert requests.put(f"{base}/v1/contacts/{contact['id']}/labels/salon-2026", headers=auth, timeout=10).ok
    note = post(f"/v1/contacts/{contact['id']}/notes", {"text": "Premier contact"}).json()
    time.sleep(0.05)
    then = datetime.now(timezone.utc)
    time.sleep(0.05)
    assert requests.patch(f"{base}/v1/labels/salon-2026", json={"name": "Cliente"}, headers=auth, timeout=10).ok
    assert requests.patch(f"{base}/v1/contacts/{contact['id']}", json={"revision": 2, "last_name": "Dupré"},
                          headers=auth, timeout=10).ok
    assert requests.patch(f"{base}/v1/contacts/{contact['id']}/notes/{note['id']}",
                          json={"revision": 1, "text": "Signé"}, headers=auth, timeout=10).ok

    answer = requests.get(f"{base}/v1/contacts/{contact['id']}/360", params={"as_of": then.isoformat()},
                          headers=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["contact"]["last_name"] is None and body["contact"]["revision"] == 2
    assert body["contact"]["as_of"] and "ETag" not in answer.headers
    assert body["sections"]["labels"]["items"] == [{"key": "salon-2026", "name": "Salon 2026"}]
    assert [(n["id"], n["text"]) for n in body["sections"]["notes"]["items"]] == [(note["id"], "Premier contact")]
    assert body["sections"]["invoices"] == body["sections"]["tasks"] == {"status": "as_of_unsupported"}
    before = requests.get(f"{base}/v1/contacts/{contact['id']}", headers=auth, timeout=10,
                          params={"as_of": (then - timedelta(days=1)).isoformat()})
    assert before.status_code == 404
    naive = requests.get(f"{base}/v1/contacts/{contact['id']}/360", params={"as_of": "2026-01-31T09:30:00"},
                         headers=auth, timeout=10)
    assert naive.status_code == 422 and list(naive.json()["errors"]) == ["as_of"]
