"""The scan after an erasure (issue 13, item 5): every database and every topic of the system, from the start,
searched for the values known of the subject (crm_platform.occurrences), scoped to the request's account.

The privacy worker is the one reader of every service's database, read-only and for this alone: a proof that
nothing of the person is readable cannot be taken from the services' own word. The databases are named by
PRIVACY_VERIFY_DATABASES (by default every service's, the key vault and the privacy exchange); the topics are every
topic of KAFKA_TOPIC_NAMESPACE, dead-letter topics included. Past PRIVACY_VERIFY_TIMEOUT_S the scan raises
TimeoutError; the worker tries again later (privacy.service_layer.sweeps.VerificationRounds).

A document found is named by its collection only (`database.collection`), never by its `_id`, which may hold a
value (and which the scan's record, published on privacy.events, would then carry); a record by its topic,
partition and offset.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from crm_platform.leases import Lease
from crm_platform.liveness import still_working
from crm_platform.occurrences import Findings, Needles, collections_of, scan_collection, scan_topics, topics_of

from privacy.domain.verification import ScanReport


LEASE_RENEWAL_S = 2.0  # a lease lasts 15 s: renewed this often while a scan reads
SCAN_THREADS = 4  # the topics on one, the collections on the others


class SystemScan:
    def __init__(self, mongo_client, databases: list[str], bootstrap: str, namespace: str,
                 timeout_s: float, keep_lease: Lease | None = None) -> None:
        self._client = mongo_client
        self.databases = list(databases)
        self._bootstrap = bootstrap
        self._namespace = namespace
        self._timeout_s = timeout_s
        self._lease = keep_lease
        self._renewed_at = 0.0

    def _progress(self) -> None:
        still_working()
        if self._lease is not None and time.monotonic() - self._renewed_at >= LEASE_RENEWAL_S:
            self._renewed_at = time.monotonic()
            self._lease.acquire_or_renew()  # lost meanwhile: the scan goes on, its record is idempotent

    def __call__(self, account_id: str, values: list[str]) -> ScanReport:
        """The databases' collections, a few at a time, and the topics at once, on threads of their own: FerretDB
        reading documents and the broker sending records overlap (a scan of make run's system after 20 people
        of 500 records: 38,700 documents in 8.5 s and 24,900 records in 3.9 s, one after the other). This thread
        waits, saying it is still working and renewing the lease; a thread that fails stops the others at their
        next step (every thousand documents, every poll of the broker)."""
        needles = Needles(values, account_id)
        deadline = time.monotonic() + self._timeout_s
        topics = topics_of(self._bootstrap, self._namespace)  # first: the broker down fails the scan at once
        collections = [(database, collection) for database in self.databases
                       for collection in collections_of(self._client, database)]
        stop = threading.Event()

        def stop_if_told() -> None:
            if stop.is_set():
                raise ScanStopped("another part of the scan failed")

        pool = ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="erasure-scan")
        try:
            in_topics = pool.submit(scan_topics, self._bootstrap, topics, needles, self._timeout_s, Findings(),
                                    progress=stop_if_told)
            in_collections = [pool.submit(scan_collection, self._client, database, collection, needles, deadline,
                                          Findings(), progress=stop_if_told, with_ids=False)
                              for database, collection in collections]
            parts = [in_topics, *in_collections]
            pending = set(parts)
            while pending:
                _, pending = wait(pending, timeout=1.0, return_when=FIRST_EXCEPTION)
                self._progress()
                failed = next((part for part in parts if part.done() and not part.cancelled()
                               and part.exception() is not None), None)
                if failed is not None:
                    stop.set()
                    raise failed.exception()
        finally:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)  # those running stop at their next step
        documents = [part.result() for part in in_collections]
        return ScanReport(places=[*(place for found in documents for place in found.places),
                                  *in_topics.result().places],
                          databases=list(self.databases), topics=topics,
                          documents_scanned=sum(found.scanned for found in documents),
                          records_scanned=in_topics.result().scanned)


class ScanStopped(Exception):
    """A part of the scan stopped because another part failed."""
