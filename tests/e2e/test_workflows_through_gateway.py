"""End to end: boards and cards through the gateway, the workflows worker reacting to accounts and contacts (issue 12)."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import requests

from .conftest import bearer, eventually


def contact(system, account, first_name):
    created = requests.post(f"{system.gateway_url}/v1/contacts", json={"first_name": first_name},
                            headers=bearer(account), timeout=10)
    assert created.status_code == 201, created.text
    return created.json()


def card_of(system, account, card_id):
    return requests.get(f"{system.gateway_url}/v1/cards/{card_id}", headers=bearer(account), timeout=10).json()


def new_card(system, account, board, contact_id, title):
    """A card, once the worker has heard of its contact from contacts.events (until then: 422 on contact_id)."""
    answer = eventually(lambda: requests.post(f"{system.gateway_url}/v1/cards", headers=bearer(account), timeout=10,
                                              json={"board_id": board["id"], "title": title, "contact_id": contact_id,
                                                    "value": "1200.00", "currency": "EUR"}),
                        lambda r: r.status_code == 201)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_new_account_gets_its_default_board_and_a_card_moves_through_its_stages_to_won(system):
    account = system.create_account("Agence Pipeline")
    url = f"{system.gateway_url}/v1/boards"
    boards = eventually(lambda: requests.get(url, headers=bearer(account), timeout=10).json(),
                        lambda page: len(page.get("items", [])) == 1)
    [board] = boards["items"]
    assert board["name"] == "Pipeline commercial" and (board["won_label"], board["lost_label"]) == ("Gagné", "Perdu")
    assert [s["name"] for s in board["stages"]] == ["Nouveau", "Contacté", "Proposition", "Négociation"]

    louise = contact(system, account, "Louise")
    card = new_card(system, account, board, louise["id"], "Site de Louise")
    assert card["stage_id"] == board["stages"][0]["id"] and card["status"] == "open"
    for revision, stage in enumerate(board["stages"][1:], start=1):
        moved = requests.post(f"{system.gateway_url}/v1/cards/{card['id']}/move", headers=bearer(account), timeout=10,
                              json={"revision": revision, "stage_id": stage["id"]})
        assert moved.status_code == 200, moved.text
    stale = requests.post(f"{system.gateway_url}/v1/cards/{card['id']}/move", headers=bearer(account), timeout=10,
                          json={"revision": 1, "stage_id": board["stages"][0]["id"]})
    assert stale.status_code == 409 and stale.headers["Content-Type"] == "application/problem+json"
    won = requests.post(f"{system.gateway_url}/v1/cards/{card['id']}/won", headers=bearer(account), timeout=10)
    assert won.status_code == 200 and won.json()["status"] == "won" and won.json()["revision"] == 5

    last = board["stages"][-1]["id"]
    columns = eventually(lambda: requests.get(f"{url}/{board['id']}/columns", headers=bearer(account), timeout=10).json(),
                         lambda page: all(column["count"] == 0 for column in page["columns"]))
    assert [c["stage"]["id"] for c in columns["columns"]][-1] == last
    listed = eventually(lambda: requests.get(f"{system.gateway_url}/v1/cards?status=won", headers=bearer(account),
                                             timeout=10).json(), lambda page: len(page["items"]) == 1)
    assert listed["items"][0]["id"] == card["id"] and listed["items"][0]["title"] == "Site de Louise"


def test_merging_contacts_moves_their_cards_to_the_survivor(system, account_a):
    survivor, source = contact(system, account_a, "Paul"), contact(system, account_a, "Paul bis")
    board = requests.post(f"{system.gateway_url}/v1/boards", headers=bearer(account_a), timeout=10,
                          json={"name": "Projets", "stages": ["À faire", "En cours"]}).json()
    card = new_card(system, account_a, board, source["id"], "Refonte")
    eventually(lambda: requests.get(f"{system.gateway_url}/v1/cards?contact_id={source['id']}",
                                    headers=bearer(account_a), timeout=10).json(),
               lambda page: len(page["items"]) == 1)  # the worker finds a contact's cards in its read model
    merged = requests.post(f"{system.gateway_url}/v1/contacts/{survivor['id']}/merge", headers=bearer(account_a),
                           timeout=10, json={"source_ids": [source["id"]], "revision": survivor["revision"]})
    assert merged.status_code == 200, merged.text
    relinked = eventually(lambda: card_of(system, account_a, card["id"]),
                          lambda found: found.get("contact_id") == survivor["id"])
    assert relinked["contact_id"] == survivor["id"] and relinked["title"] == "Refonte"


def test_a_task_with_two_reminders_sends_two_emails_once_each_even_after_a_worker_kill(system):
    account = system.create_account("Agence Rappels")
    to = f"equipe-{uuid.uuid4().hex[:12]}@agence.example"  # the sink is the whole session's: this test's mails
    put = requests.put(f"{system.gateway_url}/v1/workflow-settings", headers=bearer(account), timeout=10,
                       json={"time_zone": "Europe/Paris", "notification_email": to})
    assert put.status_code == 200, put.text
    # Reminders are whole minutes apart: the first is due 10 s from now, the second a minute later, leaving the
    # worker's kill, restart and the scheduler lease's hand-over (at most 1.5 x its 15 s) between the two. The
    # margin matters: a reminder already past when the task is created never fires (reminders_after), and a loaded
    # machine can take seconds to create it.
    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=2, seconds=10)
    created = requests.post(f"{system.gateway_url}/v1/tasks", headers=bearer(account), timeout=10, json={
        "title": "Relancer le devis", "due_at": due.isoformat(),
        "reminders": [{"before": "PT2M"}, {"before": "PT1M"}]})  # at +10 s and at +70 s
    assert created.status_code == 201, created.text

    def mails():
        return [m for m in system.smtp_sink.messages if m.message["To"] == to]

    first = eventually(mails, lambda found: len(found) >= 1, timeout_s=90, interval_s=0.5)
    assert len(first) == 1, "the first reminder's e-mail never came"
    system.kill_and_restart("workflows-worker")
    both = eventually(mails, lambda found: len(found) >= 2, timeout_s=150, interval_s=0.5)
    time.sleep(5)  # time for a duplicate, were there one
    assert len(both) == 2 and len(mails()) == 2
    assert all("Relancer le devis" in m.message["Subject"] for m in both)
