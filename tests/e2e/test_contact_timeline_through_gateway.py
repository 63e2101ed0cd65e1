"""End to end: a contact's timeline (issue 14, item 1) read through the gateway in pages of 2: what contacts did
(created, changed, a note) and, from the services that keep a timeline, billing's invoice and workflows' card,
newest first, every entry once, none missed between pages; another account's key gets 404."""
from datetime import datetime

import requests

from .conftest import bearer, eventually

LINE = {"description": "Audit", "quantity": "1", "unit": "jour", "unit_price": "800.00",
        "taxes": [{"category": "S", "rate": "20"}]}


def pages(base: str, url: str, auth: dict, limit: int) -> tuple[list[dict], list[dict]]:
    """Every entry of the timeline read `limit` at a time, and each page's answer."""
    items, answers, params = [], [], {"limit": limit}
    for _ in range(100):
        answer = requests.get(url, params=params, headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        answers.append(body)
        if body["next_cursor"] is None:
            return items, answers
        assert body["next"] == f"{url.removeprefix(base)}?limit={limit}&cursor={body['next_cursor']}"
        params = {"limit": limit, "cursor": body["next_cursor"]}
    raise AssertionError("the timeline never ended")


def test_the_timeline_merges_every_service_newest_first_in_pages_without_gaps(system, account_b):
    account = system.create_account("Agence Chronologie")
    base, auth = system.gateway_url, bearer(account)

    def post(path, body, expected=201):
        return eventually(lambda: requests.post(f"{base}{path}", json=body, headers=auth, timeout=10),
                          lambda r: r.status_code == expected, timeout_s=60)

    contact = post("/v1/contacts", {"first_name": "Odile", "last_name": "Chronos",
                                    "emails": [{"address": "odile@chronos.example"}]}).json()
    changed = requests.patch(f"{base}/v1/contacts/{contact['id']}", json={"revision": 1, "company": "Chronos SA"},
                             headers=auth, timeout=10)
    assert changed.status_code == 200, changed.text
    note = post(f"/v1/contacts/{contact['id']}/notes", {"text": "Rappeler Odile en mai"}).json()
    settings = requests.patch(f"{base}/v1/billing-settings", headers=auth, timeout=10,
                              json={"revision": 0, "seller": {"name": "Agence Chronologie SAS", "siren": "732829320"}})
    assert settings.status_code == 200, settings.text
    invoice = post("/v1/invoices", {"contact_id": contact["id"], "lines": [LINE]}).json()
    assert requests.post(f"{base}/v1/invoices/{invoice['id']}/issue", headers=auth, timeout=10).status_code == 200
    board = eventually(lambda: requests.get(f"{base}/v1/boards", headers=auth, timeout=10).json(),
                       lambda page: len(page.get("items", [])) == 1)["items"][0]
    card = post("/v1/cards", {"board_id": board["id"], "title": "Audit", "contact_id": contact["id"]}).json()

    url = f"{base}/v1/contacts/{contact['id']}/timeline"
    expected = {"contacts": {("contact", contact["id"], "contact.created"), ("contact", contact["id"], "contact.updated"),
                             ("note", note["id"], "note.added")},
                "billing": {("invoice", invoice["id"])}, "workflows": {("card", card["id"])}}

    def told(body) -> bool:
        """Whether every source answered and each one's expected entries are in the page."""
        seen = {(item["subject"]["type"], item["subject"]["id"], item["kind"]) for item in body.get("items", [])}
        subjects = {entry[:2] for entry in seen}
        return body.get("sources") == {"contacts": "ok", "billing": "ok", "workflows": "ok"} and all(
            wanted <= seen if source == "contacts" else wanted <= subjects for source, wanted in expected.items())

    whole = eventually(lambda: requests.get(url, params={"limit": 100}, headers=auth, timeout=10).json(), told,
                       timeout_s=60)
    kinds = {item["kind"] for item in whole["items"]}
    assert {"invoice.issued", "card.created"} <= kinds, kinds
    assert "Odile" not in str(whole["items"]) and "odile@" not in str(whole["items"])

    items, answers = pages(base, url, auth, 2)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "an entry was given twice"
    assert ids == [item["id"] for item in whole["items"]], "the pages are the whole timeline, in its order"
    order = [(datetime.fromisoformat(item["at"]), item["id"]) for item in items]
    assert order == sorted(order, reverse=True)
    assert all(answer["sources"] == whole["sources"] for answer in answers)

    # the 360 read's timeline section is its first page
    section = requests.get(f"{base}/v1/contacts/{contact['id']}", params={"include": "timeline"}, headers=auth,
                           timeout=10).json()["sections"]["timeline"]
    assert section["status"] == "ok" and [item["id"] for item in section["items"]] == ids[:20]

    # another account's key: the contact is not there
    foreign = requests.get(url, headers=bearer(account_b), timeout=10)
    assert foreign.status_code == 404 and foreign.headers["Content-Type"] == "application/problem+json"
    bad = requests.get(url, params={"cursor": "not-ours"}, headers=auth, timeout=10)
    assert bad.status_code == 422 and "cursor" in bad.json()["errors"]
