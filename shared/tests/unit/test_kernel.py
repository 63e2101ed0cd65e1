"""The event-sourcing kernel on a toy domain: aggregate base, codec, repository, unit of work, message bus."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.envelope import MalformedEvent
from crm_platform.errors import NotFound
from crm_platform.event_codec import EventCodec, UnknownEventType
from crm_platform.event_store import recorded_by
from crm_platform.message_bus import EventsToBus, Fresh, MessageBus, NoHandler
from crm_platform.personal_data import PersonalDataCipher, SubjectErased
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore
from crm_platform.unit_of_work import UnitOfWork


class TicketEvent(DomainEvent):
    aggregate_id_field = "ticket_id"
    personal_fields = ("requester", "details.phone")
    data_subject = "person:{person_id}"


@dataclass(frozen=True)
class TicketOpened(TicketEvent):
    ticket_id: str
    account_id: str
    person_id: str
    requester: str
    details: dict
    note: str | None = None


@dataclass(frozen=True)
class TicketRetold(TicketEvent):
    ticket_id: str
    account_id: str
    person_id: str
    requester: str


@dataclass(frozen=True)
class TicketClosed(TicketEvent):
    ticket_id: str
    account_id: str
    person_id: str


class TicketMissing(LookupError):
    pass


class Ticket(Aggregate):
    aggregate_type = "Ticket"
    event_classes = (TicketOpened, TicketRetold, TicketClosed)

    def __init__(self, ticket_id: str, account_id: str) -> None:
        super().__init__(ticket_id, account_id)
        self.requester, self.closed = "", False

    @property
    def gone(self) -> bool:
        return self.closed

    @classmethod
    def not_found(cls, aggregate_id: str) -> Exception:
        return TicketMissing(aggregate_id)

    @classmethod
    def open(cls, ticket_id: str, account_id: str, person_id: str, requester: str, phone: str) -> "Ticket":
        ticket = cls(ticket_id, account_id)
        ticket._record(TicketOpened(ticket_id, account_id, person_id, requester, {"phone": phone, "channel": "mail"}))
        return ticket

    def retell(self, person_id: str, requester: str) -> None:
        self._record(TicketRetold(self.id, self.account_id, person_id, requester))

    def close(self, person_id: str) -> None:
        self._record(TicketClosed(self.id, self.account_id, person_id))

    def _apply(self, event: TicketEvent) -> None:
        if isinstance(event, (TicketOpened, TicketRetold)):
            self.requester = event.requester
        else:
            self.closed = True


class TicketsUnitOfWork(UnitOfWork):
    aggregates = {"tickets": Ticket}


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def store():
    return InMemoryEventStore()


def test_an_aggregate_counts_its_revisions_and_keeps_new_events_until_saved():
    ticket = Ticket.open("t-1", "acct-1", "p-1", "Zoé", "+33600000000")
    ticket.close("p-1")
    assert ticket.revision == 2 and [type(e) for e in ticket.pending] == [TicketOpened, TicketClosed]
    again = Ticket.from_history("t-1", "acct-1", ticket.pending)
    assert again.revision == 2 and again.closed and again.requester == "Zoé" and again.pending == []


def test_the_codec_seals_personal_fields_and_keys_and_keeps_the_rest_in_clear(cipher):
    codec = EventCodec(Ticket.event_classes, cipher)
    event = TicketOpened("t-1", "acct-1", "p-1", "Zoé", {"phone": "+33600000000", "channel": "mail"})
    envelope = codec.to_envelope(event, "Ticket", "t-1", 1, "acct-1")
    assert envelope.payload["details"] == {"channel": "mail"}  # the phone went into the sealed part
    assert set(envelope.payload) == {"person_id", "details", "personal"}  # no ids of the envelope, no None note
    assert envelope.payload["personal"]["subject"] == "person:p-1" and "Zoé" not in str(envelope.payload)
    assert codec.from_envelope(envelope) == event
    assert event.details == {"phone": "+33600000000", "channel": "mail"}  # encoding left the event alone


def test_a_shredded_subject_cannot_be_decoded_and_an_unknown_type_is_malformed(cipher):
    codec = EventCodec(Ticket.event_classes, cipher)
    envelope = codec.to_envelope(TicketOpened("t-1", "acct-1", "p-1", "Zoé", {}), "Ticket", "t-1", 1, "acct-1")
    cipher.shred("person:p-1")
    with pytest.raises(LookupError):  # SubjectErased
        codec.from_envelope(envelope)
    with pytest.raises(UnknownEventType):
        EventCodec([TicketClosed], cipher).from_envelope(envelope)
    closed = codec.to_envelope(TicketClosed("t-1", "acct-1", "p-1"), "Ticket", "t-1", 2, "acct-1")
    with pytest.raises(MalformedEvent):
        codec.from_envelope(closed.with_payload({}))  # person_id missing


def test_the_unit_of_work_saves_on_commit_only_and_repositories_scope_by_account(store, cipher):
    uow = TicketsUnitOfWork(store, cipher)
    with uow:
        uow.tickets.add(Ticket.open("t-1", "acct-1", "p-1", "Zoé", "1"))
        uow.tickets.add(Ticket.open("t-2", "acct-1", "p-2", "Léo", "2"))  # dropped: no commit
        uow.commit()
    with uow:
        uow.tickets.add(Ticket.open("t-3", "acct-1", "p-3", "Ana", "3"))
    with uow:
        ticket = uow.tickets.get("acct-1", "t-1")
        assert uow.tickets.find("acct-2", "t-1") is None and uow.tickets.find("acct-1", "t-3") is None
        ticket.close("p-1")
        uow.commit()
    assert [e.aggregate_version for e in store.load("t-1")] == [1, 2]
    with uow, pytest.raises(TicketMissing):
        uow.tickets.get("acct-1", "t-1")  # gone
    with uow:
        assert uow.tickets.latest_event("acct-1", "t-1") == (TicketClosed("t-1", "acct-1", "p-1"), 2)
        assert uow.tickets.find_or_blank("acct-1", "t-9").revision == 0


def test_bulk_adds_report_the_ids_taken(store, cipher):
    uow = TicketsUnitOfWork(store, cipher)
    with uow:
        uow.tickets.add(Ticket.open("t-1", "acct-1", "p-1", "Zoé", "1"))
        uow.commit()
    with uow:
        fresh = [Ticket.open(i, "acct-1", "p", "X", "0") for i in ("t-1", "t-2")]
        assert uow.tickets.add_new_in_bulk(fresh) == [0]
    assert len(store.load("t-2")) == 1 and all(not t.pending for t in fresh)


def test_a_bulk_commit_saves_every_changed_aggregate_in_one_append_and_names_those_that_lost_a_race(store, cipher):
    class CountingStore(InMemoryEventStore):
        appends: list = []

        def append_many(self, commits):
            self.appends.append(len(commits))
            return super().append_many(commits)

    store = CountingStore()
    uow = TicketsUnitOfWork(store, cipher)
    with uow:
        for i in range(3):
            uow.tickets.add(Ticket.open(f"t-{i}", "acct-1", "p-1", "Zoé", "1"))
        uow.commit()
    with uow:
        tickets = [uow.tickets.get("acct-1", f"t-{i}") for i in range(3)]
        for ticket in tickets:
            ticket.close("p-1")
        close_ticket(CloseTicket("acct-1", "t-1"), TicketsUnitOfWork(store, cipher))  # another write meanwhile
        assert uow.commit_in_bulk() == ["t-1"]
        assert uow.commit_in_bulk() == []  # nothing left pending: the lost events were dropped
    assert store.appends == [3]
    assert [len(store.load(f"t-{i}")) for i in range(3)] == [2, 2, 2]


@dataclass(frozen=True)
class CloseTicket:
    account_id: str
    ticket_id: str


def close_ticket(cmd: CloseTicket, uow: TicketsUnitOfWork) -> Ticket:
    with uow:
        ticket = uow.tickets.get(cmd.account_id, cmd.ticket_id)
        ticket.close("p-1")
        uow.commit()
    return ticket


def test_the_bus_gives_a_command_to_its_handler_with_a_fresh_unit_of_work_and_events_to_each(store, cipher):
    made, seen = [], []

    def new_uow():
        made.append(TicketsUnitOfWork(store, cipher))
        return made[-1]

    def note_closed(event: TicketClosed, journal: list) -> None:
        journal.append(event.ticket_id)

    bus = MessageBus.build({CloseTicket: close_ticket}, {TicketClosed: [note_closed, note_closed]},
                           {"uow": Fresh(new_uow), "journal": seen})
    with new_uow() as uow:
        uow.tickets.add(Ticket.open("t-1", "acct-1", "p-1", "Zoé", "1"))
        uow.commit()
    assert bus.handle(CloseTicket("acct-1", "t-1")).closed and len(made) == 2
    codec = EventCodec(Ticket.event_classes, cipher)
    to_bus = EventsToBus(codec, bus)
    for envelope in store.load("t-1"):
        to_bus(envelope)  # TicketOpened has no handler: passed over, not decoded
    assert seen == ["t-1", "t-1"]
    with pytest.raises(NoHandler):
        bus.handle(object())


def test_a_handler_whose_dependency_bootstrap_lacks_is_refused_when_the_bus_is_built():
    with pytest.raises(NoHandler, match="uow"):
        MessageBus.build({CloseTicket: close_ticket}, {}, {})


class Memo(Aggregate):
    aggregate_type = "Memo"
    event_classes = (TicketOpened,)  # shares an event class, so one codec could decode the other's events

    def _apply(self, event: DomainEvent) -> None:
        pass


class MixedUnitOfWork(UnitOfWork):
    aggregates = {"tickets": Ticket, "memos": Memo}


def test_an_id_of_another_aggregate_type_is_not_found_and_nothing_is_written_to_it(store, cipher):
    uow = MixedUnitOfWork(store, cipher)
    with uow:
        uow.tickets.add(Ticket.open("t-1", "acct-1", "p-1", "Zoé", "1"))
        uow.commit()
    with uow:
        assert uow.memos.find("acct-1", "t-1") is None and not uow.memos.ever_existed("t-1")
        assert uow.memos.latest_event("acct-1", "t-1") is None
        with pytest.raises(NotFound):  # a 404 problem by default
            uow.memos.get("acct-1", "t-1")
        uow.commit()
    assert [e.aggregate_type for e in store.load("t-1")] == ["Ticket"]


class CountingKeys(InMemorySubjectKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list = []

    def find(self, subject):
        self.calls.append("read")
        return super().find(subject)

    def find_or_create(self, subject):
        self.calls.append("one")
        return super().find_or_create(subject)

    def find_or_create_many(self, subjects):
        self.calls.append("many")
        return {subject: InMemorySubjectKeyStore.find_or_create(self, subject) for subject in subjects}


def test_a_bulk_add_reads_every_subject_key_in_one_query(store):
    keys = CountingKeys()
    uow = TicketsUnitOfWork(store, PersonalDataCipher(keys))
    with uow:
        uow.tickets.add_new_in_bulk([Ticket.open(f"t-{i}", "acct-1", f"p-{i}", "X", "0") for i in range(50)])
    assert keys.calls == ["many"]
    assert len(store.all_events) == 50


def test_a_commit_of_several_sealed_events_reads_their_subject_key_once(store):
    keys = CountingKeys()
    uow = TicketsUnitOfWork(store, PersonalDataCipher(keys))
    with uow:
        ticket = Ticket.open("t-1", "acct-1", "p-1", "Louise", "0601")
        ticket.retell("p-1", "Louise Martin")
        uow.tickets.add(ticket)
        uow.commit()
        ticket.retell("p-1", "Louise M.")  # a commit of one later event: its subject's key is read, not made
        uow.commit()
    assert keys.calls == ["many", "read"]
    with uow:
        assert uow.tickets.get("acct-1", "t-1").requester == "Louise M." and ticket.revision == 3


def test_a_later_event_is_sealed_with_the_key_read_first_made_if_missing_refused_once_its_subject_is_erased(store):
    keys = CountingKeys()
    uow = TicketsUnitOfWork(store, PersonalDataCipher(keys))
    with uow:
        ticket = Ticket.open("t-1", "acct-1", "p-1", "Louise", "0601")
        uow.tickets.add(ticket)
        uow.commit()
        assert keys.calls == ["one"]  # its first event: insert first, the common case of a new subject
        ticket.retell("p-2", "Paul")  # a later event about a subject with no key yet
        uow.commit()
        assert keys.calls == ["one", "read", "one"]
        keys.delete("person:p-1")
        ticket.retell("p-1", "Louise")
        with pytest.raises(SubjectErased):
            uow.commit()


class Snapshot(Aggregate):
    """Every event holds the whole state: loading replays the newest alone."""

    aggregate_type = "Snapshot"
    event_classes = (TicketOpened,)
    latest_event_is_state = True

    def _apply(self, event: DomainEvent) -> None:
        self.requester = event.requester


def test_an_aggregate_whose_events_hold_its_state_loads_the_newest_at_the_stored_revision(store, cipher):
    codec = EventCodec(Snapshot.event_classes, cipher)
    store.append([codec.to_envelope(TicketOpened("s-1", "acct-1", "p-1", "Zoé", {}), "Snapshot", "s-1", 1, "acct-1")])
    store.append([codec.to_envelope(TicketOpened("s-1", "acct-1", "p-2", "Léo", {}), "Snapshot", "s-1", 2, "acct-1")])
    cipher.shred("person:p-1")  # the older event is unreadable now; the newest is enough

    class SnapshotUnitOfWork(UnitOfWork):
        aggregates = {"snapshots": Snapshot}

    with SnapshotUnitOfWork(store, cipher) as uow:
        snapshot = uow.snapshots.get("acct-1", "s-1")
    assert snapshot.requester == "Léo" and snapshot.revision == 2


@dataclass(frozen=True)
class Tagged(DomainEvent):
    aggregate_id_field = "ticket_id"
    stored_as = {"tags": (lambda tags: [{"name": k, "value": v} for k, v in tags.items()],
                          lambda pairs: {p["name"]: p["value"] for p in pairs})}
    ticket_id: str
    account_id: str
    tags: dict
    colour: str = "blue"


def test_fields_are_stored_in_their_declared_shape_and_newer_or_older_payloads_still_decode():
    codec = EventCodec([Tagged])
    envelope = codec.to_envelope(Tagged("t-1", "acct-1", {"cf.budget.gt": "10"}), "Ticket", "t-1", 1, "acct-1")
    assert envelope.payload == {"tags": [{"name": "cf.budget.gt", "value": "10"}], "colour": "blue"}
    newer = envelope.with_payload({**envelope.payload, "added_later": 1})  # a newer producer's field: ignored
    older = envelope.with_payload({"tags": envelope.payload["tags"]})  # before `colour` existed: its default
    assert codec.from_envelope(newer) == codec.from_envelope(older) == Tagged("t-1", "acct-1", {"cf.budget.gt": "10"})


def test_a_consumer_decodes_only_the_events_its_handlers_take(store, cipher):
    codec = EventCodec(Ticket.event_classes, cipher)
    decoded = []
    original = codec.from_envelope
    codec.from_envelope = lambda envelope: decoded.append(envelope.event_type) or original(envelope)
    bus = MessageBus.build({}, {TicketClosed: [lambda event: None]}, {})
    with TicketsUnitOfWork(store, cipher) as uow:
        ticket = Ticket.open("t-1", "acct-1", "p-1", "Zoé", "1")
        ticket.close("p-1")
        uow.tickets.add(ticket)
        uow.commit()
    for envelope in store.load("t-1"):
        EventsToBus(codec, bus)(envelope)
    assert decoded == ["TicketClosed"]  # TicketOpened, sealed, was not opened


def test_an_old_schema_version_is_upcast_through_its_contract(monkeypatch):
    from crm_platform import contracts
    from crm_platform.contracts import EventContract, PayloadSchema, Topic

    @dataclass(frozen=True)
    class Renamed(DomainEvent):
        schema_version = 2
        account_id: str
        display_name: str

    topic = Topic("things.events", producer="things", events=(
        EventContract("Renamed", PayloadSchema, version=2, upcasters={1: lambda p: {"display_name": p.pop("name")}}),))
    monkeypatch.setattr(contracts, "_contracts_by_name", lambda: {"Renamed": topic.events[0]})
    codec = EventCodec([Renamed])
    current = codec.to_envelope(Renamed("acct-1", "Zoé"), "Thing", "x", 1, "acct-1")
    assert current.schema_version == 2
    stored_v1 = dataclasses.replace(current, schema_version=1, payload={"name": "Zoé"})
    assert codec.from_envelope(stored_v1) == codec.from_envelope(current) == Renamed("acct-1", "Zoé")


@dataclass(frozen=True)
class TicketOpenedSeenByAnotherService(DomainEvent):
    """A consumer's view of TicketOpened: no personal field, so it needs no key to decode (issue 12)."""

    ticket_id: str
    account_id: str
    person_id: str
    aggregate_id_field = "ticket_id"

    @classmethod
    def event_type(cls) -> str:
        return "TicketOpened"


