"""Claims stored under a keyed hash: the contract holds, and no identity is stored in clear."""
import pytest

from crm_platform.identity_claims import KeyedIdentityClaims
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.identity_claims_contract import IdentityClaimsContract
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore


def keyed(stored, keys):
    return KeyedIdentityClaims(stored, lambda scope: PersonalDataCipher(keys).secret(f"identity-claims:{scope}"))


class TestKeyedIdentityClaims(IdentityClaimsContract):
    @pytest.fixture
    def claims(self):
        return keyed(InMemoryIdentityClaims(), InMemorySubjectKeyStore())


def test_what_is_stored_names_the_account_but_not_the_email_or_phone():
    stored, keys = InMemoryIdentityClaims(), InMemorySubjectKeyStore()
    claims = keyed(stored, keys)
    claims.claim("acct-1|email|louise@papier.fr", "c-1")
    claims.claim("acct-1|phone|+33612345678", "c-1")
    assert all(identity.startswith("acct-1|hmac:") for identity in stored.owners)
    assert "louise" not in str(stored.owners) and "612345678" not in str(stored.owners)
    # another account's secret gives another id for the same address: nothing links the two accounts' claims
    claims.claim("acct-2|email|louise@papier.fr", "c-2")
    assert len({identity.split("|", 1)[1] for identity in stored.owners}) == 3
    # a second process with the same key vault finds the same claims
    assert keyed(stored, keys).holder("acct-1|email|louise@papier.fr").owner == "c-1"
    assert keyed(stored, InMemorySubjectKeyStore()).holder("acct-1|email|louise@papier.fr") is None
