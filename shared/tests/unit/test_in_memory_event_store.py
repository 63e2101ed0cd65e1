import pytest

from crm_platform.event_store import InMemoryEventStore
from crm_platform.testing.event_store_contract import EventStoreContract


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self):
        return InMemoryEventStore()
