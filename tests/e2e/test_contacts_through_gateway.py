"""End to end: through the gateway, into the contacts service, through Kafka, into the projection."""
import re

import requests

from .conftest import bearer, eventually

LOUISE = {"first_name": "Louise", "last_name": "Desnotes", "company": "Maison du Papier",
          "emails": [{"address": "louise@maison-papier.fr", "tag": "work"}],
          "phones": [{"number": "+33 3 20 06 51 26", "tag": "work"}]}


def test_a_created_contact_shows_in_the_list_and_is_404_for_another_account(system, account_a, account_b):
    url = f"{system.gateway_url}/v1/contacts"
    created = requests.post(url, json=LOUISE, headers=bearer(account_a), timeout=10)
    assert created.status_code == 201, created.text
    contact = created.json()

    listing = eventually(lambda: requests.get(url, headers=bearer(account_a), timeout=10).json(),
                         lambda page: any(c["id"] == contact["id"] for c in page["items"]))
    [listed] = [c for c in listing["items"] if c["id"] == contact["id"]]
    assert listed["first_name"] == "Louise" and listed["emails"][0]["address"] == "louise@maison-papier.fr"

    other = requests.get(f"{url}/{contact['id']}", headers=bearer(account_b), timeout=10)
    assert other.status_code == 404
    assert other.headers["Content-Type"] == "application/problem+json"
    assert all(c["id"] != contact["id"] for c in requests.get(url, headers=bearer(account_b), timeout=10).json()["items"])
    # whatever identity headers a client sends, the key decides the account
    forged = {**bearer(account_b), "X-Account-Id": account_a["account_id"], "X-Internal-Token": "guess"}
    assert requests.get(f"{url}/{contact['id']}", headers=forged, timeout=10).status_code == 404


def test_update_with_revision_then_stale_update_is_409(system, account_a):
    url = f"{system.gateway_url}/v1/contacts"
    contact = requests.post(url, json={"first_name": "Paul"}, headers=bearer(account_a), timeout=10).json()
    ok = requests.patch(f"{url}/{contact['id']}", json={"revision": 1, "company": "Opentime"}, headers=bearer(account_a), timeout=10)
    assert ok.status_code == 200 and ok.json()["revision"] == 2
    stale = requests.patch(f"{url}/{contact['id']}", json={"revision": 1, "company": "Wix"}, headers=bearer(account_a), timeout=10)
    assert stale.status_code == 409
    read = eventually(lambda: requests.get(f"{url}/{contact['id']}", headers=bearer(account_a), timeout=10),
                      lambda r: r.status_code == 200 and r.json()["revision"] == 2)
    assert read.json()["company"] == "Opentime"
    assert read.headers["ETag"] == '"2"'


def test_missing_or_bad_keys_get_401(system):
    url = f"{system.gateway_url}/v1/contacts"
    missing = requests.get(url, timeout=10)
    assert missing.status_code == 401
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    bad = requests.get(url, headers={"Authorization": "Bearer crm_000000000000_" + "x" * 43}, timeout=10)
    assert bad.status_code == 401
    quota = system.env["RATE_LIMIT_AUTH_FAILURES_PER_MINUTE"]
    assert bad.headers["RateLimit-Policy"] == f'"auth-failures";q={quota};w=60'
    assert bad.headers["RateLimit"].startswith('"auth-failures";r=')


def test_every_answer_tells_the_rate_limits_of_its_key_and_account(system, account_a):
    listed = requests.get(f"{system.gateway_url}/v1/contacts", headers=bearer(account_a), timeout=10)
    missing = requests.get(f"{system.gateway_url}/v1/contacts/no-such-contact", headers=bearer(account_a), timeout=10)
    for answer in (listed, missing):
        assert answer.headers["RateLimit-Policy"] == ('"key-burst";q=10000;w=1, "key";q=1000000;w=60, '
                                                      '"account";q=1000000;w=60')
        assert re.fullmatch(r'"key-burst";r=\d+;t=1, "key";r=\d+;t=\d+, "account";r=\d+;t=\d+',
                            answer.headers["RateLimit"])
    assert (listed.status_code, missing.status_code) == (200, 404)


