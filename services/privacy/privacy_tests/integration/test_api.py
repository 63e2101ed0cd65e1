"""The privacy API on the real database: requests received, shown, listed, and refused when malformed."""
import json

from crm_platform.contracts.privacy import SubjectErasedReply
from crm_platform.envelope import envelope_from_json_bytes
from crm_platform.kafka_clients import ensure_topics
from crm_platform.testing.topics import read_topic

from privacy.entrypoints import requests_api
from privacy.entrypoints.schemas import PrivacyRequestPageSchema, PrivacyRequestSchema

from .conftest import deliver_reply, headers, project_all

ERASURE = {"type": "erasure", "subject": {"contact_id": "contact:1"}, "requester": "Louise Martin",
           "reason": "courrier recommandé du 1er décembre, identité vérifiée"}


def test_a_request_is_received_asked_at_once_and_shown_with_its_audit_trail(client, container):
    answer = client.post("/v1/privacy/requests", json=ERASURE, headers=headers(**{"X-Actor": "user:dpo"}))
    assert answer.status_code == 202, answer.get_json()
    shown = client.get(answer.headers["Location"], headers=headers()).get_json()
    assert shown["id"] == answer.get_json()["id"] and shown["status"] == "in_progress"
    assert shown["type"] == "erasure" and shown["deadline"] == "2027-01-02T09:00:00+00:00"
    assert (shown["requester"], shown["reason"]) == (ERASURE["requester"], ERASURE["reason"])
    assert [(s["service"], s["asked"], s["answered"]) for s in shown["services"]] == [
        ("contacts", True, False), ("billing", True, False), ("workflows", True, False)]
    assert shown["missing_services"] == ["contacts", "billing", "workflows"] and shown["export"] is None
    trail = shown["audit_trail"]
    assert [(e["what"], e["actor"]) for e in trail] == [("PrivacyRequestReceived", "user:dpo"),
                                                        ("ErasureRequested", "user:dpo"),
                                                        ("SubjectValuesKept", "user:dpo")]
    assert shown["verification"] == {"state": "pending", "values_checked": 0}  # the directory knows no value
    assert "Louise" not in str(trail) and trail[1]["details"]["contact_ids"] == ["contact:1"]
    assert PrivacyRequestSchema().validate(shown) == {}  # what it answers is what the OpenAPI document says


def test_another_accounts_request_is_not_found(client):
    created = client.post("/v1/privacy/requests", json=ERASURE, headers=headers()).get_json()
    for path in ("", "/export", "/certificate"):
        answer = client.get(f"/v1/privacy/requests/{created['id']}{path}", headers=headers("acct-2"))
        assert answer.status_code == 404 and answer.content_type == "application/problem+json"


def test_bad_input_is_a_problem_naming_the_field(client):
    cases = [({**ERASURE, "type": "rectification"}, "type"), ({**ERASURE, "subject": {}}, "subject"),
             ({**ERASURE, "requster": "x"}, "requster"), ({**ERASURE, "reason": ""}, "reason"),
             ({**ERASURE, "subject": {"contact_id": "c", "email": "x@example.com"}}, "subject")]
    for body, field in cases:
        answer = client.post("/v1/privacy/requests", json=body, headers=headers())
        assert answer.status_code == 422 and answer.content_type == "application/problem+json", body
        assert field in answer.get_json()["errors"], (body, answer.get_json())
    assert client.get("/v1/privacy/requests?status=done", headers=headers()).get_json()["errors"].keys() == {"status"}
    assert client.get("/v1/privacy/requests?cursor=nope", headers=headers()).status_code == 422


def test_the_list_is_filtered_by_type_and_status_and_paged(client, container):
    ids = [client.post("/v1/privacy/requests", json={**ERASURE, "type": kind}, headers=headers()).get_json()["id"]
           for kind in ("erasure", "access", "portability")]
    client.post("/v1/privacy/requests", json=ERASURE, headers=headers("acct-2"))
    project_all(container)
    listed = client.get("/v1/privacy/requests", headers=headers()).get_json()
    assert sorted(item["id"] for item in listed["items"]) == sorted(ids)
    assert PrivacyRequestPageSchema().validate(listed) == {}
    access = client.get("/v1/privacy/requests?type=access&status=in_progress", headers=headers()).get_json()
    assert [item["id"] for item in access["items"]] == [ids[1]]
    assert client.get("/v1/privacy/requests?status=completed", headers=headers()).get_json()["items"] == []
    first = client.get("/v1/privacy/requests?limit=2", headers=headers()).get_json()
    rest = client.get(f"/v1/privacy/requests?limit=2&cursor={first['next_cursor']}", headers=headers()).get_json()
    assert sorted(i["id"] for i in first["items"] + rest["items"]) == sorted(ids) and rest["next_cursor"] is None


