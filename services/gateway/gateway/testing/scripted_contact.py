"""A scripted service behind the gateway for the aggregated contact read: each path answers what a test says, after
the delay it says, and records what it was asked (unit and integration tests)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from gateway.testing.scripted_upstreams import QuietHandler

CONTACT_ID = "c1"
CONTACT = {"id": CONTACT_ID, "revision": 3, "first_name": "Ada", "labels": ["vip", "gone"]}
TIMELINE_ENTRIES = (
    {"id": "e2", "at": "2026-12-03T10:00:02+00:00", "kind": "note.added", "subject": {"type": "note", "id": "n1"},
     "summary": {"note_id": "n1"}},
    {"id": "e1", "at": "2026-12-03T10:00:01+00:00", "kind": "contact.created", "subject": {"type": "contact", "id": CONTACT_ID},
     "summary": {}},
)
LABELS = {"items": [{"key": "lead", "name": "Lead"}, {"key": "vip", "name": "VIP"}]}


def page(*items: dict, next_cursor: str | None = None) -> dict:
    return {"items": list(items), "next_cursor": next_cursor}


def default_script() -> dict[str, tuple[int, object]]:
    """Path -> (status, JSON body) of a contact with something in every section."""
    return {
        f"/v1/contacts/{CONTACT_ID}": (200, CONTACT),
        "/v1/labels": (200, LABELS),
        f"/v1/contacts/{CONTACT_ID}/notes": (200, page({"id": "n1", "text": "called"}, next_cursor="n-next")),
        f"/v1/contacts/{CONTACT_ID}/attachments": (200, page()),
        "/v1/invoices": (200, page({"id": "i1", "contact_id": CONTACT_ID})),
        "/v1/quotes": (200, page({"id": "q1", "contact_id": CONTACT_ID})),
        "/v1/cards": (200, page({"id": "k1", "contact_id": CONTACT_ID})),
        "/v1/tasks": (200, page({"id": "t1", "contact_id": CONTACT_ID})),
        # every service's timeline page (they all answer at this one path in tests with one scripted upstream)
        f"/v1/contact-timeline/{CONTACT_ID}": (200, page(*TIMELINE_ENTRIES)),
    }


@dataclass
class Script:
    answers: dict[str, tuple[int, object]] = field(default_factory=default_script)
    delays: dict[str, float] = field(default_factory=dict)  # path -> seconds before it answers
    asked: list[tuple[str, dict, dict]] = field(default_factory=list)  # (path, query, headers) of each request

    def handler(self) -> type[QuietHandler]:
        script = self

        class Scripted(QuietHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                script.asked.append((parts.path, dict(parse_qsl(parts.query)), dict(self.headers)))
                time.sleep(script.delays.get(parts.path, 0))
                status, body = script.answers.get(parts.path, (404, {"title": "Not found", "status": 404}))
                data = json.dumps(body).encode()
                self.send_response(status)
                kind = "application/json" if status < 400 else "application/problem+json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:  # the gateway stopped waiting
                    pass

        return Scripted
