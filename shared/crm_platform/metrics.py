"""Every Prometheus metric the kernel records, named once here, and the worker's metrics listener.

The APIs record requests (crm_platform.web_metrics serves them at /metrics, summed over gunicorn's
workers); the shared loops record what they do: the outbox relay, the event consumers, the job runner,
the mail dispatcher. A service gets all of them by being built on the kernel. Labels hold route templates,
topic, consumer, job kind, mail purpose and partition names only: never a raw path, an id or anything a
person typed (cardinality, and personal data must not reach the monitoring system, which erasure does not
reach).
"""
from __future__ import annotations

import logging

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# Latency buckets for an API: a few ms for a cached read up to the gateway's 60 s timeout.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

HTTP_REQUESTS = Counter(
    "crm_http_requests", "Requests answered by an API, by route template, method and status.",
    ["service", "route", "method", "status"])
HTTP_REQUEST_DURATION = Histogram(
    "crm_http_request_duration_seconds", "Time an API took to answer, by route template, method and status.",
    ["service", "route", "method", "status"], buckets=REQUEST_BUCKETS)

OUTBOX_EVENTS_RELAYED = Counter(
    "crm_outbox_events_relayed", "Events the outbox relay sent to Kafka and the broker acknowledged.", ["topic"])
OUTBOX_BACKLOG = Gauge(
    "crm_outbox_backlog_commits",
    "Commits waiting in the outbox when the relay last looked (counted exactly up to its batch size, "
    "estimated above it); exported by the relay that holds the lease only.", ["topic"])
OUTBOX_OLDEST_AGE = Gauge(
    "crm_outbox_oldest_age_seconds",
    "Age of the oldest commit waiting when the relay last looked (0 when none): exact while the backlog fits "
    "in one batch; above, the oldest commit read since it last did (the notices are read unsorted); exported "
    "by the relay that holds the lease only.", ["topic"])

CONSUMER_EVENTS_APPLIED = Counter(
    "crm_consumer_events_applied", "Events a consumer applied (its handler returned).", ["consumer", "topic"])
CONSUMER_EVENTS_DEAD_LETTERED = Counter(
    "crm_consumer_events_dead_lettered", "Events a consumer gave up on and sent to <topic>.dead-letter.",
    ["consumer", "topic"])
CONSUMER_LAG = Gauge(
    "crm_consumer_lag_events",
    "Events on a partition that the consumer group has not handled yet: the partition's end offset minus the "
    "group's committed offset, for every partition of its topics (held by this member, another or none), "
    "measured every 15 s, also while the consumer waits out an outage; every replica reports the same figure.",
    ["consumer", "topic", "partition"])
CONSUMER_LAG_MEASURED = Gauge(
    "crm_consumer_lag_measured_timestamp_seconds",
    "When this process last measured the consumer group's lag (Unix time): old while it cannot (stopped, "
    "reconnecting to the broker), and then crm_consumer_lag_events is a stale figure.", ["consumer"])
DEAD_LETTERS_WAITING = Gauge(
    "crm_dead_letter_messages",
    "Messages kept in a dead-letter topic (end minus beginning offsets: a purge removes them), measured by the "
    "consumers of its source topic with their lag.", ["topic"])

JOBS_RUNNING = Gauge("crm_jobs_running", "Jobs this worker is running now.", ["kind"])
JOB_ITEMS = Counter("crm_job_items", "Job items worked through, by outcome (succeeded or failed).", ["kind", "outcome"])
JOBS_FINISHED = Counter("crm_jobs_finished", "Jobs that ended here, by final status (done or cancelled).",
                        ["kind", "status"])


MAILS_QUEUED = Counter("crm_mails_queued", "Mails a service put in its mail outbox (a repeated mail id not counted).",
                       ["purpose"])
MAILS_SENT = Counter("crm_mails_sent", "Mails the SMTP server accepted.", ["purpose"])
MAILS_FAILED = Counter(
    "crm_mails_failed", "Mails given up on, by reason: rejected (a 5xx refusal), undeliverable (retries ran out), "
    "subject_erased (the person was erased first), invalid.", ["purpose", "reason"])
MAILS_DEFERRED = Counter("crm_mails_deferred", "Sending attempts that failed for now and will be retried later.",
                         ["purpose"])

def serve_worker_metrics(port: int, addr: str = "0.0.0.0"):
    """Serve this process's metrics at http://<addr>:<port>/metrics from a daemon thread; the server (to shut down).

    A worker is one process, so the default registry (with its process and GC metrics) is all there is.
    """
    server, _thread = start_http_server(port, addr=addr, registry=REGISTRY)
    log.info("serving metrics", extra={"port": server.server_port})
    return server
