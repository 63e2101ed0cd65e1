"""Workflows' answers to privacy requests: a person's cards exported, or erased for good (issue 13)."""
import logging

import pytest

from crm_platform.contracts.contacts import (
    ContactCreatedFact, ContactDeletedFact, ContactErasedFact, ContactsMergedFact,
)
from crm_platform.contracts.privacy import (
    PRIVACY_REQUEST_AGGREGATE_TYPE, SUBJECT_REQUEST_CLASSES, ErasureRequested, SubjectExportRequested,
)
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import SubjectErased
from crm_platform.privacy_participation import ExportedPart, PrivacyRequestHandler

from workflows.domain.commands import CreateBoard, CreateCard, LoseCard
from workflows.service_layer.privacy import WorkflowsPrivacyParticipant
from workflows.service_layer.unit_of_work import UnitOfWork

from .conftest import no_read_models

from .fakes import ForgottenTimelines


@pytest.fixture
def board(bus):
    return bus.handle(CreateBoard("acct-1", "Projets", ("Devis", "Chantier"), "Signé", "Abandonné"))


def export_request(*contact_ids, account="acct-1"):
    return SubjectExportRequested("req-1", account, list(contact_ids), ["workflows"], "2026-12-02T10:00:00+00:00")


def erasure_request(*contact_ids, account="acct-1", request_id="req-2"):
    return ErasureRequested(request_id, account, list(contact_ids), ["workflows"], "2026-12-02T10:00:00+00:00")


def load(store, cipher, card_id):
    with UnitOfWork(store, cipher) as uow:
        return uow.cards.find("acct-1", card_id)


def test_an_export_lists_the_person_s_cards_with_their_text_only_where_they_are_the_main_contact(
        bus, board, participant, exchange):
    theirs = bus.handle(CreateCard("acct-1", board.id, board.stages[1]["id"], "Cuisine de Louise", "contact:2",
                                   description="Louise, 12 rue des Lilas", value="1500.00", currency="EUR",
                                   due_on="2027-01-15"))
    bus.handle(LoseCard("acct-1", theirs.id, "Louise a choisi un autre artisan"))
    shared = bus.handle(CreateCard("acct-1", board.id, None, "Projet de Marc", "contact:1",
                                   description="Marc seul", other_contact_ids=("contact:2",), value="8000.00",
                                   currency="EUR", due_on="2027-03-01", linked_document="devis-marc.pdf"))
    bus.handle(CreateCard("acct-1", board.id, None, "Sans elle", "contact:3"))
    part = participant.export(export_request("contact:2"), exchange)
    assert part.item_count == 2
    exported = exchange.read_part("req-1", part.part_blob_id)
    assert exported["service"] == "workflows"
    assert set(exported["about"]) == {"categories", "purposes", "recipients", "retention", "source"}
    rows = {row["card_id"]: row for row in exported["data"]["cards"]}
    assert rows[theirs.id] == {
        "card_id": theirs.id, "contact_id": "contact:2", "role": "main contact", "board": "Projets",
        "stage": "Chantier", "status": "lost", "title": "Cuisine de Louise",
        "description": "Louise, 12 rue des Lilas", "lost_reason": "Louise a choisi un autre artisan",
        "value": "1500.00", "currency": "EUR", "due_on": "2027-01-15", "created_at": theirs.created_at,
        "moved_at": theirs.moved_at, "linked_document": ""}
    assert rows[shared.id] == {  # what Marc's card says is about Marc's deal: Art. 15(4), the rights of others
        "card_id": shared.id, "contact_id": "contact:2", "role": "other contact", "board": "Projets",
        "stage": "Devis", "status": "", "title": "", "description": "", "lost_reason": "", "value": "",
        "currency": "", "due_on": "", "created_at": shared.created_at, "moved_at": shared.moved_at,
        "linked_document": ""}
    assert all(not isinstance(value, (dict, list)) for row in rows.values() for value in row.values())  # a CSV


