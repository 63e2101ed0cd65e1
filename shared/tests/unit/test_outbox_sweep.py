"""The relay's sweep for commits without a notice reads the whole event store: it says it is still working."""
from datetime import timedelta
from types import SimpleNamespace

from crm_platform.leases import Lease
from crm_platform.liveness import reporting_to
from crm_platform.outbox_relay import OutboxRelay


class Orphans:
    """The commits and outbox collections as the sweep uses them: unpublished commits, none with a notice."""

    def __init__(self, count: int) -> None:
        self.unpublished = [{"_id": f"c-{n}", "position": n} for n in range(count)]
        self.notices: dict = {}

    def find(self, filter, projection):
        return iter(self.unpublished)

    def update_one(self, filter, update, upsert):
        new = filter["_id"] not in self.notices
        self.notices.setdefault(filter["_id"], update["$setOnInsert"])
        return SimpleNamespace(upserted_id=filter["_id"] if new else None)


def test_a_sweep_over_many_commits_reports_progress_after_each():
    orphans = Orphans(count=4)
    no_bulk_appends = SimpleNamespace(find=lambda filter: iter(()))
    store = SimpleNamespace(commits=orphans, outbox=orphans, batches=no_bulk_appends)
    relay = OutboxRelay(store, "things", producer_factory=None, lease=Lease(None, "relay", ttl=timedelta(seconds=5)))
    seen = []  # how many notices the sweep had written each time it said it was working
    with reporting_to(lambda: seen.append(len(orphans.notices))):
        assert relay.sweep() == 4
    assert seen == [1, 2, 3, 4]
