"""End to end: a privacy request through the gateway, published by the privacy worker, listed from its read
model (issue 13). Which services answer, and the completed saga, come with their participants."""
import requests

from .conftest import bearer, eventually


def test_a_privacy_request_is_received_shown_listed_and_kept_to_its_account(system, account_a, account_b):
    louise = requests.post(f"{system.gateway_url}/v1/contacts", json={"first_name": "Louise"},
                           headers=bearer(account_a), timeout=10).json()
    url = f"{system.gateway_url}/v1/privacy/requests"
    body = {"type": "access", "subject": {"contact_id": louise["id"]}, "requester": "Louise",
            "reason": "e-mail du 2 décembre"}
    answer = requests.post(url, json=body, headers=bearer(account_a), timeout=10)
    assert answer.status_code == 202, answer.text
    request_id = answer.json()["id"]
    shown = requests.get(f"{url}/{request_id}", headers=bearer(account_a), timeout=10).json()
    assert [s["service"] for s in shown["services"]] == ["contacts", "billing", "workflows"]
    assert shown["audit_trail"][0]["actor"].startswith("api-key:")
    listed = eventually(lambda: requests.get(url, headers=bearer(account_a), timeout=10).json(),
                        lambda page: [i["id"] for i in page.get("items", [])] == [request_id])
    assert [i["id"] for i in listed["items"]] == [request_id]
    assert requests.get(f"{url}/{request_id}", headers=bearer(account_b), timeout=10).status_code == 404
    key = requests.get(f"{system.gateway_url}/v1/privacy/public-key", headers=bearer(account_a), timeout=10).json()
    assert key["algorithm"] == "Ed25519" and len(key["key_id"]) == 16
