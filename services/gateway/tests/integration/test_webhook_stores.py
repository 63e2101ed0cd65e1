"""The webhook endpoints and deliveries stores on the real database keep the contract the fakes keep (where the
disabling notice relies on them)."""
import pytest

from crm_platform.mongo import MongoConnection

from gateway.adapters.webhook_deliveries import MongoWebhookDeliveries
from gateway.adapters.webhook_endpoints import MongoWebhookEndpoints
from gateway.testing.webhook_stores_contract import WebhookStoresContract


class TestMongoWebhookStores(WebhookStoresContract):
    @pytest.fixture
    def stores(self, infra, mongo_client, unique_suffix):
        connection = MongoConnection(infra.mongo_uri, "test")
        db = connection.database(f"test_{unique_suffix}_gateway")
        endpoints = MongoWebhookEndpoints(db)
        endpoints.ensure_indexes()
        yield endpoints, MongoWebhookDeliveries(db)
        connection.client.close()
        mongo_client.drop_database(f"test_{unique_suffix}_gateway")
