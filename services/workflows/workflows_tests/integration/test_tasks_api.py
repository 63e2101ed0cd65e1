"""Tasks and the workflows settings through the API, the real event store and the read models (issue 12)."""
import pytest

from crm_platform.contracts.contacts import ContactCreatedFact

from workflows.entrypoints.task_schemas import TaskSchema

from .conftest import headers, project_all

DUE = "2026-12-24T09:00:00+01:00"


def new_task(client, account="acct-1", **fields):
    answer = client.post("/v1/tasks", headers=headers(account), json={"title": "Rappeler Louise", "due_at": DUE,
                                                                       **fields})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_settings_default_to_paris_and_take_a_zone_and_an_address(client):
    shown = client.get("/v1/workflow-settings", headers=headers())
    assert shown.get_json() == {"revision": 0, "time_zone": "Europe/Paris", "notification_email": None}
    put = client.put("/v1/workflow-settings", headers=headers(), json={
        "time_zone": "America/New_York", "notification_email": "Moi@Example.org", "revision": 0})
    assert put.status_code == 200 and put.get_json()["notification_email"] == "Moi@example.org"
    stale = client.put("/v1/workflow-settings", headers={**headers(), "If-Match": '"0"'},
                       json={"time_zone": "Europe/Paris"})
    assert stale.status_code == 409
    assert client.get("/v1/workflow-settings", headers=headers("acct-2")).get_json()["revision"] == 0


@pytest.mark.parametrize("body, field", [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": "Europe/Paris", "notification_email": "pas une adresse"}, "notification_email"),
    ({"time_zone": "Europe/Pa\u0000ris"}, "time_zone"),
    ({"time_zone": "localtime"}, "time_zone"),  # the host's own zone: another host may not have it
    ({"time_zone": "../../etc/passwd"}, "time_zone"),
])
def test_bad_settings_are_422_naming_the_field(client, body, field):
    answer = client.put("/v1/workflow-settings", headers=headers(), json=body)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert field in answer.get_json()["errors"], answer.get_json()


@pytest.mark.parametrize("fields, field", [
    ({"reminders": [{"before": "P1M"}]}, "reminders.0.before"),
    ({"reminders": [{"before": "PT1H"}, {"before": "1 day"}]}, "reminders.1.before"),
    ({"reminders": [{"before": f"PT{i}H"} for i in range(1, 7)]}, "reminders"),
    ({"time_zone": "Europe/Nowhere"}, "time_zone"),
    ({"due_at": "2026-12-24T09:00:00"}, "due_at"),
    ({"due_at": "0001-01-01T00:00:00+01:00"}, "due_at"),
    ({"due_at": "9999-12-31T23:59:59-01:00"}, "due_at"),
    ({"title": "Rappeler\u0000Louise"}, "title"),
    ({"title": "Rappeler\u007fLouise"}, "title"),  # DEL: the reminder mail's subject would be refused
    ({"notes": "a\u0000b"}, "notes"),
    ({"contact_id": "contact:1", "quote_id": "quote:1"}, "quote_id"),
    ({"contact_id": "contact:nope"}, "contact_id"),
    ({"card_id": "card:nope"}, "card_id"),
])
def test_bad_tasks_are_422_naming_the_field(client, container, fields, field):
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    answer = client.post("/v1/tasks", headers=headers(), json={"title": "x", "due_at": DUE, **fields})
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert field in answer.get_json()["errors"], answer.get_json()