def test_openapi_and_docs_are_served(system):
    spec = requests.get(f"{system.gateway_url}/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.")
    assert {"/v1/contacts", "/v1/contacts/{contact_id}"} <= set(spec["paths"])
    create = spec["paths"]["/v1/contacts"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]["properties"]
    assert {"first_name", "last_name", "emails", "phones"} <= set(properties)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = requests.get(f"{system.gateway_url}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert requests.get(f"{system.gateway_url}/docs/swagger-ui-bundle.js", timeout=10).status_code == 200


def test_deleting_a_label_takes_it_off_every_contact(system, account_a):
    base = system.gateway_url
    auth = bearer(account_a)
    label = requests.post(f"{base}/v1/labels/find-or-create", json={"name": "Ancien client"}, headers=auth, timeout=10).json()
    ids = [requests.post(f"{base}/v1/contacts", json={"first_name": f"L{i}"}, headers=auth, timeout=10).json()["id"]
           for i in range(3)]
    for contact_id in ids:
        assert requests.put(f"{base}/v1/contacts/{contact_id}/labels/{label['key']}", headers=auth, timeout=10).ok

    def labels_of(contact_id):
        response = requests.get(f"{base}/v1/contacts/{contact_id}", headers=auth, timeout=10)
        return response.json()["labels"] if response.ok else None

    assert all(eventually(lambda: labels_of(i), lambda got: got == [label["key"]]) == [label["key"]] for i in ids)
    assert requests.delete(f"{base}/v1/labels/{label['key']}", headers=auth, timeout=10).status_code == 204
    assert all(eventually(lambda: labels_of(i), lambda got: got == []) == [] for i in ids)
    history = requests.get(f"{base}/v1/contacts/{ids[0]}/history", headers=auth, timeout=10).json()["items"]
    assert history[0]["event_type"] == "LabelUnassigned"


def test_a_new_account_starts_with_the_default_categories(system):
    account = system.create_account("Nouvelle agence")
    labels = eventually(
        lambda: requests.get(f"{system.gateway_url}/v1/labels", headers=bearer(account), timeout=10).json()["items"],
        lambda items: len(items) == 3, timeout_s=60)
    assert labels == [{"key": "client", "name": "Client"}, {"key": "partenaire", "name": "Partenaire"},
                      {"key": "prospect", "name": "Prospect"}]


def test_removing_a_custom_field_removes_its_values(system, account_a):
    base, auth = system.gateway_url, bearer(account_a)
    field = requests.post(f"{base}/v1/custom-fields", json={"name": "Budget e2e", "type": "number"}, headers=auth,
                          timeout=10).json()
    contact = requests.post(f"{base}/v1/contacts", json={"first_name": "B", "custom_fields": {field["key"]: 10}},
                            headers=auth, timeout=10).json()
    url = f"{base}/v1/contacts/{contact['id']}"
    assert eventually(lambda: requests.get(url, headers=auth, timeout=10),
                      lambda r: r.ok).json()["custom_fields"] == {field["key"]: 10}
    assert requests.delete(f"{base}/v1/custom-fields/{field['key']}", headers=auth, timeout=10).status_code == 204
    after = eventually(lambda: requests.get(url, headers=auth, timeout=10).json(), lambda c: c["custom_fields"] == {})
    assert after["custom_fields"] == {}


def test_opentime_scenario_a_category_of_our_own_words(system):
    """Add the category "fournisseur", give it to Louise Desnotes of Maison du Papier, find her by it."""
    account = system.create_account("Papeterie du Nord")
    base, auth = system.gateway_url, bearer(account)
    category = requests.post(f"{base}/v1/labels", json={"name": "Fournisseur"}, headers=auth, timeout=10)
    assert category.status_code == 201
    louise = requests.post(f"{base}/v1/contacts", headers=auth, timeout=10, json={
        "first_name": "Louise", "last_name": "Desnotes", "company": "Maison du Papier"}).json()
    requests.post(f"{base}/v1/contacts", json={"first_name": "Paul", "company": "Ailleurs"}, headers=auth, timeout=10)
    assert requests.put(f"{base}/v1/contacts/{louise['id']}/labels/fournisseur", headers=auth, timeout=10).ok
    found = eventually(
        lambda: requests.get(f"{base}/v1/contacts", params={"labels_any": "fournisseur"}, headers=auth, timeout=10).json(),
        lambda page: len(page["items"]) == 1)
    assert [(c["first_name"], c["last_name"], c["company"]) for c in found["items"]] == [
        ("Louise", "Desnotes", "Maison du Papier")]
    by_name = requests.get(f"{base}/v1/contacts", params={"q": "desnotés"}, headers=auth, timeout=10).json()
    assert [c["id"] for c in by_name["items"]] == [louise["id"]]


def test_wix_scenario_labels_custom_fields_and_a_saved_filter(system):
    account = system.create_account("Agence Wix")
    base, auth = system.gateway_url, bearer(account)
    for name, type_ in (("Budget", "number"), ("Premier contact", "date"), ("Portfolio", "url"), ("Source", "text")):
        assert requests.post(f"{base}/v1/custom-fields", json={"name": name, "type": type_}, headers=auth,
                             timeout=10).status_code == 201
    vip = requests.post(f"{base}/v1/labels/find-or-create", json={"name": "VIP"}, headers=auth, timeout=10).json()
    subscribed = requests.post(f"{base}/v1/contacts", headers=auth, timeout=10, json={
        "first_name": "Léa", "emails": [{"address": "lea@studio.fr", "subscription_status": "subscribed"}],
        "custom_fields": {"budget": 5000, "premier-contact": "2026-11-02", "portfolio": "https://studio.fr",
                          "source": "salon"}}).json()
    requests.post(f"{base}/v1/contacts", headers=auth, timeout=10, json={
        "first_name": "Marc", "emails": [{"address": "marc@studio.fr", "subscription_status": "unsubscribed"}]})
    requests.put(f"{base}/v1/contacts/{subscribed['id']}/labels/{vip['key']}", headers=auth, timeout=10)
    view = requests.post(f"{base}/v1/saved-views", headers=auth, timeout=10, json={
        "name": "Abonnés VIP", "query": {"subscription_status": "subscribed", "labels_all": vip["key"]}}).json()
    page = eventually(
        lambda: requests.get(f"{base}/v1/contacts", params={"view": view["id"]}, headers=auth, timeout=10).json(),
        lambda p: len(p.get("items", [])) == 1)  # until the contacts reach the read model
    [lea] = page["items"]
    assert lea["first_name"] == "Léa" and lea["custom_fields"]["budget"] == 5000 and lea["labels"] == [vip["key"]]


def test_bulk_label_assignment_runs_as_a_job_with_progress(system, account_a):
    base, auth = system.gateway_url, bearer(account_a)
    label = requests.post(f"{base}/v1/labels/find-or-create", json={"name": "Salon 2026"}, headers=auth, timeout=10).json()
    ids = [requests.post(f"{base}/v1/contacts", json={"first_name": f"S{i}"}, headers=auth, timeout=10).json()["id"]
           for i in range(5)]
    started = requests.post(f"{base}/v1/labels/{label['key']}/assignments", headers=auth, timeout=10,
                            json={"contact_ids": ids + ["no-such-contact"]})
    assert started.status_code == 202 and started.json()["total"] == 6
    job_url = f"{base}{started.headers['Location']}"
    job = eventually(lambda: requests.get(job_url, headers=auth, timeout=10).json(), lambda j: j["status"] == "done")
    assert (job["processed"], job["succeeded"], job["failed"]) == (6, 5, 1)
    assert job["errors"][0]["item"] == 5
    found = eventually(
        lambda: requests.get(f"{base}/v1/contacts", params={"labels_any": label["key"]}, headers=auth, timeout=10).json(),
        lambda page: len(page["items"]) == 5)
    assert sorted(c["id"] for c in found["items"]) == sorted(ids)
    missing = requests.post(f"{base}/v1/labels/nope/assignments", json={"contact_ids": ids}, headers=auth, timeout=10)
    assert missing.status_code == 404