def test_an_export_follows_the_merges_workflows_heard_of(bus, board, participant, exchange):
    card = bus.handle(CreateCard("acct-1", board.id, None, "Projet de Louise", "contact:3"))
    bus.handle(ContactsMergedFact("contact:1", "acct-1", ["contact:3"]))  # its card now links contact:1
    part = participant.export(export_request("contact:3"), exchange)
    [row] = exchange.read_part("req-1", part.part_blob_id)["data"]["cards"]
    assert (row["card_id"], row["contact_id"], row["title"]) == (card.id, "contact:1", "Projet de Louise")


def test_nothing_is_exported_for_a_person_without_cards_or_of_another_account(bus, board, participant, exchange):
    bus.handle(CreateCard("acct-1", board.id, None, "Projet de Louise", "contact:2"))
    assert participant.export(export_request("contact:3"), exchange) == ExportedPart(None, 0)
    assert participant.export(export_request("contact:2", account="acct-2"), exchange) == ExportedPart(None, 0)


def test_an_erasure_blanks_unlinks_archives_and_shreds_and_a_second_one_finds_it_done(
        bus, board, participant, store, cipher, timelines):
    codec = UnitOfWork.event_codec(cipher)
    alone = bus.handle(CreateCard("acct-1", board.id, None, "Louise seule", "contact:2"))
    shared = bus.handle(CreateCard("acct-1", board.id, None, "Louise et Marc", "contact:2",
                                   description="Louise, 12 rue des Lilas", other_contact_ids=("contact:3",)))
    other = bus.handle(CreateCard("acct-1", board.id, None, "Projet de Marc", "contact:1",
                                  other_contact_ids=("contact:2",)))
    outcome = participant.erase(erasure_request("contact:2"))
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == (
        "erased", ["workflows-subject:contact:2"], 3)
    assert cipher.is_erased("workflows-subject:contact:2")
    assert timelines.forgotten == [("acct-1", "contact:2")]  # their timeline entries, after the shred
    assert load(store, cipher, alone.id) is None  # every event sealed under the shredded key
    relinked = load(store, cipher, shared.id)
    assert (relinked.contact_id, relinked.title, relinked.description) == ("contact:3", "", "")
    kept = load(store, cipher, other.id)
    assert (kept.title, kept.other_contact_ids) == ("Projet de Marc", [])
    for envelope in store.all_events:
        if envelope.aggregate_type == "Card" and envelope.payload["personal"]["subject"].endswith("contact:2"):
            with pytest.raises(SubjectErased):
                codec.from_envelope(envelope)
    events = len(store.all_events)
    again = participant.erase(erasure_request("contact:2", request_id="req-3"))
    assert (again.outcome, again.keys_destroyed, again.items_erased) == ("nothing_held", [], 0)  # done before it
    bus.handle(ContactErasedFact("contact:2", "acct-1"))  # contacts' own erasure, arriving after
    assert len(store.all_events) == events


def test_an_erasure_after_the_contact_s_own_erasure_finds_it_done_and_claims_no_key(
        bus, board, participant, store, cipher, cards_index, timelines):
    card = bus.handle(CreateCard("acct-1", board.id, None, "Louise et Marc", "contact:2",
                                 other_contact_ids=("contact:3",)))
    bus.handle(ContactErasedFact("contact:2", "acct-1"))
    assert timelines.forgotten == [("acct-1", "contact:2")]  # contacts' erasure forgets their timeline here too
    events = len(store.all_events)
    outcome = participant.erase(erasure_request("contact:2"))
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == ("nothing_held", [], 0)
    assert cipher.is_erased("workflows-subject:contact:2")  # by the reaction: this request destroyed nothing
    assert len(store.all_events) == events
    assert (load(store, cipher, card.id).contact_id, load(store, cipher, card.id).title) == ("contact:3", "")


