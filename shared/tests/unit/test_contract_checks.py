"""Decoding another service's event holds its payload to the published contract (consumer side), at one place."""
from __future__ import annotations

import pytest
from marshmallow import fields

from crm_platform import contracts
from crm_platform.contracts import EventContract, PayloadSchema, required_id
from crm_platform.contracts.contacts import (
    CONTACT_FACT_CLASSES, CONTACT_LIFECYCLE_CLASSES, ContactDeletedFact, ContactsMergedFact,
)
from crm_platform.envelope import EventEnvelope, MalformedEvent
from crm_platform.event_codec import EventCodec, PayloadBreaksContract, UnknownEventType

SEALED = {"sealed": 1, "subject": "contact:c-1", "nonce": "bm9uY2U=", "ciphertext": "c2VhbGVk"}


def merged(**changes) -> dict:
    """A ContactsMerged payload as contacts publishes it (personal fields sealed), with some fields changed."""
    payload = {"contact_id": "c-1", "details": {"labels": ["vip"]}, "personal": SEALED,
               "created_at": "2026-01-01T00:00:00+00:00", "source_ids": ["c-2", "c-3"]}
    return {name: value for name, value in {**payload, **changes}.items() if value is not ...}


def envelope(event_type: str, payload: dict, schema_version: int = 1) -> EventEnvelope:
    return EventEnvelope(event_type=event_type, aggregate_type="Contact", aggregate_id="c-1", aggregate_version=2,
                         account_id="acct-1", payload=payload, schema_version=schema_version)


FACTS = EventCodec(CONTACT_FACT_CLASSES)


def broken(codec: EventCodec, payload: dict, event_type: str = "ContactsMerged") -> str:
    with pytest.raises(PayloadBreaksContract) as caught:
        codec.from_envelope(envelope(event_type, payload))
    assert isinstance(caught.value, MalformedEvent), "the consumer dead-letters a MalformedEvent"
    return str(caught.value)


def test_a_conforming_payload_decodes():
    assert FACTS.from_envelope(envelope("ContactsMerged", merged())) == ContactsMergedFact("c-1", "acct-1",
                                                                                           ["c-2", "c-3"])


def test_fields_the_contract_does_not_declare_are_ignored():
    event = FACTS.from_envelope(envelope("ContactsMerged", merged(added_by_a_newer_producer={"x": 1})))
    assert event == ContactsMergedFact("c-1", "acct-1", ["c-2", "c-3"])


def test_a_text_where_the_contract_says_a_list_is_bad_data_not_its_characters():
    # before: decoded, and workflows relinked the contacts "a", "b" and "c"
    assert broken(FACTS, merged(source_ids="abc")) == "ContactsMerged v1 breaks its contract: source_ids"


def test_a_missing_required_field_is_named():
    assert "created_at" in broken(FACTS, merged(created_at=...))
    assert "personal" in broken(FACTS, merged(personal=...))


@pytest.mark.parametrize("contact_id", [42, "x" * 10_000, "c-\x001", "", None])
def test_an_id_of_the_wrong_type_length_or_with_a_nul_byte_is_named(contact_id):
    assert broken(FACTS, merged(contact_id=contact_id)).endswith(": contact_id")


@pytest.mark.parametrize("merged_into", ["x" * 10_000, "c-\x002", ""])
def test_the_contact_a_deleted_one_was_merged_into_is_held_as_an_id(merged_into):
    """Billing keeps it and files timeline entries under it: a NUL there is refused by FerretDB, stored by MongoDB."""
    assert broken(FACTS, {"contact_id": "c-1", "merged_into": merged_into}, "ContactDeleted").endswith(": merged_into")
    assert FACTS.from_envelope(envelope("ContactDeleted", {"contact_id": "c-1", "merged_into": None})) is not None


def test_the_error_names_fields_never_their_values():
    message = broken(FACTS, {"contact_id": "Zoé Martin <zoe@example.com>" * 20, "merged_into": 7}, "ContactDeleted")
    assert message == "ContactDeleted v1 breaks its contract: contact_id, merged_into"


def test_sealed_fields_are_checked_shut_before_anything_is_opened():
    """No cipher at all: the check comes first, on the ciphertext the contract declares (SealedField)."""
    lifecycle = EventCodec(CONTACT_LIFECYCLE_CLASSES)
    assert broken(lifecycle, merged(personal="Zoé Martin")).endswith(": personal")
    assert broken(lifecycle, merged(personal={"ciphertext": "x"})).endswith(": personal")
    assert broken(lifecycle, merged(contact_id=42)).endswith(": contact_id")


def test_an_event_type_the_codec_does_not_know_is_still_unknown_not_checked():
    with pytest.raises(UnknownEventType):
        FACTS.from_envelope(envelope("NoteAdded", {}))


def test_a_service_reading_its_own_events_does_not_check_them():
    """Its classes are its contract: an aggregate whose history it refused could never be loaded again."""
    own = EventCodec(CONTACT_FACT_CLASSES, own_events=True)
    assert own.from_envelope(envelope("ContactDeleted", {"contact_id": "c-1"})) == ContactDeletedFact("c-1", "acct-1")
    assert own.from_envelope(envelope("ContactsMerged", {"source_ids": ["c-2"]})).source_ids == ["c-2"]


class _V2Payload(PayloadSchema):
    thing_id = required_id()
    size = fields.Integer(required=True)


def test_an_older_version_is_upcast_first_then_checked(monkeypatch):
    contract = EventContract("ContactDeleted", _V2Payload, version=2,
                             upcasters={1: lambda payload: {**payload, "size": len(payload.get("contact_id", ""))}})
    monkeypatch.setattr(contracts, "_contracts_by_name", lambda: {"ContactDeleted": contract})
    checked = EventCodec([ContactDeletedFact])
    # v1 has no size: the upcaster adds it, then the v2 contract holds (thing_id required: missing here)
    assert broken(checked, {"contact_id": "c-9"}, "ContactDeleted") == "ContactDeleted v1 breaks its contract: thing_id"
    assert checked.from_envelope(envelope("ContactDeleted", {"contact_id": "c-9", "thing_id": "t"})).contact_id == "c-1"
    with pytest.raises(PayloadBreaksContract, match="size"):
        checked.from_envelope(envelope("ContactDeleted", {"thing_id": "t", "size": "big"}, schema_version=2))


def test_a_version_without_an_upcaster_is_bad_data_not_a_key_error(monkeypatch):
    contract = EventContract("ContactDeleted", _V2Payload, version=3, upcasters={2: lambda payload: payload})
    monkeypatch.setattr(contracts, "_contracts_by_name", lambda: {"ContactDeleted": contract})
    with pytest.raises(MalformedEvent, match="cannot be upcast"):
        EventCodec(CONTACT_FACT_CLASSES).from_envelope(envelope("ContactDeleted", {"contact_id": "c-1"}))


def test_the_consumer_schema_is_built_once_per_contract():
    contract = contracts.published_contract("ContactsMerged")
    assert contract.consumer_problems(merged()) == {}
    assert contract._consumer_schema is contract._consumer_schema


def test_each_id_of_a_list_of_ids_is_held_as_an_id():
    """A NUL byte in the second source id: FerretDB refused it after the first was relinked (half done)."""
    assert broken(FACTS, merged(source_ids=["c-2", "c-\x003"])).endswith(": source_ids")
    assert broken(FACTS, merged(source_ids=["c-2", 3])).endswith(": source_ids")
