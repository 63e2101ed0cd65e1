"""Where a person's data can still be read: every document of some databases and every record of some topics,
searched byte for byte for the values known of the person (issue 13's verification of an erasure).

A value is looked for as its UTF-8 bytes and as JSON writes it with non-ASCII escaped ("\\u00e9"), in
documents' raw BSON (strings, binary chunks of files, nested fields alike) and in Kafka records' keys, values
and headers. Sealed data does not match: its bytes are ciphertext. What is found is reported by place
(database.collection/_id, topic/partition/offset), never by value, so a failing test prints no personal data.
"""
from __future__ import annotations

import json
import time
from typing import Iterable

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from kafka import KafkaConsumer, TopicPartition

RAW = CodecOptions(document_class=RawBSONDocument)


PREFIX = 4  # bytes: no needle is shorter


class Needles:
    """The forms of the values to look for, grouped by their first PREFIX bytes: a blob can hold a needle only if
    it holds its prefix, and a person's hundreds of values share a few prefixes ("Note", "Proj"), so most blobs are
    ruled out by a handful of searches instead of one per needle (the scan of issue 13's e2e test did ~860 per
    document and per record)."""

    def __init__(self, values: Iterable[str]) -> None:
        self.by_prefix: dict[bytes, list[bytes]] = {}
        for value in values:
            if len(value) < 4:
                continue  # too short to mean anything (and to avoid matching random bytes)
            for form in (value.encode(), json.dumps(value)[1:-1].encode()):
                group = self.by_prefix.setdefault(form[:PREFIX], [])
                if form not in group:
                    group.append(form)

    def in_any(self, blobs: Iterable[bytes]) -> bool:
        """Whether one of the blobs holds one of the needles."""
        return any(prefix in blob and any(needle in blob for needle in group)
                   for blob in blobs for prefix, group in self.by_prefix.items())


def in_databases(mongo_client, databases: Iterable[str], values: Iterable[str]) -> list[str]:
    """`database.collection/_id` of every document whose bytes hold one of the values."""
    needles, places = Needles(values), []
    for name in databases:
        database = mongo_client.get_database(name, codec_options=RAW)
        for collection in database.list_collection_names():
            for document in database[collection].find():
                if needles.in_any([document.raw]):
                    places.append(f"{name}.{collection}/{document['_id']!r}")
    return places


def in_topics(bootstrap: str, topics: Iterable[str], values: Iterable[str], timeout_s: float = 10.0) -> list[str]:
    """`topic/partition/offset` of every record, from the start of each topic, holding one of the values."""
    needles, places = Needles(values), []
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False,
                             fetch_max_wait_ms=100)
    try:
        assigned = [TopicPartition(topic, partition) for topic in topics
                    for partition in sorted(consumer.partitions_for_topic(topic) or [])]
        if not assigned:
            return []
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = consumer.end_offsets(assigned)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(consumer.position(tp) < ends[tp] for tp in assigned):
            for tp, records in consumer.poll(timeout_ms=200).items():
                for record in records:
                    blobs = [record.key or b"", record.value or b"", *(value or b"" for _, value in record.headers or [])]
                    if needles.in_any(blobs):
                        places.append(f"{tp.topic}/{tp.partition}/{record.offset}")
        unread = [f"{tp.topic}/{tp.partition}" for tp in assigned if consumer.position(tp) < ends[tp]]
        if unread:
            raise TimeoutError(f"could not read to the end of {unread} in {timeout_s}s")
    finally:
        consumer.close()
    return places