def test_a_consumer_class_without_personal_fields_decodes_without_a_key_even_once_it_is_shredded(cipher):
    envelope = EventCodec(Ticket.event_classes, cipher).to_envelope(
        TicketOpened("t-1", "acct-1", "p-1", "Zoé", {}), "Ticket", "t-1", 1, "acct-1")
    cipher.shred("person:p-1")
    consumer_codec = EventCodec([TicketOpenedSeenByAnotherService])  # no cipher at all
    assert consumer_codec.from_envelope(envelope) == TicketOpenedSeenByAnotherService("t-1", "acct-1", "p-1")


def _stored_at(store, codec, aggregate_id, events, *moments):
    """Store `events` of one ticket as if recorded at `moments` (one commit each)."""
    for version, (event, moment) in enumerate(zip(events, moments), start=1):
        envelope = codec.to_envelope(event, "Ticket", aggregate_id, version, "acct-1")
        store.append([dataclasses.replace(envelope, occurred_at=moment)])


def test_recorded_by_keeps_the_prefix_of_a_history_recorded_at_or_before_a_moment(store, cipher):
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    codec = EventCodec(Ticket.event_classes, cipher)
    opened = TicketOpened("t-1", "acct-1", "p-1", "Zoé", {})
    _stored_at(store, codec, "t-1", [opened, TicketClosed("t-1", "acct-1", "p-1"), opened], t0,
               t0 + timedelta(seconds=2), t0 + timedelta(seconds=1))  # the third one's clock ran behind
    history = store.load("t-1")
    assert recorded_by(history, t0 - timedelta(microseconds=1)) == []
    assert [e.aggregate_version for e in recorded_by(history, t0)] == [1]  # at the moment itself: included
    # the third event is stamped before the moment, but follows one that is not: never a state it did not go through
    assert [e.aggregate_version for e in recorded_by(history, t0 + timedelta(seconds=1))] == [1]
    assert [e.aggregate_version for e in recorded_by(history, t0 + timedelta(days=1))] == [1, 2, 3]
    with pytest.raises(ValueError):
        recorded_by(history, datetime(2026, 1, 1))  # naive: which zone is unknown


