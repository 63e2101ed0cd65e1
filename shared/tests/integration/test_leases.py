"""Leases on the real database: one holder at a time, even when many processes ask at the same instant."""
import threading
from datetime import datetime, timedelta, timezone

from crm_platform.leases import Lease

TTL = timedelta(seconds=10)
TERM_START = datetime.fromtimestamp(178_000_000 * 10, timezone.utc)  # a term boundary (10 s terms)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def lease(db, clock, name="outbox-relay"):
    return Lease(db["leases"], name, ttl=TTL, clock=clock)


def test_only_one_holds_the_lease_until_it_is_released(mongo_db):
    clock = Clock(TERM_START + timedelta(seconds=1))
    first, second = lease(mongo_db, clock), lease(mongo_db, clock)
    assert first.acquire_or_renew() is True
    assert second.acquire_or_renew() is False
    first.release()
    assert second.acquire_or_renew() is True
    assert first.acquire_or_renew() is False


def test_a_holder_that_keeps_calling_keeps_the_lease_and_one_that_stops_loses_it(mongo_db):
    clock = Clock(TERM_START + timedelta(seconds=1))
    holder, other = lease(mongo_db, clock), lease(mongo_db, clock)
    assert holder.acquire_or_renew() is True
    for _ in range(8):  # 24 s, three terms: renewed into each next term before it starts
        clock.now += timedelta(seconds=3)
        assert holder.acquire_or_renew() is True
        assert other.acquire_or_renew() is False
    stopped_at = clock.now
    clock.now = stopped_at + TTL * 1.5 + timedelta(seconds=0.1)  # the last term it claimed has ended
    assert other.acquire_or_renew() is True
    assert holder.acquire_or_renew() is False
    assert mongo_db["leases"].count_documents({}) <= 3  # old terms are forgotten as the lease moves on


def test_of_many_processes_taking_over_a_lapsed_lease_at_the_same_instant_exactly_one_wins(mongo_db):
    """On FerretDB 1.24 a compare-and-set of one document is not atomic: taking over an expired lease that
    way let several contenders win at once. Claims by inserting a unique _id let one win."""
    for round_ in range(10):
        name = f"job-{round_}"
        clock = Clock(TERM_START + timedelta(seconds=1))
        assert lease(mongo_db, clock, name).acquire_or_renew() is True  # then it dies without releasing
        clock.now += TTL * 3  # long lapsed
        contenders = [lease(mongo_db, clock, name) for _ in range(8)]
        start, won = threading.Barrier(len(contenders)), []

        def contend(contender):
            start.wait()
            if contender.acquire_or_renew():
                won.append(contender.owner)

        threads = [threading.Thread(target=contend, args=(contender,)) for contender in contenders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1, f"round {round_}: {len(won)} holders at once"
