"""Statements per request the gateway's rate limiter sends to its shared counters, by number of gateway processes.

No server: the limiter runs on the in-memory counters (which count every call) with a simulated clock and
the default limits, one key sending RATE requests a second for 40 s (the key's quota raised so that none is
refused: a refused request costs no statement). Each request goes to the next process in turn (a load balancer
taking turns), or to one picked at random (gunicorn workers accepting from one socket), seeded.
    .venv/bin/python benchmarks/rate_limit_statements.py [--processes 1 2 4 8] [--rates 10 50]
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "gateway"))
from gateway.domain.rate_limits import Limits  # noqa: E402
from gateway.service_layer.rate_limiting import RateLimiter  # noqa: E402
from gateway.testing.fakes import InMemoryRateLimitCounters  # noqa: E402

MINUTE_START = 1_780_000_020.0
SECONDS = 40


def statements_per_request(processes: int, rate: int, at_random: bool) -> float:
    now = [MINUTE_START]
    counters = InMemoryRateLimitCounters()
    limits = Limits.per_second_and_minute(1000, 1_000_000, 1_000_000, 10)
    replicas = [RateLimiter(counters, limits, b"s" * 32, lambda: now[0]) for _ in range(processes)]
    pick = random.Random(20261202)
    for n in range(rate * SECONDS):
        now[0] += 1 / rate
        replica = pick.choice(replicas) if at_random else replicas[n % processes]
        assert not any(usage.exceeded for usage in replica.charge("k1", "a1"))
    return counters.calls / (rate * SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rates", type=int, nargs="+", default=[10, 50])
    args = parser.parse_args()
    print("processes  req/s  taking turns  at random")
    for processes in args.processes:
        for rate in args.rates:
            print(f"{processes:9}  {rate:5}  {statements_per_request(processes, rate, False):12.2f}  "
                  f"{statements_per_request(processes, rate, True):9.2f}")


if __name__ == "__main__":
    main()
