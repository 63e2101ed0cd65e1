"""Events stored by the contacts code before the event-sourcing kernel still load, and build the same read models.

`fixtures/events_before_kernel.json` holds what commit 51dff03 (the last one
before the kernel) stored for a scenario touching every aggregate type and
event type but OptionsReordered: the event commits, the subject keys
(wrapped with the fixture's master key) and every read-model document its
projections built, one contact erased afterwards.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from bson import json_util

from contacts import config
from contacts.adapters.name_initials import initial_fields
from contacts.adapters.search_keys import contact_tokens
from contacts.bootstrap import Container
from contacts.service_layer.unit_of_work import UnitOfWork
from crm_platform.envelope import envelope_from_dict

FIXTURE = Path(__file__).parent / "fixtures" / "events_before_kernel.json"


@pytest.fixture(scope="module")
def stored():
    return json_util.loads(FIXTURE.read_text())


@pytest.fixture
def replayed(stored, infra, mongo_client, unique_suffix):
    settings = config.load({
        "MONGO_URI": infra.mongo_uri, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "INTERNAL_TOKEN": "replay-test-internal-token", "MASTER_KEY": stored["master_key"],
        "KEYVAULT_DB": f"test_{unique_suffix}_keys", "CONTACTS_DB": f"test_{unique_suffix}_contacts",
    })
    container = Container(settings)
    container.ensure_indexes()
    container.db["event_commits"].insert_many(stored["commits"])
    if stored["subject_keys"]:
        mongo_client[settings["KEYVAULT_DB"]]["subject_keys"].insert_many(stored["subject_keys"])
    yield container
    mongo_client.drop_database(settings["CONTACTS_DB"])
    mongo_client.drop_database(settings["KEYVAULT_DB"])


def test_the_stored_events_build_identical_read_models(stored, replayed):
    for envelope in replayed.event_store.read_all():
        replayed.apply_to_projections(envelope)
    erased = stored["erased_contact"]
    tombstone = replayed.db["contacts"].find_one({"_id": erased})
    assert tombstone["erased"] is True and "first_name" not in tombstone and "emails" not in tombstone
    for name, expected in stored["read_models"].items():
        # the fixture's read models were built before the contact was erased; the rest must match exactly
        built = sorted(replayed.db[name].find({"_id": {"$ne": erased}}), key=lambda doc: str(doc["_id"]))
        if name == "contacts":  # since creation numbers (issue 16): a live contact's list bucket, then as before
            assert all(isinstance(doc.pop("list_bucket", None), int) or doc["deleted"] for doc in built)
        expected = [_as_built_today(doc) for doc in expected if doc["_id"] != erased]
        assert _comparable(built) == _comparable(expected), name


def test_every_stored_aggregate_loads_at_its_last_version(stored, replayed):
    uow = replayed.unit_of_work()
    by_type = {cls.aggregate_type: name for name, cls in UnitOfWork.aggregates.items()}
    last = {}
    for commit in stored["commits"]:
        last[(commit["aggregate_type"], commit["account_id"], commit["aggregate_id"])] = commit["last_version"]
    with uow:
        for (aggregate_type, account_id, aggregate_id), version in last.items():
            aggregate = getattr(uow, by_type[aggregate_type]).find(account_id, aggregate_id)
            if aggregate_id == stored["erased_contact"]:
                assert aggregate is None  # shredded: unreadable, as before
                continue
            assert aggregate is not None and aggregate.revision == version, aggregate_id


def test_the_codec_writes_the_payloads_it_read(stored, replayed):
    """New events are stored in the same shape: each decoded event encodes back to its stored payload."""
    codec = replayed.codec
    envelopes = [envelope_from_dict(e) for commit in stored["commits"] for e in commit["events"]
                 if commit["aggregate_id"] != stored["erased_contact"]]
    assert len({e.event_type for e in envelopes}) == 28
    for envelope in envelopes:
        payload = codec.payload(codec.from_envelope(envelope))
        original = dict(envelope.payload)
        if "personal" in original:  # sealed anew with a fresh nonce: compare what it opens to
            assert replayed.cipher.open(payload.pop("personal")) == replayed.cipher.open(original.pop("personal"))
        assert payload == original, envelope.event_type


def _as_built_today(doc: dict) -> dict:
    """A document as the contacts projection builds it since search tokens (issue 16): the tokens of its
    own fields in place of its phone digits, and the initials of its sorting names; every other field as before."""
    if "search_phones" not in doc:
        return doc
    today = {name: value for name, value in doc.items() if name != "search_phones"}
    return {**today, "search_tokens": contact_tokens(today), **initial_fields(today)}


def _comparable(documents: list[dict]) -> str:
    """The documents as canonical JSON: datetimes in one form whatever time zone object they carry."""
    return json_util.dumps(documents, sort_keys=True, json_options=json_util.CANONICAL_JSON_OPTIONS)
