import pytest

from crm_platform.testing.event_store_contract import EventStoreContract
from crm_platform.testing.in_memory_event_store import InMemoryEventStore


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self):
        return InMemoryEventStore()


def test_an_event_too_large_to_publish_is_refused_with_a_422():
    from crm_platform.event_store import EventTooLarge
    from crm_platform.testing.event_store_contract import event

    store = InMemoryEventStore()
    with pytest.raises(EventTooLarge) as refused:
        store.append([event("a", 1).with_payload({"blob": "x" * 800_000})])
    assert refused.value.status == 422 and store.load("a") == []
    store.append([event("a", 1).with_payload({"blob": "x" * 700_000})])
