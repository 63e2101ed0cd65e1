"""The contacts HTTP API on the real MongoDB server (the projection is fed by hand here; e2e tests run the worker)."""
from crm_platform.testing.service_fixtures import INTERNAL_TOKEN

from .conftest import headers

LOUISE = {"first_name": "Louise", "last_name": "Desnotes", "company": "Maison du Papier",
          "emails": [{"address": "louise@maison-papier.fr", "tag": "work"}],
          "phones": [{"number": "+33 3 20 06 51 26", "tag": "work"}]}


def project_all(container):
    for envelope in container.event_store.read_all():
        container.projection.apply(envelope)


def test_create_returns_the_contact_and_its_location(client):
    response = client.post("/v1/contacts", json=LOUISE, headers=headers())
    assert response.status_code == 201
    body = response.get_json()
    assert body["revision"] == 1 and body["first_name"] == "Louise"
    assert body["emails"] == [{"address": "louise@maison-papier.fr", "tag": "work", "primary": True,
                               "subscription_status": "not_set", "deliverability": "not_set"}]
    assert response.headers["Location"] == f"/v1/contacts/{body['id']}"


def test_invalid_fields_get_a_problem_naming_each_field(client):
    response = client.post("/v1/contacts", json={"first_name": 3, "emails": [{"tag": "nope"}], "nick": "x"},
                           headers=headers())
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "/problems/invalid-input" and problem["status"] == 422
    assert set(problem["errors"]) == {"first_name", "emails", "nick"}
    assert set(problem["errors"]["emails"]["0"]) == {"address", "tag"}


def test_a_contact_with_nothing_to_identify_it_is_refused(client):
    response = client.post("/v1/contacts", json={"first_name": "  "}, headers=headers())
    assert response.status_code == 422
    assert "_schema" in response.get_json()["errors"]


def test_a_body_that_is_not_json_gets_415(client):
    response = client.post("/v1/contacts", data="first_name=Louise", headers=headers(),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"


def test_a_stale_revision_gets_409_and_changes_nothing(client, container):
    created = client.post("/v1/contacts", json=LOUISE, headers=headers()).get_json()
    first = client.patch(f"/v1/contacts/{created['id']}", json={"revision": 1, "company": "A"}, headers=headers())
    assert first.status_code == 200 and first.get_json()["revision"] == 2
    stale = client.patch(f"/v1/contacts/{created['id']}", json={"revision": 1, "company": "B"}, headers=headers())
    assert stale.status_code == 409
    assert stale.get_json()["current_revision"] == 2
    project_all(container)
    assert client.get(f"/v1/contacts/{created['id']}", headers=headers()).get_json()["company"] == "A"


def test_list_pages_with_a_cursor_and_reads_only_the_account(client, container):
    ids = [client.post("/v1/contacts", json={"first_name": f"P{i}"}, headers=headers()).get_json()["id"] for i in range(5)]
    client.post("/v1/contacts", json={"first_name": "Other"}, headers=headers("acct-2"))
    project_all(container)
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/contacts", query_string=query, headers=headers()).get_json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


def test_other_accounts_get_404_for_read_change_and_delete(client, container):
    created = client.post("/v1/contacts", json=LOUISE, headers=headers()).get_json()
    project_all(container)
    url = f"/v1/contacts/{created['id']}"
    assert client.get(url, headers=headers("acct-2")).status_code == 404
    assert client.patch(url, json={"revision": 1, "company": "X"}, headers=headers("acct-2")).status_code == 404
    assert client.delete(url, headers=headers("acct-2")).status_code == 404
    project_all(container)  # had anything of the other account's requests been stored, the read model would show it
    mine = client.get(url, headers=headers())
    assert mine.status_code == 200 and mine.get_json()["revision"] == 1 and mine.get_json()["company"] == LOUISE.get("company")
    assert [e["revision"] for e in client.get(f"{url}/history", headers=headers()).get_json()["items"]] == [1]


def test_delete_then_read_is_404(client, container):
    created = client.post("/v1/contacts", json=LOUISE, headers=headers()).get_json()
    url = f"/v1/contacts/{created['id']}"
    assert client.delete(url, query_string={"revision": 1}, headers=headers()).status_code == 204
    project_all(container)
    assert client.get(url, headers=headers()).status_code == 404


def test_only_the_gateway_may_call_the_service(client):
    assert client.get("/v1/contacts", headers={"X-Account-Id": "acct-1"}).status_code == 401
    wrong = {"X-Internal-Token": "x" * len(INTERNAL_TOKEN), "X-Account-Id": "acct-1"}
    assert client.get("/v1/contacts", headers=wrong).status_code == 401
    assert client.get("/healthz").status_code == 200


def test_bad_cursor_and_limit_are_field_errors(client):
    response = client.get("/v1/contacts", query_string={"limit": 1000, "cursor": "%%%"}, headers=headers())
    assert response.status_code == 422
    assert "limit" in response.get_json()["errors"]


def test_readyz_reports_mongodb_and_kafka(client):
    body = client.get("/readyz").get_json()
    assert body["checks"] == {"mongodb": "up", "kafka": "up"}


FULL = {
    "first_name": "Louise", "last_name": "Desnotes", "company": "Maison du Papier", "job_title": "Gérante",
    "code": "C-042", "vat_number": "FR 40 303 265 045", "info_email": "info@maison-papier.fr",
    "websites": ["https://maison-papier.fr"],
    "emails": [{"address": "louise@maison-papier.fr", "tag": "work", "subscription_status": "subscribed",
                "deliverability": "valid"}],
    "phones": [{"number": "03 20 06 51 26", "tag": "direct_line"}, {"number": "06 12 34 56 78", "tag": "mobile"}],
    "addresses": [{"tag": "billing", "street": ["12 rue de la Paix"], "postal_code": "59000", "city": "Lille",
                   "country": "FR"}],
}


def test_the_full_contact_model_round_trips_through_the_read_model(client, container):
    created = client.post("/v1/contacts", json=FULL, headers=headers())
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["vat_number"] == "FR40303265045"
    assert [p["e164"] for p in body["phones"]] == ["+33320065126", "+33612345678"]
    assert body["emails"][0]["subscription_status"] == "subscribed"
    project_all(container)
    read = client.get(f"/v1/contacts/{body['id']}", headers=headers()).get_json()
    moving = {"updated_at", "last_activity_at"}  # stamped by the write model, then by the event
    assert {k: v for k, v in read.items() if k not in moving} == {k: v for k, v in body.items() if k not in moving}


def test_domain_problems_come_back_by_field_path(client):
    response = client.post("/v1/contacts", headers=headers(), json={
        "first_name": "Louise", "vat_number": "FR00000000000", "phones": [{"number": "123"}],
        "emails": [{"address": "x@y.fr"}, {"address": "X@Y.FR"}], "addresses": [{"country": "ZZ"}],
    })
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"vat_number", "phones", "emails", "addresses"}
    assert errors["emails"]["1"]["address"] == ["same as entry 0"]
    assert "country" in errors["addresses"]["0"]


