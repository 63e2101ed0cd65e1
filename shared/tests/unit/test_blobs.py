import pytest

from crm_platform.blobs import BlobStore
from crm_platform.testing.blob_store_contract import CHUNK, BlobStoreContract
from crm_platform.testing.in_memory_collection import InMemoryCollection


class TestBlobStoreOnPrimaryKeyOperationsOnly(BlobStoreContract):
    """The in-memory collections refuse any filter but `{_id: x}`: the store never scans."""

    @pytest.fixture
    def blobs(self):
        return BlobStore(InMemoryCollection(), InMemoryCollection(), chunk_size=CHUNK)
