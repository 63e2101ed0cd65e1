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
        {"_id": "ours", "account_id": "acc-1", "email": "elodie@example.fr"},
        {"_id": "theirs", "account_id": "acc-2", "email": "elodie@example.fr"},  # the same address elsewhere
        {"_id": "nobodys", "data": Binary(b"elodie@example.fr")},  # names no account: counts
    ])
    found = occurrences.in_databases(mongo_client, [mongo_db.name], VALUES, account_id="acc-1")
    assert sorted(found) == sorted(f"{mongo_db.name}.b/{_id!r}" for _id in ("ours", "nobodys"))
    assert len(occurrences.in_databases(mongo_client, [mongo_db.name], VALUES)) == 3
    findings = occurrences.scan_databases(mongo_client, [mongo_db.name], occurrences.Needles(VALUES, "acc-2"))
    assert findings.scanned == 3 and len(findings.places) == 2
