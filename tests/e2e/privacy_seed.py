"""A person with many records in every service, made through the gateway (issue 13's e2e test and benchmark).

`seed_person` returns the ids made and the values known of the person: what a scan after the erasure must no
longer find readable anywhere (crm_platform.testing.occurrences).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import requests

LINE = {"description": "Accompagnement", "quantity": "1", "unit": "jour", "unit_price": "450.00",
        "taxes": [{"category": "S", "rate": "20"}]}


@dataclass
class SeededPerson:
    contact_id: str
    values: list[str]  # personal values to look for after the erasure (all distinctive, never short)
    note_ids: list[str] = field(default_factory=list)
    attachment_ids: list[str] = field(default_factory=list)
    card_ids: list[str] = field(default_factory=list)
    draft_ids: list[str] = field(default_factory=list)
    issued_ids: list[str] = field(default_factory=list)
    quote_ids: list[str] = field(default_factory=list)

    @property
    def record_count(self) -> int:
        return sum(map(len, (self.note_ids, self.attachment_ids, self.card_ids, self.draft_ids, self.issued_ids,
                             self.quote_ids)))


def seed_person(gateway: str, headers: dict, notes: int = 5, files: int = 2, cards: int = 3, invoices: int = 4,
                quotes: int = 1, session: requests.Session | None = None) -> SeededPerson:
    """A contact with that many notes, files, cards, invoices (half of them issued) and quotes."""
    http = session or requests.Session()
    marker = os.urandom(5).hex()
    first, last = f"Éloïse{marker}", f"Vautrin{marker}"
    email, street = f"eloise.{marker}@example.fr", f"{marker} rue des Lilas"
    contact = _ok(http.post(f"{gateway}/v1/contacts", headers=headers, timeout=30, json={
        "first_name": first, "last_name": last, "emails": [{"tag": "main", "address": email}],
        "addresses": [{"tag": "billing", "street": [street], "city": "Lille", "country": "FR"}]}))
    person = SeededPerson(contact["id"], [first, last, email, street])
    for n in range(notes):
        text = f"Note {n} sur Éloïse {marker}: rappeler mardi"
        person.note_ids.append(_ok(http.post(f"{gateway}/v1/contacts/{contact['id']}/notes", headers=headers,
                                             timeout=30, json={"text": text}))["id"])
        person.values.append(text)
    for n in range(files):
        content = f"%PDF-1.7 contrat {n} de {first} {last}".encode() + os.urandom(2_000)
        person.attachment_ids.append(_ok(http.post(
            f"{gateway}/v1/contacts/{contact['id']}/attachments", headers=headers, timeout=60,
            files={"file": (f"contrat-{n}.pdf", content, "application/pdf")}))["id"])
    if cards:
        board = _eventually(lambda: http.get(f"{gateway}/v1/boards", headers=headers, timeout=30).json(),
                            lambda page: page.get("items"))["items"][0]
        for n in range(cards):
            title = f"Projet {n} d'Éloïse {marker}"
            person.card_ids.append(_ok(_eventually(
                lambda: http.post(f"{gateway}/v1/cards", headers=headers, timeout=30,
                                  json={"board_id": board["id"], "title": title, "contact_id": contact["id"]}),
                lambda r: r.status_code == 201))["id"])
            person.values.append(title)
    if invoices or quotes:
        _ok(http.patch(f"{gateway}/v1/billing-settings", headers=headers, timeout=30,
                       json={"revision": 0, "seller": {"name": "Agence Privée SAS", "siren": "732829320"}}),
            allowed=(200, 409))  # 409: the account's settings were set by an earlier person
    for n in range(invoices):
        draft = _ok(_eventually(lambda: http.post(f"{gateway}/v1/invoices", headers=headers, timeout=30,
                                                  json={"contact_id": contact["id"], "lines": [LINE]}),
                                lambda r: r.status_code == 201))
        if n % 2:
            _ok(http.post(f"{gateway}/v1/invoices/{draft['id']}/issue", headers=headers, timeout=30))
            person.issued_ids.append(draft["id"])
        else:
            person.draft_ids.append(draft["id"])
    for n in range(quotes):
        person.quote_ids.append(_ok(_eventually(
            lambda: http.post(f"{gateway}/v1/quotes", headers=headers, timeout=30,
                              json={"contact_id": contact["id"], "lines": [LINE]}),
            lambda r: r.status_code == 201))["id"])
    return person


def _ok(response: requests.Response, allowed=(200, 201, 202)) -> dict:
    assert response.status_code in allowed, f"{response.request.method} {response.url}: {response.status_code} " \
                                            f"{response.text[:300]}"
    return response.json()


def _eventually(fetch, condition, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if condition(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.1)
