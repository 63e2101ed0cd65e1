"""Where a person's data can still be read: every document of some databases and every record of some topics,
searched byte for byte for the values known of the person (issue 13: the privacy service's verification of an
erasure, and the e2e test's).

A value is looked for as its UTF-8 bytes and as JSON writes it with non-ASCII escaped ("\\u00e9"), in
documents' raw BSON (strings, binary chunks of files, nested fields alike) and in Kafka records' keys, values
and headers. Sealed data does not match: its bytes are ciphertext. What is found is reported by place
(database.collection/_id, topic/partition/offset), never by value, so that neither a report nor a failing test
holds personal data.

Scoped to an account (`account_id`), a document or record whose top-level `account_id` is another account's is
passed over (a record's: its JSON envelope's): the same address may belong to a contact of another account of the
same system, whose data an erasure here must not touch nor be failed by. One without an `account_id` counts.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from kafka import KafkaConsumer, TopicPartition

RAW = CodecOptions(document_class=RawBSONDocument)
PREFIX = 4  # bytes: no needle is shorter


@dataclass
class Findings:
    """The places holding a value (ids only) and how many documents or records were read."""

    places: list[str] = field(default_factory=list)
    scanned: int = 0


class Needles:
    """The forms of the values to look for, grouped by their first PREFIX bytes: a blob can hold a needle only if
    it holds its prefix, and a person's hundreds of values share a few prefixes ("Note", "Proj"), so most blobs are
    ruled out by a handful of searches instead of one per needle (the scan of issue 13's e2e test did ~860 per
    document and per record)."""

    def __init__(self, values: Iterable[str], account_id: str | None = None) -> None:
        self.by_prefix: dict[bytes, list[bytes]] = {}
        self.account_id = account_id
        for value in values:
            if len(value) < 4:
                continue  # too short to mean anything (and to avoid matching random bytes)
            for form in (value.encode(), json.dumps(value)[1:-1].encode()):
                group = self.by_prefix.setdefault(form[:PREFIX], [])
                if form not in group:
                    group.append(form)

    def __len__(self) -> int:
        return sum(map(len, self.by_prefix.values()))

    def in_any(self, blobs: Iterable[bytes]) -> bool:
        """Whether one of the blobs holds one of the needles."""
        return any(prefix in blob and any(needle in blob for needle in group)
                   for blob in blobs for prefix, group in self.by_prefix.items())

    def others(self, account_id: object) -> bool:
        """Whether a document or record of this `account_id` is another account's (scoped, and a text not ours)."""
        return self.account_id is not None and isinstance(account_id, str) and account_id != self.account_id


def in_databases(mongo_client, databases: Iterable[str], values: Iterable[str],
                 account_id: str | None = None) -> list[str]:
    """`database.collection/_id` of every document whose bytes hold one of the values."""
    return scan_databases(mongo_client, databases, Needles(values, account_id)).places


def scan_databases(mongo_client, databases: Iterable[str], needles: Needles, deadline: float | None = None,
                   findings: Findings | None = None, progress: Callable[[], object] = lambda: None,
                   with_ids: bool = True) -> Findings:
    """Every document of the databases searched; TimeoutError past `deadline` (time.monotonic()). `progress` is
    called every thousand documents (a worker's liveness). Without ids, a place is `database.collection` (one per
    document found): an `_id` may hold a value."""
    findings = findings if findings is not None else Findings()
    for name in databases:
        for collection in collections_of(mongo_client, name):
            scan_collection(mongo_client, name, collection, needles, deadline, findings, progress, with_ids)
    return findings


def collections_of(mongo_client, database: str) -> list[str]:
    return sorted(mongo_client.get_database(database).list_collection_names())


def scan_collection(mongo_client, database: str, collection: str, needles: Needles, deadline: float | None = None,
                    findings: Findings | None = None, progress: Callable[[], object] = lambda: None,
                    with_ids: bool = True) -> Findings:
    """Every document of one collection searched (as scan_databases)."""
    findings = findings if findings is not None else Findings()
    documents = mongo_client.get_database(database, codec_options=RAW)[collection].find().batch_size(1000)
    for document in documents:
        findings.scanned += 1
        if needles.in_any([document.raw]) and not needles.others(document.get("account_id")):
            findings.places.append(f"{database}.{collection}/{document['_id']!r}" if with_ids
                                   else f"{database}.{collection}")
        if findings.scanned % 1000 == 0:
            progress()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"could not read every document of {database}.{collection} in time")
    return findings


def in_topics(bootstrap: str, topics: Iterable[str], values: Iterable[str], timeout_s: float = 10.0,
              account_id: str | None = None) -> list[str]:
    """`topic/partition/offset` of every record, from the start of each topic, holding one of the values."""
    return scan_topics(bootstrap, topics, Needles(values, account_id), timeout_s).places


def scan_topics(bootstrap: str, topics: Iterable[str], needles: Needles, timeout_s: float = 10.0,
                findings: Findings | None = None, progress: Callable[[], object] = lambda: None) -> Findings:
    """Every record of the topics, from the start to their end when the scan began, searched; TimeoutError if
    that end is not reached in `timeout_s`."""
    findings = findings if findings is not None else Findings()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False,
                             fetch_max_wait_ms=100)
    try:
        assigned = [TopicPartition(topic, partition) for topic in topics
                    for partition in sorted(consumer.partitions_for_topic(topic) or [])]
        if not assigned:
            return findings
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = consumer.end_offsets(assigned)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(consumer.position(tp) < ends[tp] for tp in assigned):
            progress()
            for tp, records in consumer.poll(timeout_ms=200).items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue  # written since the scan began
                    findings.scanned += 1
                    blobs = [record.key or b"", record.value or b"", *(value or b"" for _, value in record.headers or [])]
                    if needles.in_any(blobs) and not needles.others(_envelope_account(record.value)):
                        findings.places.append(f"{tp.topic}/{tp.partition}/{record.offset}")
        unread = [f"{tp.topic}/{tp.partition}" for tp in assigned if consumer.position(tp) < ends[tp]]
        if unread:
            raise TimeoutError(f"could not read to the end of {unread} in {timeout_s}s")
    finally:
        consumer.close()
    return findings


def _envelope_account(value: bytes | None) -> object:
    """The top-level `account_id` of a record's JSON envelope, None if it is not one."""
    try:
        envelope = json.loads(value or b"")
    except ValueError:
        return None
    return envelope.get("account_id") if isinstance(envelope, dict) else None


def topics_of(bootstrap: str, namespace: str) -> list[str]:
    """The system's topics: those of its namespace (all but Kafka's own when it has none), sorted."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    try:
        return sorted(topic for topic in consumer.topics()
                      if topic.startswith(namespace) and not topic.startswith("__"))
    finally:
        consumer.close()
