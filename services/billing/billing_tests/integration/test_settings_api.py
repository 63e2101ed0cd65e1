"""The account's billing settings through the API and the real event store."""
from .conftest import headers


def test_the_defaults_until_changed_then_the_change_with_its_revision(client):
    first = client.get("/v1/billing-settings", headers=headers())
    assert first.status_code == 200 and first.headers["ETag"] == '"0"'
    assert first.get_json()["default_currency"] == "EUR" and first.get_json()["revision"] == 0
    changed = client.patch("/v1/billing-settings", headers=headers(**{"If-Match": '"0"'}), json={
        "seller": {"name": "Agence Dupont", "siret": "73282932000074", "vat_number": "FR40303265045"},
        "payment_term": {"kind": "net", "days": 45}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["seller"]["siret"] == "73282932000074" and changed.headers["ETag"] == '"1"'
    assert changed.headers["Content-Location"] == "/v1/billing-settings"  # where a replayed retry reads it
    again = client.get("/v1/billing-settings", headers=headers()).get_json()
    assert again["revision"] == 1 and again["payment_term"] == {"kind": "net", "days": 45}
    assert client.get("/v1/billing-settings", headers=headers("acct-2")).get_json()["revision"] == 0


def test_a_stale_revision_is_a_409(client):
    assert client.patch("/v1/billing-settings", headers=headers(), json={"revision": 0, "notes": "Merci"}).status_code == 200
    stale = client.patch("/v1/billing-settings", headers=headers(), json={"revision": 0, "notes": "Merci !"})
    assert stale.status_code == 409 and stale.get_json()["type"].endswith("stale-revision")


def test_every_bad_field_is_a_422_problem_naming_it(client):
    answer = client.patch("/v1/billing-settings", headers=headers(), json={
        "revision": 0, "seller": {"siren": "123456789", "bic": "??"}, "time_zone": "Mars/Olympus", "colour": "red"})
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert "colour" in answer.get_json()["errors"]  # the schema refuses an unknown key first
    answer = client.patch("/v1/billing-settings", headers=headers(), json={
        "revision": 0, "seller": {"siren": "123456789", "bic": "??"}, "time_zone": "Mars/Olympus"})
    assert set(answer.get_json()["errors"]) == {"seller.siren", "seller.bic", "time_zone"}


def test_a_change_says_which_revision_it_is_based_on(client):
    answer = client.patch("/v1/billing-settings", headers=headers(), json={"notes": "Merci"})
    assert answer.status_code == 422 and "revision" in answer.get_json()["errors"]


def test_only_the_gateway_may_call_it(client):
    assert client.get("/v1/billing-settings", headers={"X-Account-Id": "acct-1"}).status_code == 401