def test_an_erasure_shreds_the_keys_of_every_contact_merged_with_the_person(bus, board, participant, cipher):
    bus.handle(CreateCard("acct-1", board.id, None, "Projet de Louise", "contact:3"))
    bus.handle(ContactsMergedFact("contact:2", "acct-1", ["contact:3"]))  # old events sealed under contact:3's key
    bus.handle(ContactCreatedFact("contact:4", "acct-1"))
    bus.handle(ContactDeletedFact("contact:4", "acct-1", merged_into="contact:2"))  # told by its deletion alone
    outcome = participant.erase(erasure_request("contact:2"))
    assert sorted(outcome.keys_destroyed) == [f"workflows-subject:contact:{n}" for n in (2, 3)]  # 4 had none
    assert cipher.is_erased("workflows-subject:contact:3") and outcome.items_erased == 1


def test_an_erasure_of_a_known_contact_without_cards_holds_nothing_and_claims_no_key(bus, board, participant):
    bus.handle(CreateCard("acct-1", board.id, None, "Projet de Marc", "contact:1"))
    outcome = participant.erase(erasure_request("contact:3"))  # in the directory, on no card, no key ever made
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == ("nothing_held", [], 0)


def test_a_card_linking_two_of_the_erased_contacts_counts_once(bus, board, participant):
    bus.handle(CreateCard("acct-1", board.id, None, "Louise et sa soeur", "contact:2",
                          other_contact_ids=("contact:3",)))
    outcome = participant.erase(erasure_request("contact:2", "contact:3"))
    assert (outcome.outcome, outcome.items_erased) == ("erased", 1)
    assert sorted(outcome.keys_destroyed) == ["workflows-subject:contact:2", "workflows-subject:contact:3"]


class Race:
    """Contacts' own erasure, run to its end once, at one moment of the participant's work."""

    def __init__(self, run):
        self._run = run

    def now(self):
        run, self._run = self._run, None
        if run is not None:
            run()


class StoreRacedBeforeAppend:
    """The event store; the race runs when the first card's events, sealed already, are about to be stored."""

    def __init__(self, store, race):
        self._store, self._race = store, race

    def append(self, events):
        if events[0].aggregate_type == "Card":
            self._race.now()
        self._store.append(events)

    def append_many(self, commits):  # the bulk relink: one append of every card
        if any(events[0].aggregate_type == "Card" for events in commits):
            self._race.now()
        return self._store.append_many(commits)

    def __getattr__(self, name):
        return getattr(self._store, name)


def racing_unit_of_work(store, cipher, race, moment):
    class RacedBeforeCommit(UnitOfWork):  # read and changed, not sealed yet
        def commit(self):
            race.now()
            super().commit()

        def commit_in_bulk(self):
            race.now()
            return super().commit_in_bulk()

    if moment == "before sealing":
        return lambda: RacedBeforeCommit(store, cipher)
    return lambda: UnitOfWork(StoreRacedBeforeAppend(store, race), cipher)


@pytest.mark.parametrize("moment", ["before sealing", "before storing"])
def test_an_erasure_racing_contacts_own_erasure_of_the_same_cards_reads_them_again_and_ends_done(
        bus, board, store, cipher, cards_index, contacts, tasks_index, moment):
    # both run in the same worker (loops workflows.privacy and workflows.contacts): the other one shreds the key
    # this one is about to seal under (SubjectErased), or writes the card between its read and its write
    # (ConcurrencyConflict)
    alone = bus.handle(CreateCard("acct-1", board.id, None, "Louise seule", "contact:2"))
    shared = bus.handle(CreateCard("acct-1", board.id, None, "Louise et Marc", "contact:2",
                                   other_contact_ids=("contact:3",)))
    race = Race(lambda: bus.handle(ContactErasedFact("contact:2", "acct-1")))
    participant = WorkflowsPrivacyParticipant("workflows", racing_unit_of_work(store, cipher, race, moment),
                                              cards_index, contacts, tasks_index, ForgottenTimelines(),
                                              no_read_models)
    outcome = participant.erase(erasure_request("contact:2"))
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == ("nothing_held", [], 0)
    assert cipher.is_erased("workflows-subject:contact:2")
    assert load(store, cipher, alone.id) is None
    relinked = load(store, cipher, shared.id)
    assert (relinked.contact_id, relinked.other_contact_ids, relinked.title) == ("contact:3", [], "")


