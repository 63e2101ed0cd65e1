"""A person with many records in every service, made through the gateway (issue 13's e2e test and benchmark).

`seed_person` returns the ids made and the values known of the person: what a scan after the erasure must no
longer find readable anywhere (crm_platform.occurrences).

With `workers` above 1 it sends requests at once, each thread on a session of its own: the cards, invoices and
quotes (workflows and billing), `workers` at a time, while the notes and files are made. Those stay one after the
other: each is filed in its contact's holdings, where concurrent writers conflict and the contacts service retries
a few times only (3 notes at once already ran out of retries: a 409 "send the request again", after the note was
stored).
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

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
                quotes: int = 1, session: requests.Session | None = None, workers: int = 1) -> SeededPerson:
    """A contact with that many notes, files, cards, invoices (half of them issued) and quotes; up to `workers`
    requests at once."""
    caller_session, caller, sessions = session or requests.Session(), threading.current_thread(), threading.local()

    def http() -> requests.Session:  # the caller's session in its thread, a new one of its kind in each other
        if threading.current_thread() is caller:
            return caller_session
        if not hasattr(sessions, "session"):
            sessions.session = type(caller_session)()
        return sessions.session

    marker = os.urandom(5).hex()
    first, last = f"Éloïse{marker}", f"Vautrin{marker}"
    email, street = f"eloise.{marker}@example.fr", f"{marker} rue des Lilas"
    contact = _ok(http().post(f"{gateway}/v1/contacts", headers=headers, timeout=30, json={
        "first_name": first, "last_name": last, "emails": [{"tag": "main", "address": email}],
        "addresses": [{"tag": "billing", "street": [street], "city": "Lille", "country": "FR"}]}))
    person = SeededPerson(contact["id"], [first, last, email, street])

    def note(n: int) -> tuple[str, str]:
        text = f"Note {n} sur Éloïse {marker}: rappeler mardi"
        return _ok(http().post(f"{gateway}/v1/contacts/{contact['id']}/notes", headers=headers, timeout=30,
                               json={"text": text}))["id"], text

    def attachment(n: int) -> str:
        content = f"%PDF-1.7 contrat {n} de {first} {last}".encode() + os.urandom(2_000)
        return _ok(http().post(f"{gateway}/v1/contacts/{contact['id']}/attachments", headers=headers, timeout=60,
                               files={"file": (f"contrat-{n}.pdf", content, "application/pdf")}))["id"]

    def card(board_id: str, n: int) -> tuple[str, str]:
        title = f"Projet {n} d'Éloïse {marker}"
        return _ok(_eventually(
            lambda: http().post(f"{gateway}/v1/cards", headers=headers, timeout=30,
                                json={"board_id": board_id, "title": title, "contact_id": contact["id"]}),
            lambda r: r.status_code == 201))["id"], title

    def invoice(n: int) -> tuple[str, bool]:
        draft = _ok(_eventually(lambda: http().post(f"{gateway}/v1/invoices", headers=headers, timeout=30,
                                                    json={"contact_id": contact["id"], "lines": [LINE]}),
                                lambda r: r.status_code == 201))
        if n % 2:
            _ok(http().post(f"{gateway}/v1/invoices/{draft['id']}/issue", headers=headers, timeout=30))
        return draft["id"], bool(n % 2)

    def quote(n: int) -> str:
        return _ok(_eventually(lambda: http().post(f"{gateway}/v1/quotes", headers=headers, timeout=30,
                                                   json={"contact_id": contact["id"], "lines": [LINE]}),
                               lambda r: r.status_code == 201))["id"]

    def elsewhere() -> None:
        """The person's records in workflows and billing."""
        if cards:
            board = _eventually(lambda: http().get(f"{gateway}/v1/boards", headers=headers, timeout=30).json(),
                                lambda page: page.get("items"))["items"][0]
            for card_id, title in _each(workers, cards, lambda n: card(board["id"], n)):
                person.card_ids.append(card_id)
                person.values.append(title)
        if invoices or quotes:
            _ok(http().patch(f"{gateway}/v1/billing-settings", headers=headers, timeout=30,
                             json={"revision": 0, "seller": {"name": "Agence Privée SAS", "siren": "732829320"}}),
                allowed=(200, 409))  # 409: the account's settings were set by another person
        for invoice_id, issued in _each(workers, invoices, invoice):
            (person.issued_ids if issued else person.draft_ids).append(invoice_id)
        person.quote_ids.extend(_each(workers, quotes, quote))

    with ThreadPoolExecutor(1) as background:
        made_elsewhere = background.submit(elsewhere) if workers > 1 else None
        noted = _each(1, notes, note)
        person.attachment_ids.extend(_each(1, files, attachment))
        if made_elsewhere is None:
            elsewhere()
        else:
            made_elsewhere.result()
    for note_id, text in noted:
        person.note_ids.append(note_id)
        person.values.append(text)
    return person


def _each(workers: int, count: int, make: Callable[[int], object]) -> list:
    """[make(0), ..., make(count - 1)], up to `workers` at a time."""
    if workers <= 1 or count <= 1:
        return [make(n) for n in range(count)]
    with ThreadPoolExecutor(min(workers, count)) as pool:
        return list(pool.map(make, range(count)))


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
