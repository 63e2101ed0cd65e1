"""Erasing a contact shreds its cards' text in the event store and the read model; rebuilds still run (issue 12)."""
import pytest

from crm_platform.contracts.contacts import ContactCreatedFact, ContactErasedFact
from crm_platform.personal_data import SubjectErased

from .conftest import headers, project_all
from .test_api import board_with_contact, new_card


def test_an_erased_contact_s_cards_keep_no_text_in_the_read_model_and_their_events_no_longer_open(client, container):
    from workflows.entrypoints.cli import rebuild_projection

    board = board_with_contact(client, container)
    container.bus.handle(ContactCreatedFact("contact:2", "acct-1"))
    alone = new_card(client, board, "Projet de Louise", description="Louise, 12 rue des Lilas")
    shared = new_card(client, board, "Louise et Marc", other_contact_ids=["contact:2"])
    project_all(container)
    container.bus.handle(ContactErasedFact("contact:1", "acct-1"))
    project_all(container)
    cards = container.cards_projection.collection
    for card in (alone, shared):
        doc = cards.find_one({"_id": card["id"]})
        assert (doc["title"], doc["description"], doc["lost_reason"]) == ("", "", None)
    assert cards.find_one({"_id": alone["id"]})["status"] == "archived"
    assert cards.find_one({"_id": shared["id"]})["contact_id"] == "contact:2"
    sealed_for_erased = [e for e in container.event_store.read_all() if e.aggregate_type == "Card"
                         and e.payload["personal"]["subject"] == "workflows-subject:contact:1"]
    assert sealed_for_erased
    for envelope in sealed_for_erased:
        with pytest.raises(SubjectErased):
            container.codec.from_envelope(envelope)
    assert client.get(f"/v1/cards/{alone['id']}", headers=headers()).status_code == 404
    assert client.get(f"/v1/cards/{shared['id']}", headers=headers()).get_json()["title"] == ""
    cards.delete_many({})
    assert rebuild_projection(container) > 0
    assert cards.find_one({"_id": alone["id"]})["title"] == "" and cards.count_documents({"title": {"$ne": ""}}) == 0