def test_an_erasure_naming_another_account_s_contact_holds_nothing_and_touches_no_key(
        bus, board, participant, store, cipher):
    card = bus.handle(CreateCard("acct-1", board.id, None, "Projet de Louise", "contact:2"))
    outcome = participant.erase(erasure_request("contact:2", "contact:unknown", account="acct-2"))
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == ("nothing_held", [], 0)
    assert not cipher.is_erased("workflows-subject:contact:2")
    assert load(store, cipher, card.id).title == "Projet de Louise"


def test_through_the_kernel_handler_a_request_is_answered_once_and_logged_without_personal_data(
        bus, board, participant, store, exchange, caplog):
    caplog.set_level(logging.DEBUG)
    bus.handle(CreateCard("acct-1", board.id, None, "Projet de Louise", "contact:2",
                          description="Louise, 12 rue des Lilas"))
    handler = PrivacyRequestHandler("workflows", participant, store, exchange)
    requests = EventCodec(SUBJECT_REQUEST_CLASSES)
    envelope = requests.to_envelope(erasure_request("contact:2"), PRIVACY_REQUEST_AGGREGATE_TYPE, "req-2", 1, "acct-1")
    for _ in range(2):
        handler.handle(envelope)
    [reply] = [e for e in store.all_events if e.aggregate_type == "PrivacyReply"]
    assert (reply.event_type, reply.aggregate_id, reply.payload["outcome"], reply.payload["keys_destroyed"]) == (
        "SubjectErased", "req-2", "erased", ["workflows-subject:contact:2"])
    assert not any(word in caplog.text for word in ("Louise", "Lilas"))  # whatever the handler logs one day


def test_a_card_older_than_the_contacts_directory_is_answered_for_all_the_same(
        board, participant, store, cipher, exchange):
    from workflows.domain.cards import Card

    with UnitOfWork(store, cipher) as uow:  # its contact never told of by contacts.events
        card = Card.create("acct-1", board.id, board.stages[0]["id"], "a0", "2026-01-01T10:00:00+00:00",
                           title="Projet de Louise", description="", contact_id="contact:old", other_contact_ids=[])
        uow.cards.add(card)
        uow.commit()
    part = participant.export(export_request("contact:old"), exchange)
    assert part.item_count == 1
    outcome = participant.erase(erasure_request("contact:old"))
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == (
        "erased", ["workflows-subject:contact:old"], 1)
    assert load(store, cipher, card.id) is None


def test_an_export_and_an_erasure_read_the_person_s_cards_in_bulk_not_one_history_after_the_other(
        bus, board, participant, exchange, store):
    """Issue 13: a round trip to the event store per card; each is read with the others (load_each: overlapping
    indexed equalities on the real store)."""
    cards = {bus.handle(CreateCard("acct-1", board.id, None, f"Projet {n} de Louise", "contact:2")).id
             for n in range(3)}
    single, bulk = [], []
    load = store.load
    store.load = lambda aggregate_id: single.append(aggregate_id) or load(aggregate_id)
    store.load_each = lambda aggregate_ids: bulk.append(list(aggregate_ids)) or {
        aggregate_id: history for aggregate_id in aggregate_ids if (history := load(aggregate_id))}
    assert participant.export(export_request("contact:2"), exchange).item_count == 3
    assert cards.isdisjoint(single) and cards <= {card_id for ids in bulk for card_id in ids}
    bulk.clear()
    assert participant.erase(erasure_request("contact:2")).items_erased == 3
    assert cards.isdisjoint(single) and cards <= {card_id for ids in bulk for card_id in ids}
