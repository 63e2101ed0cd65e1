"""Running a write once per idempotency key: claim the key, or replay what its first request answered."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_platform.worker_runtime import Loop

from gateway.adapters.idempotency_records import IdempotencyRecords
from gateway.domain.idempotency import IdempotencyKeyInFlight, Record, Step
from gateway.domain.replay import KeptResponse
from gateway.service_layer import expiry_sweep

log = logging.getLogger(__name__)
# Each try loses only to another request that changed the record meanwhile; past this many, call it in flight.
CLAIM_TRIES = 5
SWEEP_EVERY_S = 3600.0


@dataclass(frozen=True)
class Claimed:
    """This request holds the key: run it, then `finish` with what to keep of its answer."""

    record: Record


def claim_or_replay(records: IdempotencyRecords, record_id: str, account_id: str, fingerprint: str, now: datetime,
                    stale_after: timedelta) -> Claimed | KeptResponse:
    """Claim the key for this request, or the first request's kept answer to replay.

    Raises IdempotencyKeyReused (another request had the key) or IdempotencyKeyInFlight (it runs now).
    A record that expired, or whose request has been in flight longer than `stale_after` (its
    process died), is taken over.
    """
    for _ in range(CLAIM_TRIES):
        fresh = Record.start(record_id, account_id, fingerprint, now)
        if records.add(fresh):
            return Claimed(fresh)
        stored = records.get(record_id)
        if stored is None:
            continue  # released since: try again
        if stored.next_step(fingerprint, now, stale_after) is Step.REPLAY:
            return stored.response
        if records.replace(stored, fresh):
            if not stored.expired(now):
                log.warning("took over an abandoned idempotency record", extra={"account_id": account_id})
            return Claimed(fresh)
    raise IdempotencyKeyInFlight()


def finish(records: IdempotencyRecords, claimed: Claimed, kept: KeptResponse | None) -> None:
    """Keep the answer for replays, or (None) free the key so the request may run again."""
    if kept is None:
        records.release(claimed.record)
    elif not records.complete(claimed.record, kept):
        # Taken over after `stale_after`, or expired: the request ran twice; the later one's answer stays.
        log.warning("an idempotency record was taken over while its request ran",
                    extra={"account_id": claimed.record.account_id})


def sweep_loop(records: IdempotencyRecords, every_s: float = SWEEP_EVERY_S) -> Loop:
    """The worker's loop: delete expired records at start, then every `every_s`, until stopped."""
    return expiry_sweep.sweep_loop(records, every_s, "idempotency records")
