"""End to end: a create retried with the same Idempotency-Key makes one contact, per account."""
import uuid

import requests

from .conftest import bearer

SOPHIE = {"first_name": "Sophie", "last_name": "Marchal", "emails": [{"address": "sophie.marchal@papeterie.fr"}]}


def test_a_retried_create_makes_one_contact_and_says_it_replayed(system, account_a):
    url, key = f"{system.gateway_url}/v1/contacts", f"create-sophie-{uuid.uuid4()}"
    headers = {**bearer(account_a), "Idempotency-Key": key}
    first = requests.post(url, json=SOPHIE, headers=headers, timeout=10)
    retry = requests.post(url, json=SOPHIE, headers=headers, timeout=10)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert retry.status_code == 201, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.json()["id"] == first.json()["id"] and retry.json()["emails"] == first.json()["emails"]
    # without the key, the same body is a second request: the service's duplicate check answers, not a second contact
    duplicate = requests.post(url, json=SOPHIE, headers=bearer(account_a), timeout=10)
    assert duplicate.status_code == 409 and duplicate.json()["existing_contact_id"] == first.json()["id"]


def test_the_same_key_with_another_body_is_422_naming_the_header(system, account_a):
    url, key = f"{system.gateway_url}/v1/contacts", f"create-{uuid.uuid4()}"
    headers = {**bearer(account_a), "Idempotency-Key": key}
    assert requests.post(url, json={"first_name": "Hugo"}, headers=headers, timeout=10).status_code == 201
    other = requests.post(url, json={"first_name": "Hugues"}, headers=headers, timeout=10)
    assert other.status_code == 422 and other.headers["Content-Type"] == "application/problem+json"
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert list(other.json()["errors"]) == ["Idempotency-Key"]


def test_another_account_with_the_same_key_gets_its_own_contact(system, account_a, account_b):
    url, key = f"{system.gateway_url}/v1/contacts", f"shared-key-{uuid.uuid4()}"
    body = {"first_name": "Camille", "company": "Atelier Bleu"}
    mine = requests.post(url, json=body, headers={**bearer(account_a), "Idempotency-Key": key}, timeout=10)
    theirs = requests.post(url, json=body, headers={**bearer(account_b), "Idempotency-Key": key}, timeout=10)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers and theirs.json()["id"] != mine.json()["id"]
    assert requests.get(f"{url}/{theirs.json()['id']}", headers=bearer(account_b), timeout=10).status_code == 200
    assert requests.get(f"{url}/{theirs.json()['id']}", headers=bearer(account_a), timeout=10).status_code == 404


def test_the_openapi_document_offers_the_header_on_every_write(system):
    spec = requests.get(f"{system.gateway_url}/openapi.json", timeout=10).json()
    writes = [op for operations in spec["paths"].values() for method, op in operations.items()
              if method in ("post", "patch", "delete")]
    assert len(writes) > 10
    for op in writes:
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in op["parameters"]
        assert {"409", "422"} <= set(op["responses"])
    assert spec["components"]["parameters"]["IdempotencyKey"]["schema"]["maxLength"] == 255


def test_a_retried_change_answers_the_contact_as_it_is_now_not_a_stale_revision_conflict(system, account_a):
    url = f"{system.gateway_url}/v1/contacts"
    created = requests.post(url, json={"first_name": "Agathe"}, headers=bearer(account_a), timeout=10).json()
    headers = {**bearer(account_a), "Idempotency-Key": f"patch-agathe-{uuid.uuid4()}"}
    change = {"revision": created["revision"], "company": "Reliure Agathe"}
    first = requests.patch(f"{url}/{created['id']}", json=change, headers=headers, timeout=10)
    retry = requests.patch(f"{url}/{created['id']}", json=change, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    assert retry.status_code == 200, retry.text  # not 409 stale-revision: the change was made once
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["company"] == "Reliure Agathe" and retry.json()["revision"] == first.json()["revision"]


def test_retried_creates_of_a_label_a_note_a_custom_field_an_option_and_a_view_answer_what_was_made(system, account_a):
    """Each answers `Location`, so the replay reads the item back instead of a 409 `idempotent-response-not-kept`."""
    base, tag = system.gateway_url, uuid.uuid4().hex[:8]
    contact = requests.post(f"{base}/v1/contacts", json={"first_name": "Rémi"}, headers=bearer(account_a), timeout=10)
    creates = {
        "label": ("/v1/labels", {"name": f"Fidèle {tag}"}),
        "note": (f"/v1/contacts/{contact.json()['id']}/notes", {"kind": "note", "text": "Rappeler lundi"}),
        "custom field": ("/v1/custom-fields", {"name": f"Pointure {tag}", "type": "number"}),
        "option": ("/v1/options/functions", {"name": f"Relieur {tag}"}),
        "saved view": ("/v1/saved-views", {"name": f"Fidèles {tag}", "query": {"q": "remi"}}),
    }
    for what, (path, body) in creates.items():
        headers = {**bearer(account_a), "Idempotency-Key": f"create-{what}-{tag}"}
        first = requests.post(f"{base}{path}", json=body, headers=headers, timeout=10)
        retry = requests.post(f"{base}{path}", json=body, headers=headers, timeout=10)
        assert first.status_code == 201, (what, first.text)
        assert retry.status_code == 201, (what, retry.text)
        assert retry.headers["Idempotent-Replayed"] == "true", what
        assert retry.headers["Location"] == first.headers["Location"], what
        assert retry.json() == first.json(), what
