"""The scanner that verifies an erasure finds a value wherever it is readable, and only there."""
import json
import os

from bson import Binary

from crm_platform.kafka_clients import ensure_topics, make_producer
from crm_platform.personal_data import PersonalDataCipher
from crm_platform import occurrences
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

VALUES = ["Élodie Marchand", "elodie@example.fr"]


def test_values_are_found_in_documents_as_text_escaped_json_and_bytes_but_not_sealed(mongo_db, mongo_client):
    cipher = PersonalDataCipher(InMemorySubjectKeyStore())
    mongo_db["a"].insert_many([
        {"_id": "plain", "nested": {"list": [{"name": "Élodie Marchand"}]}},
        {"_id": "escaped", "payload": json.dumps({"name": "Élodie Marchand"})},  # ensure_ascii: \u00c9lodie
        {"_id": "chunk", "data": Binary(b"...elodie@example.fr...")},
        {"_id": "sealed", "personal": cipher.seal("contact:c1", {"name": "Élodie Marchand"})},
        {"_id": "other", "name": "Paul"},
    ])
    found = occurrences.in_databases(mongo_client, [mongo_db.name], VALUES)
    assert sorted(found) == sorted(f"{mongo_db.name}.a/{_id!r}" for _id in ("plain", "escaped", "chunk"))


def test_values_are_found_in_records_of_the_topics_from_the_start(infra, topic_namespace):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=2)
    producer = make_producer(infra.kafka_bootstrap, "test-occurrences")
    producer.send(topic, key=b"k", value=json.dumps({"email": "elodie@example.fr"}).encode()).get(10)
    producer.send(topic, key=b"k", value=os.urandom(64)).get(10)
    producer.send(topic, key=b"k", value=b"{}", headers=[("who", "Élodie Marchand".encode())]).get(10)
    producer.close()
    found = occurrences.in_topics(infra.kafka_bootstrap, [topic], VALUES)
    assert len(found) == 2 and all(place.startswith(f"{topic}/") for place in found)


def test_scoped_to_an_account_a_value_in_another_accounts_data_alone_is_passed_over(mongo_db, mongo_client):
    mongo_db["b"].insert_many([
        {"_id": "ours", "account_id": "acct-1", "email": "elodie@example.fr"},
        {"_id": "theirs", "account_id": "acct-2", "email": "elodie@example.fr"},  # the same address elsewhere
        {"_id": "nobodys", "data": Binary(b"elodie@example.fr")},  # names no account: counts
        {"_id": "longer", "account_id": "acct-12", "email": "elodie@example.fr"},  # holds ours, is another
        {"_id": "nested", "billing": {"account_id": "acct-2"}, "email": "elodie@example.fr"},  # not top-level
    ])
    found = occurrences.in_databases(mongo_client, [mongo_db.name], VALUES, account_id="acct-1")
    assert sorted(found) == sorted(f"{mongo_db.name}.b/{_id!r}" for _id in ("ours", "nobodys", "nested"))
    assert len(occurrences.in_databases(mongo_client, [mongo_db.name], VALUES)) == 5
    findings = occurrences.scan_databases(mongo_client, [mongo_db.name], occurrences.Needles(VALUES, "acct-2"),
                                          with_ids=False)
    assert findings.scanned == 5 and findings.places == [f"{mongo_db.name}.b"] * 3


def test_a_record_of_another_account_is_passed_over_by_its_envelopes_account(infra, topic_namespace):
    topic = f"{topic_namespace}scoped"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    producer = make_producer(infra.kafka_bootstrap, "test-occurrences")
    for account in ("acct-1", "acct-2", "acct-12"):
        producer.send(topic, value=json.dumps({"account_id": account, "email": "elodie@example.fr"}).encode()).get(10)
    producer.send(topic, value=b"not json: elodie@example.fr").get(10)
    producer.close()
    assert occurrences.in_topics(infra.kafka_bootstrap, [topic], VALUES, account_id="acct-1") == [
        f"{topic}/0/0", f"{topic}/0/3"]
