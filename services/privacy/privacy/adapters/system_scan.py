"""The scan after an erasure (issue 13, item 5): every database and every topic of the system, from the start,
searched for the values known of the subject (crm_platform.occurrences), scoped to the request's account.

The privacy worker is the one reader of every service's database, read-only and for this alone: a proof that
nothing of the person is readable cannot be taken from the services' own word. The databases are named by
PRIVACY_VERIFY_DATABASES (by default every service's, the key vault and the privacy exchange); the topics are every
topic of KAFKA_TOPIC_NAMESPACE, dead-letter topics included. Past PRIVACY_VERIFY_TIMEOUT_S the scan raises
TimeoutError and the worker's next round tries again.
"""
from __future__ import annotations

import time

from crm_platform.liveness import still_working
from crm_platform.occurrences import Findings, Needles, scan_databases, scan_topics, topics_of

from privacy.domain.requests import ScanReport


class SystemScan:
    def __init__(self, mongo_client, databases: list[str], bootstrap: str, namespace: str,
                 timeout_s: float) -> None:
        self._client = mongo_client
        self.databases = list(databases)
        self._bootstrap = bootstrap
        self._namespace = namespace
        self._timeout_s = timeout_s

    def __call__(self, account_id: str, values: list[str]) -> ScanReport:
        needles = Needles(values, account_id)
        deadline = time.monotonic() + self._timeout_s
        topics = topics_of(self._bootstrap, self._namespace)  # first: the broker down fails the scan at once
        in_databases = scan_databases(self._client, self.databases, needles, deadline, progress=still_working)
        in_topics = scan_topics(self._bootstrap, topics, needles, max(1.0, deadline - time.monotonic()),
                                Findings(), progress=still_working)
        return ScanReport(places=[*in_databases.places, *in_topics.places], databases=list(self.databases),
                          topics=topics, documents_scanned=in_databases.scanned,
                          records_scanned=in_topics.scanned)
