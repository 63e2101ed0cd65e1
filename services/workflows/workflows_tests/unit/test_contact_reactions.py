"""Merged and deleted contacts, as `contacts.events` tells them, through the bus (issue 12)."""
import pytest

from crm_platform.contracts.contacts import ContactCreatedFact, ContactDeletedFact, ContactErasedFact, ContactsMergedFact
from crm_platform.errors import InvalidInput

from workflows.domain.commands import CreateBoard, CreateCard
from workflows.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def board(bus):
    return bus.handle(CreateBoard("acct-1", "Projets", ("A",), "Signé", "Abandonné"))


def load(store, cipher, card_id):
    with UnitOfWork(store, cipher) as uow:
        return uow.cards.get("acct-1", card_id)


def test_a_created_contact_may_be_linked_and_a_deleted_one_no_longer(bus, board):
    bus.handle(ContactCreatedFact("contact:new", "acct-1"))
    bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:new"))
    bus.handle(ContactDeletedFact("contact:new", "acct-1"))
    bus.handle(ContactCreatedFact("contact:new", "acct-1"))  # re-delivered late: still gone
    with pytest.raises(InvalidInput) as gone:
        bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:new"))
    assert set(gone.value.errors) == {"contact_id"}
    theirs = bus.handle(CreateBoard("acct-2", "Projets", ("A",), "Signé", "Abandonné"))
    with pytest.raises(InvalidInput) as elsewhere:  # another account's contact, on that account's own board
        bus.handle(CreateCard("acct-2", theirs.id, None, "x", "contact:1"))
    assert elsewhere.value.errors == {"contact_id": ["no such contact in this account"]}


def test_merged_contacts_cards_link_the_survivor_however_often_the_events_come(bus, store, cipher, board):
    main = bus.handle(CreateCard("acct-1", board.id, None, "Projet de Louise", "contact:2",
                                 other_contact_ids=("contact:3",)))
    other = bus.handle(CreateCard("acct-1", board.id, None, "y", "contact:1", other_contact_ids=("contact:3",)))
    for _ in range(2):
        bus.handle(ContactsMergedFact("contact:1", "acct-1", ["contact:2", "contact:3"]))
        bus.handle(ContactDeletedFact("contact:2", "acct-1", merged_into="contact:1"))
    main, other = load(store, cipher, main.id), load(store, cipher, other.id)
    assert (main.contact_id, main.other_contact_ids, main.title) == ("contact:1", [], "Projet de Louise")
    assert (other.contact_id, other.other_contact_ids, other.revision) == ("contact:1", [], 2)
    assert store.all_events[-1].payload["personal"]["subject"] != "workflows-subject:contact:2"
    with pytest.raises(InvalidInput):
        bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:2"))


def test_merged_contacts_timeline_entries_go_to_the_survivor(bus, timelines):
    for _ in range(2):  # re-delivered: moved again, which moves nothing (crm_platform.timeline_follower)
        bus.handle(ContactsMergedFact("contact:1", "acct-1", ["contact:2", "contact:3"]))
    assert timelines.moved == [("acct-1", "contact:2", "contact:1"), ("acct-1", "contact:3", "contact:1")] * 2


def test_a_deleted_contact_archives_cards_it_alone_linked_and_leaves_the_others(bus, store, cipher, board,
                                                                                cards_index):
    alone = bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:2"))
    shared = bus.handle(CreateCard("acct-1", board.id, None, "y", "contact:2", other_contact_ids=("contact:3",)))
    for _ in range(2):
        bus.handle(ContactDeletedFact("contact:2", "acct-1"))
    alone, shared = load(store, cipher, alone.id), load(store, cipher, shared.id)
    assert (alone.status, alone.revision) == ("archived", 2)
    assert (shared.status, shared.contact_id, shared.other_contact_ids) == ("open", "contact:3", [])
    bus.handle(ContactErasedFact("contact:3", "acct-1"))
    erased = next(card for card in cards_index._cards() if card.card_id == shared.id)
    assert (erased.status, erased.title) == ("archived", "")  # as the read model shows it, its text shredded


def test_an_erased_contact_s_cards_lose_their_text_for_good_and_it_is_sealed_under_no_other_key(bus, store, cipher,
                                                                                                 board):
    from crm_platform.personal_data import SubjectErased

    codec = UnitOfWork.event_codec(cipher)
    shared = bus.handle(CreateCard("acct-1", board.id, None, "Projet de Louise", "contact:2",
                                   description="Louise, 12 rue des Lilas", other_contact_ids=("contact:3",)))
    alone = bus.handle(CreateCard("acct-1", board.id, None, "Louise seule", "contact:2"))
    other = bus.handle(CreateCard("acct-1", board.id, None, "Projet de Marc", "contact:1",
                                  other_contact_ids=("contact:2",)))
    for _ in range(2):  # re-delivered: the same
        bus.handle(ContactErasedFact("contact:2", "acct-1"))
    assert cipher.is_erased("workflows-subject:contact:2")
    readable = []
    for envelope in store.all_events:
        if envelope.aggregate_type != "Card":
            continue
        if envelope.payload["personal"]["subject"] == "workflows-subject:contact:2":
            with pytest.raises(SubjectErased):
                codec.from_envelope(envelope)
        else:
            readable.append(codec.from_envelope(envelope))
    assert not [e for e in readable if "Louise" in e.title or "Louise" in e.description]  # not re-sealed
    relinked = load(store, cipher, shared.id)
    assert (relinked.contact_id, relinked.title, relinked.description) == ("contact:3", "", "")
    with UnitOfWork(store, cipher) as uow:
        assert uow.cards.find("acct-1", alone.id) is None  # its every event sealed under the shredded key
    assert load(store, cipher, other.id).title == "Projet de Marc"
