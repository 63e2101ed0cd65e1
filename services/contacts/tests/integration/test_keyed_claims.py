"""Identity claims on the real database hold no email or phone; claims stored in clear before are moved."""
from datetime import datetime, timezone

from contacts.entrypoints.cli import rekey_identity_claims

from .conftest import headers

LOUISE = {"first_name": "Louise", "emails": [{"address": "Louise@Papier.fr"}], "phones": [{"number": "06 12 34 56 78"}]}


def test_claims_hold_no_email_or_phone_and_still_refuse_a_duplicate(client, container):
    assert client.post("/v1/contacts", json=LOUISE, headers=headers()).status_code == 201
    stored = list(container.db["identity_claims"].find())
    assert len(stored) == 2 and all(doc["_id"].startswith("acct-1|hmac:") for doc in stored)
    assert "papier" not in str(stored).casefold() and "612345678" not in str(stored)
    again = client.post("/v1/contacts", json={"first_name": "L", "emails": [{"address": "louise@papier.fr"}]},
                        headers=headers())
    assert again.status_code == 409
    assert client.post("/v1/contacts", json=LOUISE, headers=headers("acct-2")).status_code == 201  # per account


def test_claims_stored_in_clear_before_are_moved_to_their_keyed_id_and_keep_refusing(client, container):
    first = client.post("/v1/contacts", json=LOUISE, headers=headers()).get_json()
    claims = container.db["identity_claims"]
    claims.delete_many({})  # as an older release stored them: the plain identity as `_id`
    at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    claims.insert_many([{"_id": "acct-1|email|louise@papier.fr", "contact_id": first["id"], "claimed_at": at},
                        {"_id": "acct-1|phone|+33612345678", "contact_id": first["id"], "claimed_at": at}])
    assert rekey_identity_claims(container) == 2
    assert rekey_identity_claims(container) == 0  # safe to repeat
    stored = list(claims.find())
    assert [doc["contact_id"] for doc in stored] == [first["id"]] * 2
    assert "papier" not in str(stored) and all("|hmac:" in doc["_id"] for doc in stored)
    duplicate = client.post("/v1/contacts", json={"first_name": "L", "phones": [{"number": "+33612345678"}]},
                            headers=headers())
    assert duplicate.status_code == 409 and duplicate.get_json()["existing_contact_id"] == first["id"]
