"""Card order as the database sorts it: keys of every length, a respacing, stale cards (issue 12)."""
from datetime import datetime, timedelta, timezone

from .conftest import headers, project_all
from .test_api import board_with_contact, new_card


def project_new(container, applied: set) -> None:
    """What project_all does, applying only the events not applied yet: the test below projects between 70 moves,
    and project_all would apply the whole growing history again each time."""
    for envelope in container.event_store.read_all():
        if envelope.event_id not in applied:
            container.read_models.apply(envelope)
            applied.add(envelope.event_id)


def column_ids(client, board, stage=0):
    columns = client.get(f"/v1/boards/{board['id']}/columns?limit=200", headers=headers()).get_json()["columns"]
    return [card["id"] for card in columns[stage]["cards"]]


def test_moving_cards_into_the_same_gap_again_and_again_keeps_the_order_through_a_respacing(client, container,
                                                                                           monkeypatch):
    monkeypatch.setattr("workflows.service_layer.placing.MAX_KEY_LENGTH", 12)  # respaced after ~60 moves, not ~300
    board = board_with_contact(client, container)
    cards, applied = [], set()
    for i in range(4):
        project_new(container, applied)  # the worker's part: a new card goes after the last one the read model shows
        cards.append(new_card(client, board, f"C{i}"))
    order = [card["id"] for card in cards]
    revisions = {card["id"]: 1 for card in cards}
    lengths = set()
    for _ in range(70):
        project_new(container, applied)
        moved = client.post(f"/v1/cards/{order[-1]}/move", headers=headers(), json={
            "revision": revisions[order[-1]], "stage_id": board["stages"][0]["id"], "after": order[0],
            "before": order[1]})
        assert moved.status_code == 200, moved.get_json()
        order.insert(1, order.pop())
        lengths.add(len(moved.get_json()["position"]))
        for card_id in order:  # a respacing moved the others' revisions too
            revisions[card_id] = client.get(f"/v1/cards/{card_id}", headers=headers()).get_json()["revision"]
    project_all(container)
    assert column_ids(client, board) == order
    assert max(lengths) >= 10 and min(lengths) <= 3  # keys grew, then a respacing made them short again


def test_stale_cards_are_those_longer_in_their_stage_than_it_allows(client, container):
    board = board_with_contact(client, container)
    stage = board["stages"][0]
    client.patch(f"/v1/boards/{board['id']}/stages/{stage['id']}", headers=headers(), json={"stale_after_days": 3})
    old, fresh = new_card(client, board, "ancienne"), new_card(client, board, "récente")
    new_card(client, board, "ailleurs", stage=1)
    project_all(container)
    long_ago = (datetime.now(timezone.utc) - timedelta(days=4)).isoformat(timespec="seconds")
    container.cards_projection.collection.update_one({"_id": old["id"]}, {"$set": {"moved_at": long_ago}})
    stale = client.get("/v1/cards?stale=true", headers=headers()).get_json()["items"]
    assert [card["id"] for card in stale] == [old["id"]]
    assert old["id"] not in [card["id"] for card in client.get("/v1/cards?stale=false", headers=headers()).get_json()["items"]]
    assert fresh["id"] in [card["id"] for card in client.get("/v1/cards?stale=false", headers=headers()).get_json()["items"]]


def test_the_read_models_rebuild_from_the_event_store(client, container):
    from workflows.entrypoints.cli import rebuild_projection

    board = board_with_contact(client, container)
    card = new_card(client, board, "x")
    assert rebuild_projection(container) == 2
    container.cards_projection.collection.delete_many({})
    assert rebuild_projection(container) == 2
    assert container.cards_projection.collection.find_one({"_id": card["id"]})["title"] == "x"
    assert container.boards_projection.collection.find_one({"_id": board["id"]})["name"] == "Ventes"
