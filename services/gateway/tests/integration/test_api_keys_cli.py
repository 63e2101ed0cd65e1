"""The operator's key commands (list-keys, rotate-key, revoke-key) on the real MongoDB server."""
import json

import pytest

from gateway.entrypoints.cli import main
from gateway.testing.scripted_upstreams import gateway


@pytest.fixture
def operator(infra, unique_suffix, mongo_client):
    """(test client of the gateway, the owner's key, its account id, container); no upstream answers."""
    client, auth, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:1")
    [account] = container.db["accounts"].find()
    yield client, auth["Authorization"].removeprefix("Bearer "), account["_id"], container
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def run(capsys, container, *argv) -> tuple[int, str, str]:
    code = main(list(argv), container)
    out, err = capsys.readouterr()
    return code, out, err


def lists_keys(client, secret: str) -> int:
    return client.get("/v1/api-keys", headers={"Authorization": f"Bearer {secret}"}).status_code


def test_list_keys_shows_every_key_without_a_secret(operator, capsys):
    _, owner, account_id, container = operator
    reader = container.accounts.issue_key(account_id, ("read",), name="reports")
    code, out, _ = run(capsys, container, "list-keys", "--account-id", account_id, "--json")
    listed = json.loads(out)
    assert code == 0 and [k["id"] for k in listed] == [owner[4:16], reader.key_id]
    assert listed[1]["name"] == "reports" and listed[1]["scopes"] == ["read"]
    assert owner[17:] not in out and reader.plaintext[17:] not in out
    code, out, _ = run(capsys, container, "list-keys", "--account-id", account_id)
    assert code == 0 and f"crm_{reader.key_id}" in out and "reports" in out and reader.plaintext not in out


def test_rotate_key_prints_a_new_secret_and_the_old_one_stops_after_the_grace_period(operator, capsys):
    client, owner, account_id, container = operator
    code, out, _ = run(capsys, container, "rotate-key", "--key-id", owner[4:16], "--json")
    rotated = json.loads(out)
    assert code == 0 and rotated["id"] == owner[4:16] and rotated["secret"] != owner
    assert lists_keys(client, owner) == lists_keys(client, rotated["secret"]) == 200  # within 24 h
    code, out, _ = run(capsys, container, "rotate-key", "--key-id", owner[4:16], "--grace-hours", "0")
    newest = out.split("store it now): ")[1].split()[0]
    assert code == 0 and lists_keys(client, rotated["secret"]) == 401 and lists_keys(client, newest) == 200


def test_rotate_key_takes_a_grace_period_of_at_most_7_days(operator, capsys):
    _, owner, _, container = operator
    with pytest.raises(SystemExit) as refused:
        main(["rotate-key", "--key-id", owner[4:16], "--grace-hours", "169"], container)
    assert refused.value.code == 2 and "--grace-hours" in capsys.readouterr().err


def test_revoke_key_refuses_the_last_admin_key_and_revokes_another_at_once(operator, capsys):
    client, owner, account_id, container = operator
    code, _, err = run(capsys, container, "revoke-key", "--key-id", owner[4:16])
    assert code == 2 and "last" in err and lists_keys(client, owner) == 200
    admin = container.accounts.issue_key(account_id, ("admin",))
    code, out, _ = run(capsys, container, "revoke-key", "--key-id", owner[4:16], "--json")
    assert code == 0 and json.loads(out)["revoked_at"] is not None
    assert lists_keys(client, owner) == 401 and lists_keys(client, admin.plaintext) == 200
    code, _, err = run(capsys, container, "revoke-key", "--key-id", "nosuchkey000")
    assert code == 2 and "nosuchkey000" in err