def test_history_lists_who_changed_what_and_when(client):
    created = client.post("/v1/contacts", json={"first_name": "Louise"}, headers=headers()).get_json()
    url = f"/v1/contacts/{created['id']}"
    client.patch(url, json={"revision": 1, "company": "Maison du Papier", "first_name": "Louise-Anne"},
                 headers={**headers(), "X-Actor": "api-key:k1"})
    history = client.get(f"{url}/history", headers=headers()).get_json()["items"]
    assert [(h["revision"], h["event_type"]) for h in history] == [(2, "ContactUpdated"), (1, "ContactCreated")]
    assert history[0]["changes"] == {
        "company": {"from": None, "to": "Maison du Papier"},
        "first_name": {"from": "Louise", "to": "Louise-Anne"},
    }
    assert history[0]["actor"] == "api-key:k1"
    assert history[1]["changes"] == {"first_name": {"from": None, "to": "Louise"}}
    assert client.get(f"{url}/history", headers=headers("acct-2")).status_code == 404


def test_duplicates_get_409_with_the_existing_contact_unless_allowed(client):
    first = client.post("/v1/contacts", json={"first_name": "Louise", "phones": [{"number": "+33 3 20 06 51 26"}]},
                        headers=headers()).get_json()
    dup = client.post("/v1/contacts", json={"first_name": "L.", "phones": [{"number": "03.20.06.51.26"}]}, headers=headers())
    assert dup.status_code == 409
    problem = dup.get_json()
    assert problem["type"] == "/problems/duplicate-contact"
    assert problem["existing_contact_id"] == first["id"] and problem["matched"] == "+33320065126"
    allowed = client.post("/v1/contacts", query_string={"allow_duplicates": "true"},
                          json={"first_name": "L.", "phones": [{"number": "03.20.06.51.26"}]}, headers=headers())
    assert allowed.status_code == 201


def test_two_simultaneous_creations_of_the_same_email_store_one_contact(client, container):
    import threading

    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def create():
        barrier.wait()
        response = client.post("/v1/contacts", json={"emails": [{"address": "race@exemple.fr"}]}, headers=headers())
        statuses.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409, 409, 409]


def test_text_the_read_models_could_not_store_is_refused_at_the_edge(client):
    """A NUL once passed the API, then stalled every account's read models in the database (issue 9, item 0)."""
    created = client.post("/v1/contacts", data='{"first_name": "a\\u0000b", "last_name": "\\ud800"}',
                          content_type="application/json", headers=headers())
    assert created.status_code == 422 and set(created.get_json()["errors"]) == {"first_name", "last_name"}
    assert client.get("/v1/contacts/%00", headers=headers()).status_code == 404
    assert client.get("/v1/contacts?q=%00", headers=headers()).status_code == 422
    deep = client.post("/v1/labels", data='{"a":' * 10_000 + "1" + "}" * 10_000, content_type="application/json",
                       headers=headers())
    assert deep.status_code == 422
