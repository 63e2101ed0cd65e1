import pytest

from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore
from crm_platform.testing.subject_key_store_contract import SubjectKeyStoreContract


class TestInMemorySubjectKeys(SubjectKeyStoreContract):
    @pytest.fixture
    def keys(self):
        return InMemorySubjectKeyStore()
