"""Identity claims on the real MongoDB server: the contract, and claims stored before they were shared."""
from datetime import datetime, timezone

import pytest

from crm_platform.identity_claims import MongoIdentityClaims
from crm_platform.testing.identity_claims_contract import IdentityClaimsContract


class TestMongoIdentityClaims(IdentityClaimsContract):
    @pytest.fixture
    def claims(self, mongo_db):
        return MongoIdentityClaims(mongo_db["identity_claims"])


def test_claims_stored_under_another_owner_field_are_read_and_kept_there(mongo_db):
    at = datetime(2024, 3, 1, tzinfo=timezone.utc)
    mongo_db["identity_claims"].insert_one({"_id": "acct-1|email|a@x.fr", "contact_id": "c-1", "claimed_at": at})
    claims = MongoIdentityClaims(mongo_db["identity_claims"], owner_field="contact_id")
    held = claims.claim("acct-1|email|a@x.fr", "c-2")
    assert (held.owner, held.claimed_at) == ("c-1", at)
    assert claims.claim("acct-1|email|b@x.fr", "c-2") is None
    assert mongo_db["identity_claims"].find_one({"_id": "acct-1|email|b@x.fr"})["contact_id"] == "c-2"
