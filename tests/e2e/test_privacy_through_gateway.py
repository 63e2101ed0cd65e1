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


def test_the_services_answer_through_kafka_and_their_replies_reach_the_request(system):
    """The saga's round trip with the running workers: privacy.events to each service's worker, its reply on its
    own topic back to the privacy worker. (Every personal_data service answers once it takes part.)"""
    account = system.create_account("Agence Vie Privée")
    louise = requests.post(f"{system.gateway_url}/v1/contacts", json={"first_name": "Louise"},
                           headers=bearer(account), timeout=10).json()
    url = f"{system.gateway_url}/v1/privacy/requests"
    body = {"type": "access", "subject": {"contact_id": louise["id"]}, "requester": "Louise", "reason": "e-mail"}
    request_id = requests.post(url, json=body, headers=bearer(account), timeout=10).json()["id"]

    def answered(shown: dict) -> set:
        return {s["service"] for s in shown.get("services", []) if s["answered"]}

    shown = eventually(lambda: requests.get(f"{url}/{request_id}", headers=bearer(account), timeout=10).json(),
                       lambda s: {"billing", "workflows"} <= answered(s), timeout_s=60)
    assert {"billing", "workflows"} <= answered(shown), shown["services"]
    assert [e["what"] for e in shown["audit_trail"]].count("ReplyRecorded") == len(answered(shown))


def test_a_restriction_completes_in_every_service_which_then_refuse_edits_until_it_is_lifted(system):
    """Art. 18 through the running system: privacy.events to every service's worker, each keeping the restriction
    and answering `restricted`; contacts then refuses an update (409) until the lift reaches it. The person is
    also found by their phone number, typed another way, through privacy's projection of contacts.events."""
    account = system.create_account("Agence Restreinte")
    contacts = f"{system.gateway_url}/v1/contacts"
    louise = requests.post(contacts, json={"first_name": "Louise", "phones": [{"number": "06 12 34 56 78"}]},
                           headers=bearer(account), timeout=10).json()
    url = f"{system.gateway_url}/v1/privacy/requests"
    body = {"type": "restriction", "subject": {"contact_id": louise["id"]}, "requester": "Louise",
            "reason": "contests the accuracy of her data"}
    answer = requests.post(url, json=body, headers=bearer(account), timeout=10)
    assert answer.status_code == 202, answer.text
    request_id = answer.json()["id"]
    shown = eventually(lambda: requests.get(f"{url}/{request_id}", headers=bearer(account), timeout=10).json(),
                       lambda s: s.get("status") == "completed", timeout_s=60)
    assert shown["status"] == "completed", shown
    assert {s["service"]: s["outcome"] for s in shown["services"]} == {
        "contacts": "restricted", "billing": "restricted", "workflows": "restricted"}

    edit = {"revision": 1, "company": "Papeterie"}
    refused = requests.patch(f"{contacts}/{louise['id']}", json=edit, headers=bearer(account), timeout=10)
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/processing-restricted", refused.text

    by_phone = requests.post(url, headers=bearer(account), timeout=10, json={
        **body, "type": "access", "subject": {"phone": "+33 6 12 34 56 78"}}).json()
    assert (by_phone["status"], by_phone["candidates"]) == ("awaiting_confirmation", [louise["id"]]), by_phone

    lifted = requests.post(f"{url}/{request_id}/lift", headers=bearer(account), timeout=10)
    assert lifted.status_code == 200 and lifted.json()["lifted_at"], lifted.text
    edited = eventually(lambda: requests.patch(f"{contacts}/{louise['id']}", json=edit, headers=bearer(account),
                                               timeout=10), lambda r: r.status_code == 200)
    assert edited.status_code == 200, edited.text
