import pytest

from crm_platform.testing.event_store_contract import EventStoreContract
from crm_platform.testing.in_memory_event_store import InMemoryEventStore


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self):
        return InMemoryEventStore()
