"""The blob store contract on the real MongoDB server (FerretDB locally, or mongod)."""
import pytest

from crm_platform.blobs import BlobStore
from crm_platform.testing.blob_store_contract import CHUNK, BlobStoreContract


class TestMongoBlobStore(BlobStoreContract):
    @pytest.fixture
    def blobs(self, mongo_db):
        return BlobStore(mongo_db["blobs.manifests"], mongo_db["blobs.chunks"], chunk_size=CHUNK)
