from gateway.domain.api_keys import digest, issue_key, parse_key, secret_matches


def test_an_issued_key_parses_and_matches_only_its_own_hash():
    key = issue_key()
    key_id, secret = parse_key(key.plaintext)
    assert key_id == key.key_id
    assert secret_matches(secret, key.secret_hash)
    assert not secret_matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"), key.secret_hash)
    assert key.plaintext not in key.secret_hash and secret not in key.secret_hash


def test_keys_are_unique():
    assert len({issue_key().plaintext for _ in range(200)}) == 200


def test_malformed_keys_do_not_parse():
    for presented in ("", "crm_", "Bearer x", "crm_ABCDEF123456_" + "x" * 43, "crm_abcdef123456_short"):
        assert parse_key(presented) is None


def test_only_the_hash_is_stored():
    assert digest("secret") == digest("secret") != "secret"


def test_a_request_needs_read_to_read_write_to_change_and_privacy_for_the_privacy_endpoints():
    from gateway.domain.api_keys import required_scope

    assert [required_scope(m, "contacts") for m in ("GET", "HEAD", "OPTIONS", "POST", "PATCH", "PUT", "DELETE")] == \
        ["read"] * 3 + ["write"] * 4
    assert required_scope("GET", "privacy") == required_scope("POST", "privacy") == "privacy"
    assert required_scope("GET", "api-keys") == required_scope("DELETE", "api-keys") == "admin"


def test_an_accounts_first_key_has_every_scope_admin_included():
    from gateway.domain.api_keys import OWNER_SCOPES, parse_scopes

    assert set(OWNER_SCOPES) == {"read", "write", "privacy", "admin"}
    assert parse_scopes("admin") == ("admin",)


def test_scopes_are_read_from_a_comma_separated_list_and_unknown_ones_refused():
    import pytest

    from gateway.domain.api_keys import parse_scopes

    assert parse_scopes(" read, privacy ,read") == ("read", "privacy")
    for bad in ("", "read,owner", ","):
        with pytest.raises(ValueError):
            parse_scopes(bad)
