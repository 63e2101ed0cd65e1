"""Workflows' entries of a contact's timeline (issue 14) through the API, the real event store, relay, Kafka and the
worker's timeline consumer: the history of their cards (moves included) and tasks, newest first, at each event's own
time, the caller's account only; forgotten when the person is erased, and not brought back by a replay."""
from crm_platform.contracts.contacts import ContactCreatedFact, ContactErasedFact, ContactsMergedFact
from crm_platform.contracts.privacy import ErasureRequested
from crm_platform.testing.consumers import relay_and_consume
from crm_platform.timeline import utc_millis

from workflows.entrypoints.cli import rebuild_projection

from .conftest import headers, project_all
from .test_api import board_with_contact, new_card
from .test_privacy import request_envelope

DUE = "2026-12-24T09:00:00+01:00"


def posted(client, path, body=None):
    answer = client.post(path, headers=headers(), json=body or {})
    assert answer.status_code in (200, 201), answer.get_json()
    return answer.get_json()


def relay_and_follow(container, settings) -> int:
    """What the worker does: relay the stored events to Kafka; its timeline consumer takes them from there."""
    return relay_and_consume(container, settings["KAFKA_BOOTSTRAP_SERVERS"], "workflows.timeline", container.timeline_consumer,
                             container.apply_to_timeline)


def timeline(client, contact_id, account="acct-1", **query):
    answer = client.get(f"/v1/contact-timeline/{contact_id}", headers=headers(account), query_string=query)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_a_contacts_cards_and_tasks_on_their_timeline_until_they_are_erased(client, container, settings):
    board = board_with_contact(client, container)
    container.bus.handle(ContactCreatedFact("contact:2", "acct-1"))
    card = new_card(client, board, "Rénovation chez Louise", other_contact_ids=["contact:2"])
    moved = posted(client, f"/v1/cards/{card['id']}/move", {"revision": 1, "stage_id": board["stages"][1]["id"]})
    posted(client, f"/v1/cards/{card['id']}/won", {"revision": moved["revision"]})
    task = posted(client, "/v1/tasks", {"title": "Rappeler Louise", "due_at": DUE, "contact_id": "contact:1"})
    posted(client, f"/v1/tasks/{task['id']}/complete")
    relay_and_follow(container, settings)

    page = timeline(client, "contact:1")
    assert [(item["kind"], item["subject"]["id"]) for item in page["items"]] == [
        ("task.completed", task["id"]), ("task.created", task["id"]), ("card.won", card["id"]),
        ("card.moved", card["id"]), ("card.created", card["id"])]
    stored = {envelope.event_id: envelope for envelope in container.event_store.read_all()}
    for item in page["items"]:  # each entry is its event, at the event's own time
        assert item["at"] == utc_millis(stored[item["id"]].occurred_at).isoformat() + "+00:00"
    assert page["items"][3]["summary"] == {"board_id": board["id"], "from_stage_id": board["stages"][0]["id"],
                                           "to_stage_id": board["stages"][1]["id"], "status": "open",
                                           "role": "main_contact"}
    assert "Louise" not in str(page)
    other = timeline(client, "contact:2")  # the card's other contact: its card entries only
    assert [(item["kind"], item["summary"]["role"]) for item in other["items"]] == [
        ("card.won", "other_contact"), ("card.moved", "other_contact"), ("card.created", "other_contact")]
    first = timeline(client, "contact:1", limit=3)
    rest = timeline(client, "contact:1", cursor=first["next_cursor"])
    assert [item["id"] for item in first["items"] + rest["items"]] == [item["id"] for item in page["items"]]
    assert timeline(client, "contact:1", account="acct-2") == {"items": [], "next_cursor": None}

    container.privacy_handler().handle(request_envelope(ErasureRequested(
        "req-erase", "acct-1", ["contact:1"], ["workflows"], "2026-12-02T10:00:00+00:00")))
    assert timeline(client, "contact:1")["items"] == []
    assert len(timeline(client, "contact:2")["items"]) == 3  # the other contact keeps theirs
    project_all(container)
    rebuild_projection(container)  # a replay of every event: nothing comes back for the erased person
    assert timeline(client, "contact:1")["items"] == []
    assert len(timeline(client, "contact:2")["items"]) == 3


def test_contacts_erasing_the_person_forgets_their_entries_here(client, container, settings):
    board = board_with_contact(client, container)
    container.bus.handle(ContactCreatedFact("contact:2", "acct-1"))
    new_card(client, board, "Projet commun", other_contact_ids=["contact:2"])
    relay_and_follow(container, settings)
    assert [item["kind"] for item in timeline(client, "contact:2")["items"]] == ["card.created"]

    project_all(container)  # the cards index the erasure reads
    container.bus.handle(ContactErasedFact("contact:2", "acct-1"))  # as the worker's contacts consumer does
    assert timeline(client, "contact:2")["items"] == []
    for envelope in container.event_store.read_all():  # delivered again: the card's first events name them still
        container.apply_to_timeline(envelope)
    assert timeline(client, "contact:2")["items"] == []
    assert [item["kind"] for item in timeline(client, "contact:1")["items"]] == ["card.created"]


def test_a_merged_contact_s_entries_are_the_survivor_s_even_those_of_events_that_come_after_the_merge(
        client, container, settings):
    board = board_with_contact(client, container)
    container.bus.handle(ContactCreatedFact("contact:2", "acct-1"))
    card = new_card(client, board, "Projet commun", other_contact_ids=["contact:2"])
    relay_and_follow(container, settings)
    [created] = timeline(client, "contact:2")["items"]

    project_all(container)  # the cards index the merge reads
    for _ in range(2):  # as the worker's contacts consumer does, delivered twice
        container.bus.handle(ContactsMergedFact("contact:1", "acct-1", ["contact:2"]))
    assert timeline(client, "contact:2")["items"] == []
    assert created["id"] in [item["id"] for item in timeline(client, "contact:1")["items"]]

    relay_and_follow(container, settings)  # the card relinked to the survivor
    for envelope in container.event_store.read_all():  # delivered late: the card's first event names contact:2
        container.apply_to_timeline(envelope)
    assert timeline(client, "contact:2")["items"] == []
    survivor = timeline(client, "contact:1")["items"]
    assert created["id"] in [item["id"] for item in survivor]
    assert all(item["subject"]["id"] == card["id"] for item in survivor)