DEEP = "[" * 10_000 + "]" * 10_000
HOSTILE_BODIES = [  # raw JSON: what json= cannot send (a lone surrogate) or would choke on (10,000 levels)
    DEEP, '{"title": "\\ud800", "due_at": "%s"}' % DUE, '{"title": "x", "due_at": "\\udc00"}',
    '{"title": "x", "due_at": "%s", "reminders": [{"before": "\\ud800"}]}' % DUE,
    '{"title": "x", "due_at": "%s", "time_zone": "\\ud800"}' % DUE, '{"title": 1e400, "due_at": "%s"}' % DUE,
    '{"title": "x", "due_at": %d}' % 10**30, '{"title": "x", "due_at": "%s", "reminders": %d}' % (DUE, 10**30),
    '{"title": "x", "due_at": "%s", "contact_id": "\\ud800"}' % DUE,
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_hostile_task_bodies_are_422_problems(client, body):
    answer = client.post("/v1/tasks", headers={**headers(), "Content-Type": "application/json"}, data=body)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json", answer.get_data()


@pytest.mark.parametrize("body", [DEEP, '{"time_zone": "\\ud800"}', '{"time_zone": "UTC", "revision": 1e400}',
                                  '{"time_zone": "UTC", "notification_email": "a\\ud800@example.org"}',
                                  '{"time_zone": "UTC", "notification_email": "a@example.org\\nBcc: b@example.org"}'])
def test_hostile_settings_bodies_are_422_problems(client, body):
    answer = client.put("/v1/workflow-settings", headers={**headers(), "Content-Type": "application/json"}, data=body)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json", answer.get_data()


def test_hostile_writes_on_a_task_are_problems_never_server_errors(client):
    task = new_task(client)
    json_headers = {**headers(), "Content-Type": "application/json"}
    for method, path, body, status in [
        ("patch", "", DEEP, 422), ("patch", "", '{"revision": 1, "time_zone": "../../etc/localtime"}', 422),
        ("patch", "", '{"revision": 1, "notes": "\\udfff"}', 422),
        ("patch", "", '{"revision": %d, "title": "y"}' % 10**30, 409),
        ("post", "/reschedule", '{"revision": 1, "due_at": %d}' % 10**30, 422),
        ("post", "/reschedule", '{"revision": 1, "due_at": "%s", "time_zone": "localtime"}' % DUE, 422),
        ("post", "/complete", DEEP, 422), ("post", "/reopen", '{"revision": "\\ud800"}', 422),
    ]:
        answer = getattr(client, method)(f"/v1/tasks/{task['id']}{path}", headers=json_headers, data=body)
        assert (answer.status_code, answer.content_type) == (status, "application/problem+json"), (path, body)
    for if_match in ("*", '"' + "9" * 30 + '"', "\u00ff"):
        answer = client.delete(f"/v1/tasks/{task['id']}", headers={**headers(), "If-Match": if_match})
        assert answer.status_code == 422 and "revision" in answer.get_json()["errors"]
    for task_id in ("task%00x", "%ED%A0%80", "x" * 5000):
        assert client.get(f"/v1/tasks/{task_id}", headers=headers()).status_code == 404
    assert client.get(f"/v1/tasks/{task['id']}", headers=headers()).get_json()["revision"] == 1


def test_a_task_is_created_changed_rescheduled_done_and_deleted_with_revisions(client, container):
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    task = new_task(client, contact_id="contact:1", reminders=[{"before": "P1D"}, {"before": "PT1H"}],
                    assignee="Marc")
    assert task["due_at"] == "2026-12-24T08:00:00+00:00" and task["due_at_local"] == "2026-12-24T09:00:00+01:00"
    assert task["contact_id"] == task["about_contact_id"] == "contact:1" and task["card_id"] is None
    assert [r["at"] for r in task["reminders"]] == ["2026-12-23T08:00:00+00:00", "2026-12-24T07:00:00+00:00"]
    stale = client.patch(f"/v1/tasks/{task['id']}", headers=headers(), json={"revision": 9, "title": "y"})
    assert stale.status_code == 409
    unnamed = client.patch(f"/v1/tasks/{task['id']}", headers=headers(), json={"title": "y"})
    assert unnamed.status_code == 422 and "revision" in unnamed.get_json()["errors"]
    changed = client.patch(f"/v1/tasks/{task['id']}", headers={**headers(), "If-Match": '"1"'},
                           json={"notes": "le matin", "contact_id": None, "quote_id": "quote:7"})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert (changed.get_json()["quote_id"], changed.get_json()["contact_id"]) == ("quote:7", None)
    moved = client.post(f"/v1/tasks/{task['id']}/reschedule", headers=headers(), json={
        "revision": 2, "due_at": "2026-03-30T09:00:00+02:00", "time_zone": "Europe/Paris"})
    assert moved.status_code == 200, moved.get_json()
    assert [r["at"] for r in moved.get_json()["reminders"]] == ["2026-03-29T07:00:00+00:00",
                                                                "2026-03-30T06:00:00+00:00"]
    done = client.post(f"/v1/tasks/{task['id']}/complete", headers=headers())
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    for answer in (task, changed.get_json(), done.get_json()):  # what it answers is what the OpenAPI document says
        assert TaskSchema().validate(answer) == {}
    assert client.post(f"/v1/tasks/{task['id']}/reopen", headers=headers(), json={"revision": 3}).status_code == 409
    assert client.post(f"/v1/tasks/{task['id']}/reopen", headers=headers(), json={}).get_json()["status"] == "open"
    assert client.delete(f"/v1/tasks/{task['id']}", headers={**headers(), "If-Match": '"2"'}).status_code == 409
    assert client.delete(f"/v1/tasks/{task['id']}", headers=headers()).status_code == 204
    assert client.get(f"/v1/tasks/{task['id']}", headers=headers()).status_code == 404


def test_another_accounts_task_is_not_found(client):
    task = new_task(client)
    other = headers("acct-2")
    assert client.get(f"/v1/tasks/{task['id']}", headers=other).status_code == 404
    assert client.patch(f"/v1/tasks/{task['id']}", headers=other, json={"revision": 1, "title": "x"}).status_code == 404
    assert client.post(f"/v1/tasks/{task['id']}/complete", headers=other).status_code == 404
    assert client.post(f"/v1/tasks/{task['id']}/reschedule", headers=other,
                       json={"revision": 1, "due_at": DUE}).status_code == 404
    assert client.delete(f"/v1/tasks/{task['id']}", headers=other).status_code == 404
    assert client.get(f"/v1/tasks/{task['id']}", headers=headers()).status_code == 200


def test_another_accounts_card_is_no_card_to_link(client, container):
    container.bus.handle(ContactCreatedFact("contact:1", "acct-2"))
    board = client.post("/v1/boards", headers=headers("acct-2"), json={"name": "B", "stages": ["A"]}).get_json()
    card = client.post("/v1/cards", headers=headers("acct-2"), json={
        "board_id": board["id"], "title": "t", "contact_id": "contact:1"}).get_json()
    assert new_task(client, "acct-2", card_id=card["id"])["about_contact_id"] == "contact:1"
    answer = client.post("/v1/tasks", headers=headers(), json={"title": "x", "due_at": DUE, "card_id": card["id"]})
    assert answer.status_code == 422 and "card_id" in answer.get_json()["errors"]


def test_lists_filter_by_status_due_contact_and_card_a_page_at_a_time(client, container):
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    past = new_task(client, due_at="2020-01-01T09:00:00Z", contact_id="contact:1")
    soon = new_task(client, due_at="2999-01-01T09:00:00Z")
    done = new_task(client, due_at="2999-02-01T09:00:00Z", invoice_id="invoice:1")
    client.post(f"/v1/tasks/{done['id']}/complete", headers=headers())
    gone = new_task(client)
    client.delete(f"/v1/tasks/{gone['id']}", headers=headers())
    new_task(client, "acct-2")
    project_all(container)

    def ids(query):
        answer = client.get(f"/v1/tasks{query}", headers=headers())
        assert answer.status_code == 200, answer.get_json()
        return [t["id"] for t in answer.get_json()["items"]]

    assert ids("") == [past["id"], soon["id"], done["id"]]
    assert ids("?due=overdue") == [past["id"]] and ids("?due=upcoming") == [soon["id"]]
    assert ids("?status=done") == [done["id"]] and ids("?contact_id=contact:1") == [past["id"]]
    first = client.get("/v1/tasks?limit=2", headers=headers()).get_json()
    rest = client.get(f"/v1/tasks?limit=2&cursor={first['next_cursor']}", headers=headers()).get_json()
    assert [t["id"] for t in first["items"] + rest["items"]] == ids("") and rest["next_cursor"] is None
    assert client.get("/v1/tasks?due=tomorrow", headers=headers()).status_code == 422
    assert first["items"][0]["overdue"] is True


def test_tasks_of_a_card_are_listed_with_it(client, container):
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    board = client.post("/v1/boards", headers=headers(), json={"name": "B", "stages": ["A"]}).get_json()
    card = client.post("/v1/cards", headers=headers(), json={
        "board_id": board["id"], "title": "t", "contact_id": "contact:1"}).get_json()
    task = new_task(client, card_id=card["id"])
    new_task(client)
    project_all(container)
    listed = client.get(f"/v1/tasks?card_id={card['id']}", headers=headers()).get_json()["items"]
    assert [t["id"] for t in listed] == [task["id"]]


def test_the_openapi_document_describes_every_task_and_settings_route(client):
    paths = client.get("/openapi.json", headers=headers()).get_json()["paths"]
    assert set(paths["/v1/tasks"]) == {"get", "post"}
    assert set(paths["/v1/tasks/{task_id}"]) == {"get", "patch", "delete"}
    for action in ("complete", "reopen", "reschedule"):
        assert "post" in paths[f"/v1/tasks/{{task_id}}/{action}"]
    assert set(paths["/v1/workflow-settings"]) == {"get", "put"}


def test_cards_are_overdue_by_the_accounts_own_calendar(client, container):
    # Kiritimati (UTC+14) is always a day or two ahead of Pago Pago (UTC-11): a card due "today" in Pago Pago
    # is overdue in Kiritimati, whatever the time of the test
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    container.bus.handle(ContactCreatedFact("contact:1", "acct-1"))
    board = client.post("/v1/boards", headers=headers(), json={"name": "B", "stages": ["A"]}).get_json()
    today_there = datetime.now(timezone.utc).astimezone(ZoneInfo("Pacific/Pago_Pago")).date().isoformat()
    card = client.post("/v1/cards", headers=headers(), json={
        "board_id": board["id"], "title": "t", "contact_id": "contact:1", "due_on": today_there}).get_json()
    project_all(container)
    for zone, overdue in (("Pacific/Pago_Pago", False), ("Pacific/Kiritimati", True)):
        assert client.put("/v1/workflow-settings", headers=headers(), json={"time_zone": zone}).status_code == 200
        assert client.get(f"/v1/cards/{card['id']}", headers=headers()).get_json()["overdue"] is overdue
        listed = client.get("/v1/cards?overdue=true", headers=headers()).get_json()["items"]
        assert [c["id"] for c in listed] == ([card["id"]] if overdue else [])
        columns = client.get(f"/v1/boards/{board['id']}/columns", headers=headers()).get_json()["columns"]
        assert columns[0]["cards"][0]["overdue"] is overdue
