"""The privacy worker's sweeps, each run by one worker at a time (under its lease):

- time-outs: requests still waiting for replies `PRIVACY_REPLY_TIMEOUT_S` after they asked complete as
  partially completed, naming the services that did not answer (a later reply still upgrades them);
- expiries: exports older than `PRIVACY_EXPORT_TTL_S` have their key shredded and their blobs discarded, and
  requests ended longer ago than `PRIVACY_REQUEST_RETENTION_DAYS` have their record's key shredded;
- verifications: each erasure ended (or answered again) is scanned for, every `PRIVACY_VERIFY_EVERY_S`.

A read model names the candidates; each command's handler decides on the aggregate, so a candidate answered
meanwhile, or a second sweep running anyway, changes nothing.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Callable, Iterable, Protocol

from crm_platform.errors import CrmError
from crm_platform.event_consumer import described_error
from crm_platform.liveness import still_working
from crm_platform.message_bus import MessageBus
from crm_platform.worker_runtime import Loop, every

from privacy.domain.commands import ExpireExport, ShredRequestRecord, TimeOutRequest, VerifyErasure
from privacy.service_layer.ports import Clock

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 30.0
# datetime -> (account id, request id) of the candidates at that time
Candidates = Callable[[datetime], Iterable[tuple[str, str]]]


class SweepLease(Protocol):
    def acquire_or_renew(self) -> bool:
        """Whether this process holds the lease (crm_platform.leases.Lease)."""


def sweep(bus: MessageBus, candidates: Candidates, command: Callable[[str, str], object], lease: SweepLease,
          clock: Clock) -> int:
    """One round: the command for each candidate, while this process holds the lease; how many were sent."""
    if not lease.acquire_or_renew():
        return 0
    sent = 0
    for account_id, request_id in list(candidates(clock())):
        if not lease.acquire_or_renew():
            break  # another process took over: it carries on
        try:
            bus.handle(command(account_id, request_id))
            sent += 1
        except CrmError as exc:  # a conflict with a reply recorded meanwhile: the next round sees it again
            log.warning("privacy sweep: a request was left for the next round",
                        extra={"request_id": request_id, "error": described_error(exc)})
        except Exception as exc:  # the database away, say: logged (scrubbed, no traceback), the others go on
            log.error("privacy sweep: a request failed; the next round tries it again",
                      extra={"request_id": request_id, "error": described_error(exc)})
        still_working()
    return sent


def time_out_requests(bus: MessageBus, overdue: Candidates, lease: SweepLease, clock: Clock) -> int:
    return sweep(bus, overdue, TimeOutRequest, lease, clock)


def expire_exports(bus: MessageBus, expired: Candidates, lease: SweepLease, clock: Clock) -> int:
    return sweep(bus, expired, ExpireExport, lease, clock)


def shred_request_records(bus: MessageBus, past_retention: Candidates, lease: SweepLease, clock: Clock) -> int:
    return sweep(bus, past_retention, ShredRequestRecord, lease, clock)


class VerificationRounds:
    """The verification sweep's rounds, sparing the system's databases and broker:

    - an erasure whose scan failed is left alone a while (FIRST_WAIT_S, doubling each failure, at most
      LONGEST_WAIT_S), and the round ends there: the broker away, or scans past their time-out, would fail the
      others too, and each scan reads the whole system;
    - a candidate the handler found not due (the read model a step ahead of, or behind, the request) is left alone
      NOT_DUE_WAIT_S, so that nothing is loaded every second for ever.
    """

    FIRST_WAIT_S, LONGEST_WAIT_S, NOT_DUE_WAIT_S = 5.0, 600.0, 60.0

    def __init__(self, bus: MessageBus, to_verify: Candidates, lease: SweepLease, clock: Clock,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._bus, self._to_verify, self._lease, self._clock = bus, to_verify, lease, clock
        self._monotonic = monotonic
        self._waiting: dict[str, tuple[int, float]] = {}  # request id -> (failures, not before)
        self._round_failed = False

    def __call__(self) -> int:
        now = self._monotonic()
        self._round_failed = False

        def due(at: datetime) -> list[tuple[str, str]]:
            return [(account_id, request_id) for account_id, request_id in self._to_verify(at)
                    if self._waiting.get(request_id, (0, 0.0))[1] <= now]

        return sweep(self, due, VerifyErasure, self._lease, self._clock)

    def handle(self, command: VerifyErasure) -> None:
        if self._round_failed:
            return  # a scan failed this round: the others wait for the next
        try:
            done = self._bus.handle(command)
        except CrmError:
            raise  # a conflict with a write meanwhile: the next round sees it again
        except Exception:
            self._round_failed = True
            failures = self._waiting.get(command.request_id, (0, 0.0))[0] + 1
            wait_s = min(self.FIRST_WAIT_S * 2 ** (failures - 1), self.LONGEST_WAIT_S)
            self._waiting[command.request_id] = (failures, self._monotonic() + wait_s)
            raise
        if done is False:
            self._waiting[command.request_id] = (0, self._monotonic() + self.NOT_DUE_WAIT_S)
        else:
            self._waiting.pop(command.request_id, None)


def verification_loop(bus: MessageBus, to_verify: Candidates, lease: SweepLease, clock: Clock,
                      every_s: float) -> Loop:
    return every(every_s, VerificationRounds(bus, to_verify, lease, clock), "verifying privacy erasures")


def timeout_loop(bus: MessageBus, overdue: Candidates, lease: SweepLease, clock: Clock,
                 every_s: float = SWEEP_EVERY_S) -> Loop:
    return every(every_s, lambda: time_out_requests(bus, overdue, lease, clock), "timing out privacy requests")


def expiry_loop(bus: MessageBus, expired: Candidates, past_retention: Candidates, lease: SweepLease, clock: Clock,
                every_s: float = SWEEP_EVERY_S) -> Loop:
    def expire() -> int:
        return expire_exports(bus, expired, lease, clock) + shred_request_records(bus, past_retention, lease, clock)

    return every(every_s, expire, "expiring privacy exports and request records")
