"""Boards and cards through the API, the real event store, the relay, Kafka and the read models (issue 12)."""
from crm_platform.contracts.contacts import ContactCreatedFact
from crm_platform.envelope import envelope_from_json_bytes
from crm_platform.kafka_clients import ensure_topics
from crm_platform.testing.topics import read_topic

from .conftest import headers, project_all


def board_with_contact(client, container, account="acct-1", contact="contact:1"):
    container.bus.handle(ContactCreatedFact(contact, account))
    created = client.post("/v1/boards", headers=headers(account), json={"name": "Ventes", "stages": ["A", "B", "C"]})
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def new_card(client, board, title, stage=0, **fields):
    answer = client.post("/v1/cards", headers=headers(), json={
        "board_id": board["id"], "stage_id": board["stages"][stage]["id"], "title": title,
        "contact_id": "contact:1", **fields})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_a_card_goes_from_the_api_through_kafka_to_the_read_model_sealed(client, container, settings):
    board = board_with_contact(client, container)
    card = new_card(client, board, "Site de Louise", value="1500.50", currency="EUR", due_on="2026-01-05")
    assert card["overdue"] is True and card["value"] == "1500.50"
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [container.events_topic], 1)
    assert container.outbox_relay().publish_pending() == 2
    records = read_topic(settings["KAFKA_BOOTSTRAP_SERVERS"], container.events_topic, expected=2)
    assert "Louise" not in b"".join(record.value for record in records).decode()  # sealed on Kafka too
    envelopes = [envelope_from_json_bytes(record.value) for record in records]
    assert all(container.read_models.apply(e) is None for e in envelopes)
    doc = container.cards_projection.collection.find_one({"_id": card["id"]})
    assert doc["title"] == "Site de Louise" and doc["contact_ids"] == ["contact:1"]
    assert not container.cards_projection.apply(envelopes[1])  # idempotent

    listed = client.get("/v1/cards?contact_id=contact:1", headers=headers()).get_json()
    assert [c["id"] for c in listed["items"]] == [card["id"]]
    assert client.get("/v1/cards?contact_id=contact:2", headers=headers()).get_json()["items"] == []
    undated = new_card(client, board, "Sans échéance")
    project_all(container)
    overdue = client.get("/v1/cards?overdue=true", headers=headers()).get_json()["items"]
    assert [c["id"] for c in overdue] == [card["id"]]
    assert [c["id"] for c in client.get("/v1/cards?overdue=false", headers=headers()).get_json()["items"]] == [
        undated["id"]]
    assert client.get("/v1/cards", headers=headers("acct-2")).get_json()["items"] == []
    assert client.get(f"/v1/cards/{card['id']}", headers=headers("acct-2")).status_code == 404


def test_columns_show_each_stage_in_order_a_page_at_a_time_with_counts_and_totals(client, container):
    board = board_with_contact(client, container)
    cards = []
    for i in range(1, 4):
        project_all(container)  # the worker's part: a new card goes after the last one the read model shows
        cards.append(new_card(client, board, f"C{i}", value=f"{i}0.25", currency="EUR"))
    first, second, third = cards
    project_all(container)
    moved = client.post(f"/v1/cards/{third['id']}/move", headers=headers(), json={
        "revision": 1, "stage_id": board["stages"][0]["id"], "after": first["id"], "before": second["id"]})
    assert moved.status_code == 200, moved.get_json()
    stale = client.post(f"/v1/cards/{third['id']}/move", headers=headers(), json={
        "revision": 1, "stage_id": board["stages"][1]["id"]})
    assert stale.status_code == 409 and stale.content_type == "application/problem+json"
    project_all(container)
    columns = client.get(f"/v1/boards/{board['id']}/columns?limit=2", headers=headers()).get_json()["columns"]
    assert [c["id"] for c in columns[0]["cards"]] == [first["id"], third["id"]]
    assert (columns[0]["count"], columns[0]["totals"]) == (3, {"EUR": "60.75"}) and columns[1]["count"] == 0
    rest = client.get(f"/v1/boards/{board['id']}/columns?limit=2&stage_id={board['stages'][0]['id']}"
                      f"&cursor={columns[0]['next_cursor']}", headers=headers()).get_json()["columns"]
    assert [c["id"] for c in rest[0]["cards"]] == [second["id"]] and rest[0]["next_cursor"] is None


def test_removing_a_stage_with_cards_moves_them_where_asked(client, container):
    board = board_with_contact(client, container)
    a, b = board["stages"][0]["id"], board["stages"][1]["id"]
    card = new_card(client, board, "x")
    project_all(container)
    refused = client.delete(f"/v1/boards/{board['id']}/stages/{a}", headers=headers())
    assert refused.status_code == 422 and "move_cards_to" in refused.get_json()["errors"]
    removed = client.delete(f"/v1/boards/{board['id']}/stages/{a}?move_cards_to={b}", headers=headers())
    assert removed.status_code == 200 and [s["id"] for s in removed.get_json()["stages"]] == [b, board["stages"][2]["id"]]
    assert client.get(f"/v1/cards/{card['id']}", headers=headers()).get_json()["stage_id"] == b


