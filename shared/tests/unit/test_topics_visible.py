"""ensure_topics returns once the metadata shows the topics' partitions, whoever created them."""
from crm_platform import kafka_clients


class SlowMetadata:
    """An admin client whose metadata shows a topic's partitions only from its `visible_after`-th description."""

    def __init__(self, visible_after: int) -> None:
        self.visible_after, self.described = visible_after, 0

    def describe_topics(self, topics):
        self.described += 1
        shown = self.described >= self.visible_after
        return [{"name": t, "error_code": 0 if shown else 3, "partitions": [{"partition": 0}] if shown else []}
                for t in topics]


def test_a_topic_another_worker_just_created_is_waited_for_until_its_partitions_show(monkeypatch):
    monkeypatch.setattr(kafka_clients.time, "sleep", lambda s: None)
    admin = SlowMetadata(visible_after=4)
    kafka_clients._wait_until_visible(admin, ["e2e.accounts.events"], within_s=30)
    assert admin.described == 4


def test_metadata_that_never_shows_them_is_waited_for_a_bounded_time(monkeypatch):
    clock = iter(range(0, 1000, 10))  # each look at the clock 10 s later
    monkeypatch.setattr(kafka_clients.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(kafka_clients.time, "sleep", lambda s: None)
    admin = SlowMetadata(visible_after=10**6)
    kafka_clients._wait_until_visible(admin, ["e2e.accounts.events"], within_s=30)
    assert admin.described == 3  # then 30 s have passed: the consumer's own metadata refresh is left to find them