def test_the_question_is_published_on_privacy_events_with_the_requester_sealed(client, container, settings):
    client.post("/v1/privacy/requests", json=ERASURE, headers=headers())
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [container.events_topic], 1)
    assert container.outbox_relay().publish_pending() == 1  # one commit: its three events
    records = read_topic(settings["KAFKA_BOOTSTRAP_SERVERS"], container.events_topic, expected=3)
    assert [envelope_from_json_bytes(r.value).event_type for r in records] == [
        "PrivacyRequestReceived", "ErasureRequested", "SubjectValuesKept"]
    assert all(b"Louise" not in r.value for r in records)


def test_only_the_gateway_may_call_it_and_the_openapi_document_lists_its_paths(client):
    assert client.get("/v1/privacy/requests", headers={"X-Account-Id": "acct-1"}).status_code == 401
    paths = client.get("/openapi.json", headers=headers()).get_json()["paths"]
    assert {"/v1/privacy/requests", "/v1/privacy/requests/{request_id}/export", "/v1/privacy/public-key"} <= set(paths)


def test_hostile_input_on_every_privacy_endpoint_is_a_422_or_404_problem(client, container):
    """NUL bytes, lone surrogates, huge numbers, deep JSON and another account's ids (issue 13): never a 5xx."""
    restriction = {**ERASURE, "type": "restriction"}
    by_phone = client.post("/v1/privacy/requests", json={**restriction, "subject": {"phone": "+33 6 00 00 00 01"}},
                           headers=headers()).get_json()
    mine = client.post("/v1/privacy/requests", json=restriction, headers=headers()).get_json()["id"]
    deep = "[" * 10_000 + "]" * 10_000
    bodies = [
        {**restriction, "subject": {"phone": "+33 6 00 00 00 00\u0000"}}, {**restriction, "subject": {"phone": 10**30}},
        {**restriction, "subject": {"phone": "\ud800"}}, {**restriction, "subject": {"contact_id": "contact:\u00001"}},
        {**restriction, "subject": {"contact_id": "\ud800"}}, {**restriction, "subject": {"email": "a\u0000@b.fr"}},
        {**restriction, "requester": "Louise\u0000"}, {**restriction, "reason": "\ud800"},
        {**restriction, "type": 10**30}, {**restriction, "subject": [restriction]}, [restriction], 10**30,
    ]
    posts = [("/v1/privacy/requests", body) for body in bodies] + [
        (f"/v1/privacy/requests/{by_phone['id']}/confirm", {"contact_ids": ["contact:1\u0000"]}),
        (f"/v1/privacy/requests/{by_phone['id']}/confirm", {"contact_ids": ["\ud800"]}),
        (f"/v1/privacy/requests/{by_phone['id']}/confirm", {"contact_ids": 10**30}),
        (f"/v1/privacy/requests/{by_phone['id']}/reject", {"why": "\u0000"}),
    ]
    for path, body in posts:
        answer = client.post(path, data=json.dumps(body), content_type="application/json", headers=headers())
        assert answer.status_code == 422 and answer.content_type == "application/problem+json", (body, answer.data)
    for path in ("/v1/privacy/requests", f"/v1/privacy/requests/{by_phone['id']}/confirm"):
        answer = client.post(path, data=deep, content_type="application/json", headers=headers())
        assert answer.status_code in (400, 413, 422) and answer.content_type == "application/problem+json", path

    theirs = [f"/v1/privacy/requests/{mine}/lift", f"/v1/privacy/requests/{by_phone['id']}/reject"]
    for path in theirs:  # another account's request: as if unknown
        answer = client.post(path, json={"why": "not_the_subject"}, headers=headers("acct-2"))
        assert answer.status_code == 404 and answer.content_type == "application/problem+json", path
    for request_id in ("privacy-request:\u0000", "%00", "privacy-request:%ED%A0%80", "x" * 5000):
        for suffix in ("", "/lift", "/certificate"):
            method = client.post if suffix == "/lift" else client.get
            answer = method(f"/v1/privacy/requests/{request_id}{suffix}", headers=headers())
            assert answer.status_code == 404 and answer.content_type == "application/problem+json", (request_id,
                                                                                                   suffix)
    assert client.get(f"/v1/privacy/requests/{mine}", headers=headers()).get_json()["lifted_at"] is None


def test_a_reply_recorded_while_a_request_is_shown_is_in_neither_its_services_nor_its_audit_trail(client, container):
    """The request and its trail were two reads: a reply recorded between them showed in the trail while its
    service showed unanswered (a clean-clone make test saw 3 replies in the trail and 2 services answered)."""
    request_id = client.post("/v1/privacy/requests", json=ERASURE, headers=headers()).get_json()["id"]
    with container.unit_of_work() as uow:
        loaded = uow.requests.get("acct-1", request_id)
    deliver_reply(container, SubjectErasedReply(request_id, "acct-1", "billing", "erased", [], [], 0, "now"))
    with client.application.test_request_context(headers=headers()):
        shown = requests_api._detail(loaded)
    assert [e["what"] for e in shown["audit_trail"]] == ["PrivacyRequestReceived", "ErasureRequested",
                                                         "SubjectValuesKept"]
    assert not any(service["answered"] for service in shown["services"])