def test_bad_input_is_a_problem_naming_the_field(client, container):
    board = board_with_contact(client, container)
    cases = [
        ("post", "/v1/cards", {"board_id": board["id"], "title": "x", "contact_id": "contact:1", "value": 10.5,
                               "currency": "EUR"}, "value"),
        ("post", "/v1/cards", {"board_id": board["id"], "title": "x", "contact_id": "contact:nope"}, "contact_id"),
        ("post", "/v1/cards", {"board_id": board["id"], "title": "x", "contact_id": "contact:1", "value": "1",
                               "currency": "euro"}, "currency"),
        ("post", "/v1/cards", {"board_id": "board:nope", "title": "x", "contact_id": "contact:1"}, "board_id"),
        ("post", "/v1/cards", {"board_id": board["id"], "titel": "x", "contact_id": "contact:1"}, "titel"),
        ("post", "/v1/boards", {"name": "x", "stages": []}, "stages"),
        ("patch", f"/v1/boards/{board['id']}", {"name": ""}, "name"),
        ("put", f"/v1/boards/{board['id']}/stages/order", {"stage_ids": ["stage:x"]}, "stage_ids"),
    ]
    for method, url, body, field in cases:
        answer = getattr(client, method)(url, headers=headers(), json=body)
        assert answer.status_code == 422, (url, body, answer.get_json())
        assert answer.content_type == "application/problem+json" and field in answer.get_json()["errors"], body
    assert client.get("/v1/cards?overdue=perhaps", headers=headers()).status_code == 422
    assert client.get(f"/v1/boards/{board['id']}/columns?cursor=abc", headers=headers()).status_code == 422


def test_stages_are_added_renamed_and_reordered_and_cards_won_or_lost(client, container):
    board = board_with_contact(client, container)
    added = client.post(f"/v1/boards/{board['id']}/stages", headers=headers(), json={"name": "D", "index": 0})
    stages = added.get_json()["stages"]
    assert added.status_code == 201 and stages[0]["name"] == "D"
    renamed = client.patch(f"/v1/boards/{board['id']}/stages/{stages[0]['id']}", headers=headers(),
                           json={"name": "Relance", "stale_after_days": 3}).get_json()
    assert renamed["stages"][0] == {**stages[0], "name": "Relance", "stale_after_days": 3}
    order = [s["id"] for s in reversed(stages)]
    assert [s["id"] for s in client.put(f"/v1/boards/{board['id']}/stages/order", headers=headers(),
                                        json={"stage_ids": order}).get_json()["stages"]] == order
    card = new_card(client, board, "x")
    assert client.post(f"/v1/cards/{card['id']}/won", headers=headers()).get_json()["status"] == "won"
    lost = client.post(f"/v1/cards/{card['id']}/lost", headers=headers(), json={"reason": "prix"})
    assert lost.status_code == 409
    project_all(container)
    assert client.get("/v1/cards?status=won", headers=headers()).get_json()["items"][0]["id"] == card["id"]
    assert [b["name"] for b in client.get("/v1/boards", headers=headers()).get_json()["items"]] == ["Ventes"]


def test_only_the_gateway_may_call_it(client):
    assert client.get("/v1/boards", headers={"X-Account-Id": "acct-1"}).status_code == 401


def test_answers_say_where_to_read_the_resource_again_for_idempotent_replays(client, container):
    board = board_with_contact(client, container)
    created = client.post("/v1/boards", headers=headers(), json={"name": "Autre", "stages": ["A"]})
    assert created.headers["Location"] == f"/v1/boards/{created.get_json()['id']}"
    added = client.post(f"/v1/boards/{board['id']}/stages", headers=headers(), json={"name": "D"})
    assert added.headers["Content-Location"] == f"/v1/boards/{board['id']}" and added.headers["ETag"] == '"2"'
    card = client.post("/v1/cards", headers=headers(), json={"board_id": board["id"], "title": "x",
                                                             "contact_id": "contact:1"})
    where = f"/v1/cards/{card.get_json()['id']}"
    assert card.headers["Location"] == where
    moved = client.post(f"{where}/move", headers=headers(), json={"revision": 1, "stage_id": board["stages"][1]["id"]})
    assert moved.headers["Content-Location"] == where and moved.headers["ETag"] == '"2"'
    assert client.get(where, headers=headers()).headers["ETag"] == '"2"'
