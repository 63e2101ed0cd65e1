"""Lists sorted by creation, read bucket by bucket, on the real MongoDB server (FerretDB in `make test`)."""
import base64
import json
from datetime import datetime, timedelta

import pytest
from pymongo import MongoClient

from crm_platform.errors import InvalidInput
from crm_platform.projection_batches import apply_in_bulk
from crm_platform.testing.statements import Statements

from contacts import contact_pages
from contacts.adapters import contact_numbers
from contacts.adapters.contact_numbers import ContactNumbers
from contacts.adapters.contacts_projection import ContactsProjection
from contacts.contact_query import ContactQuery, find_page

from .conftest import every_page, headers

START = datetime(2026, 1, 1)


@pytest.fixture(params=["walked", "scanning server"])
def small_buckets(request, monkeypatch):
    monkeypatch.setattr(contact_numbers, "BUCKET_SIZE", 3)
    monkeypatch.setattr(contact_pages, "BUCKETS_WALKED", 2)
    asked = []  # the server's word (the walk's, or the one query's where it scans for a bucket): pages are the same
    scans = request.param == "scanning server"
    monkeypatch.setattr(contact_pages, "server_scans_for", lambda collection, sample: asked.append(sample) or scans)
    yield request.param
    assert asked and all(set(sample) == {"account_id", "list_bucket"} for sample in asked)


def contact(n: int, account="acct-1", **fields) -> dict:
    return {"_id": f"c{n:03}", "account_id": account, "deleted": False, "created_at": START + timedelta(minutes=n),
            "labels": ["rare"] if n % 7 == 0 else [], "version": 1, **fields}


def test_pages_walk_the_buckets_in_creation_order_with_old_contacts_numbered_later(mongo_db, small_buckets):
    contacts = mongo_db["contacts"]
    numbers = ContactNumbers(mongo_db["contact_numbers"], contacts)
    old = [contact(n) for n in range(0, 8)]  # stored before numbers existed: no list_bucket
    contacts.insert_many(old + [contact(100, account="acct-2")])
    new = [contact(n) for n in range(8, 30)]
    new[3]["deleted"] = True  # a tombstone gets no number and is never listed
    numbers.number(new)
    contacts.insert_many(new)
    assert [doc.get("list_bucket") for doc in new[:7]] == [0, 0, 0, None, 1, 1, 1]
    live = [doc["_id"] for doc in old + new if not doc["deleted"]]
    rare = [i for i in live if int(i[1:]) % 7 == 0]
    numbers.begin_if_empty()  # not empty: contacts stored before numbers may be anywhere
    assert numbers.buckets("acct-1").unnumbered and numbers.buckets("acct-new").unnumbered

    for limit in (1, 4, 50):
        assert every_page(contacts, ContactQuery(), limit, numbers=numbers) == live[::-1]
        assert every_page(contacts, ContactQuery(sort="created_at"), limit, numbers=numbers) == live
        # few per bucket: after two buckets walked, one query reads the rest in the same order
        assert every_page(contacts, ContactQuery(labels_any=["rare"]), limit, numbers=numbers) == rare[::-1]
        assert every_page(contacts, ContactQuery(labels_any=["rare"], sort="created_at"), limit,
                          numbers=numbers) == rare

    assert numbers.number_unnumbered() == 9  # with acct-2's
    assert not numbers.buckets("acct-1").unnumbered and not numbers.buckets("acct-new").unnumbered
    assert {doc.get("list_bucket") for doc in contacts.find({"_id": {"$in": [d["_id"] for d in old]}})} == {-3, -2, -1}
    for limit in (1, 5):
        assert every_page(contacts, ContactQuery(), limit, numbers=numbers) == live[::-1]
        assert every_page(contacts, ContactQuery(sort="created_at"), limit, numbers=numbers) == live
    assert every_page(contacts, ContactQuery(labels_any=["rare"]), 2, numbers=numbers) == rare[::-1]


def test_a_walk_reads_buckets_by_equality_and_a_scanning_server_gets_the_one_query(infra, mongo_db, small_buckets):
    contacts = mongo_db["contacts"]
    numbers = ContactNumbers(mongo_db["contact_numbers"], contacts)
    numbers.begin_if_empty()
    new = [contact(n) for n in range(10)]
    numbers.number(new)
    contacts.insert_many(new)
    statements = Statements("contacts")
    counted = MongoClient(infra.mongo_uri, tz_aware=True, event_listeners=[statements])[mongo_db.name]["contacts"]
    page, _ = find_page(counted, "acct-1", ContactQuery(), 2, None, numbers=numbers)
    assert [doc["_id"] for doc in page] == ["c009", "c008"]
    by_bucket = [c for c in statements.commands if isinstance(c.get("filter", {}).get("list_bucket"), int)]
    assert len(by_bucket) == (2 if small_buckets == "walked" else 0), statements.commands  # buckets 3 and 2