def test_a_repository_rebuilds_an_aggregate_as_it_was_at_a_moment_without_tracking_it(store, cipher):
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    codec = EventCodec(Ticket.event_classes, cipher)
    _stored_at(store, codec, "t-1", [TicketOpened("t-1", "acct-1", "p-1", "Zoé", {}),
                                     TicketClosed("t-1", "acct-1", "p-1")], t0, t0 + timedelta(hours=1))
    uow = TicketsUnitOfWork(store, cipher)
    with uow:
        before = uow.tickets.as_of("acct-1", "t-1", t0 + timedelta(minutes=1))
        assert before.requester == "Zoé" and not before.closed and before.revision == 1
        assert uow.tickets.as_of("acct-1", "t-1", t0 + timedelta(hours=2)).closed
        assert uow.tickets.as_of("acct-1", "t-1", t0 - timedelta(seconds=1)) is None  # not opened yet
        assert uow.tickets.as_of("acct-2", "t-1", t0 + timedelta(minutes=1)) is None  # another account's
        assert uow.tickets.seen == {}  # a past state is never saved
    cipher.shred("person:p-1")
    with uow:
        assert uow.tickets.as_of("acct-1", "t-1", t0 + timedelta(minutes=1)) is None  # erased: at every date


def test_many_aggregates_are_found_with_one_bulk_read_of_their_histories_as_find_finds_each(store, cipher):
    class CountingStore(InMemoryEventStore):
        loads: list = []

        def load(self, aggregate_id):
            self.loads.append(aggregate_id)
            return super().load(aggregate_id)

        def load_each(self, aggregate_ids):
            self.loads.append(list(aggregate_ids))
            return {i: h for i in aggregate_ids if (h := InMemoryEventStore.load(self, i))}

    store = CountingStore()
    uow = MixedUnitOfWork(store, cipher)
    with uow:
        for ticket_id, account_id in (("t-1", "acct-1"), ("t-2", "acct-1"), ("t-3", "acct-2"), ("t-4", "acct-1")):
            uow.tickets.add(Ticket.open(ticket_id, account_id, f"p-{ticket_id}", "Zoé", "1"))
        uow.commit()
    cipher.shred("person:p-t-4")
    store.loads.clear()
    with uow:
        found = uow.tickets.find_each("acct-1", ["t-2", "t-1", "t-3", "t-4", "t-9", "t-1"])
        assert list(found) == ["t-2", "t-1"]  # asked order; another account's, an erased one and a missing one out
        assert store.loads == [["t-2", "t-1", "t-3", "t-4", "t-9"]]  # one bulk read, each id once, no load each
        assert uow.memos.find_each("acct-1", ["t-1"]) == {}  # another type's id
        found["t-1"].close("p-t-1")
        uow.commit()  # tracked as `find` tracks them: the change is saved
    assert [e.aggregate_version for e in store.load("t-1")] == [1, 2]
