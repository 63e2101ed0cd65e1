import pytest

from crm_platform.testing.identity_claims_contract import IdentityClaimsContract
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims


class TestInMemoryIdentityClaims(IdentityClaimsContract):
    @pytest.fixture
    def claims(self):
        return InMemoryIdentityClaims()