def test_a_new_deployment_has_no_unnumbered_contacts_and_an_empty_account_lists_nothing(mongo_db):
    contacts = mongo_db["contacts"]
    numbers = ContactNumbers(mongo_db["contact_numbers"], contacts)
    numbers.begin_if_empty()  # a new deployment: no account needs looking for contacts older than numbers
    assert not numbers.buckets("acct-1").unnumbered
    assert find_page(contacts, "acct-1", ContactQuery(), 10, None, numbers=numbers) == ([], None)
    documents = [contact(n) for n in range(3)]
    numbers.number(documents)
    contacts.insert_many(documents)
    assert numbers.buckets("acct-1") == contact_numbers.BucketRange(0, 0, False)


def test_an_account_with_a_counter_reserves_its_numbers_in_one_statement(infra, mongo_db):
    """The marker saying whether every contact is numbered is read for an account's first counter only: under a
    steady load each creation is a batch of its own, and it was a second statement for every one."""
    statements = Statements("contact_numbers")
    database = MongoClient(infra.mongo_uri, tz_aware=True, event_listeners=[statements])[mongo_db.name]
    numbers = ContactNumbers(database["contact_numbers"], database["contacts"])
    first, second = [contact(1)], [contact(2), contact(3)]
    numbers.number(first)
    assert statements.names == ["findAndModify", "find", "findAndModify"]  # no counter yet: the marker is read
    statements.names.clear()
    numbers.number(second)
    assert statements.names == ["findAndModify"]
    assert [doc["list_bucket"] for doc in first + second] == [0, 0, 0]
    counter = database["contact_numbers"].find_one({"_id": "acct-1"})
    assert counter["next"] == 3 and counter["unnumbered"] is True  # no marker when the counter was made


def test_a_first_reservation_racing_another_counts_on_the_counter_the_other_made(mongo_db, monkeypatch):
    """Between the reservation that found no counter and its upsert, another first reservation made it: the upsert
    moves that counter on (its `$setOnInsert` is not applied), and no number is given twice."""
    counters = mongo_db["contact_numbers"]

    class RacedByAnother(ContactNumbers):
        def _every_contact_numbered(self) -> bool:  # read on the upsert path, after the counter was found missing
            if counters.find_one({"_id": "acct-1"}) is None:
                counters.insert_one({"_id": "acct-1", "next": 2, "unnumbered": False})  # the other took 0 and 1
            return False

    monkeypatch.setattr(contact_numbers, "BUCKET_SIZE", 1)  # a bucket per number: the buckets are the numbers
    numbers = RacedByAnother(counters, mongo_db["contacts"])
    documents = [contact(1), contact(2)]
    numbers.number(documents)
    assert counters.find_one({"_id": "acct-1"}) == {"_id": "acct-1", "next": 4, "unnumbered": False}
    assert [doc["list_bucket"] for doc in documents] == [2, 3]


def test_a_cursor_must_be_one_this_api_made(mongo_db):
    contacts = mongo_db["contacts"]
    numbers = ContactNumbers(mongo_db["contact_numbers"], contacts)
    made = [base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
            for value in ([], ["created_at", 1.5, None, "c"], ["-created_at", 1, None, "c"], ["created_at", 1, 5, "c"],
                          ["created_at", True, None, "c"], ["created_at", 0, "0001-01-01T00:00:00+01:00", "c"],
                          ["created_at", 0, "9999-12-31T23:59:59-01:00", "c"], ["created_at", 10**30, None, "c"],
                          ["created_at", 7, "2026-01-01T00:00:00", "c"])]  # bucket 7: not this account's
    documents = [contact(n) for n in range(3)]
    numbers.number(documents)
    contacts.insert_many(documents)
    for bad in ("nope", *made):
        with pytest.raises(InvalidInput) as raised:
            find_page(contacts, "acct-1", ContactQuery(sort="created_at"), 10, bad, numbers=numbers)
        assert raised.value.errors == {"cursor": ["invalid cursor"]}
    good = base64.urlsafe_b64encode(json.dumps(["created_at", 0, "2026-01-01T00:01:00+02:00", "c000"]).encode())
    assert [d["_id"] for d in find_page(contacts, "acct-1", ContactQuery(sort="created_at"), 10, good.decode(),
                                        numbers=numbers)[0]] == ["c000", "c001", "c002"]  # 22:01 the day before, in UTC


def test_the_projection_numbers_contacts_on_both_write_paths(client, container):
    made = [client.post("/v1/contacts", json={"first_name": name}, headers=headers()).get_json()["id"]
            for name in ("Ana", "Bea", "Cleo")]
    envelopes = list(container.event_store.read_all())
    projection: ContactsProjection = container.projection
    projection.apply(envelopes[0])  # one event at a time
    projection.apply(envelopes[0], rebuilding=True)  # again: found there, not numbered again
    assert apply_in_bulk(projection, envelopes[1:]) == {e.event_id for e in envelopes[1:]}  # a polled batch
    assert apply_in_bulk(projection, envelopes[1:]) == {e.event_id for e in envelopes[1:]}  # delivered twice
    assert {doc["_id"]: doc["list_bucket"] for doc in projection.collection.find({}, {"list_bucket": 1})} == \
        {contact_id: 0 for contact_id in made}
    assert container.db["contact_numbers"].find_one({"_id": "acct-1"})["next"] == 3 + 2  # the redelivery's two
    listed = client.get("/v1/contacts", headers=headers()).get_json()["items"]
    assert [c["id"] for c in listed] == made[::-1]
