"""The MongoDB store of API keys on the real server, held to the contract its in-memory fake keeps."""
import pytest

from gateway.adapters.api_keys import MongoApiKeys
from gateway.testing.api_keys_contract import ApiKeysContract


class TestMongoApiKeys(ApiKeysContract):
    @pytest.fixture
    def keys(self, mongo_client, unique_suffix):
        keys = MongoApiKeys(mongo_client[f"test_{unique_suffix}_gateway"]["api_keys"])
        keys.ensure_indexes()
        yield keys
        mongo_client.drop_database(f"test_{unique_suffix}_gateway")
