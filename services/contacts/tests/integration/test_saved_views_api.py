"""Saved views through the contacts API on the real MongoDB server (the Wix scenario's saved filter)."""
from .conftest import headers


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


def test_a_saved_filter_on_subscription_status_applies_by_id(client, container):
    subscribed = client.post("/v1/contacts", headers=headers(), json={
        "first_name": "Louise", "last_name": "Desnotes",
        "emails": [{"address": "louise@maison-papier.fr", "subscription_status": "subscribed"}]}).get_json()
    client.post("/v1/contacts", headers=headers(), json={
        "first_name": "Paul", "emails": [{"address": "paul@exemple.fr", "subscription_status": "unsubscribed"}]})
    created = client.post("/v1/saved-views", headers=headers(), json={
        "name": "Abonnés", "query": {"subscription_status": "subscribed", "sort": "last_name",
                                     "fields": "first_name,emails"}})
    assert created.status_code == 201, created.get_json()
    view = created.get_json()
    project_all(container)
    page = client.get("/v1/contacts", query_string={"view": view["id"]}, headers=headers()).get_json()
    assert page["items"] == [{"id": subscribed["id"], "revision": 1, "first_name": "Louise",
                              "emails": subscribed["emails"]}]
    # a parameter given with the view overrides the view's own
    wider = client.get("/v1/contacts", query_string={"view": view["id"], "subscription_status": "unsubscribed"},
                       headers=headers()).get_json()
    assert [c["first_name"] for c in wider["items"]] == ["Paul"]

    renamed = client.patch(f"/v1/saved-views/{view['id']}", json={"name": "Abonnés e-mail"}, headers=headers())
    assert renamed.get_json()["name"] == "Abonnés e-mail" and renamed.get_json()["revision"] == 2
    project_all(container)
    assert [v["name"] for v in client.get("/v1/saved-views", headers=headers()).get_json()["items"]] == ["Abonnés e-mail"]
    assert client.get("/v1/contacts", query_string={"view": view["id"]}, headers=headers("acct-2")).status_code == 404
    assert client.delete(f"/v1/saved-views/{view['id']}", headers=headers("acct-2")).status_code == 404
    assert client.delete(f"/v1/saved-views/{view['id']}", headers=headers()).status_code == 204
    project_all(container)
    assert client.get("/v1/contacts", query_string={"view": view["id"]}, headers=headers()).status_code == 404


def test_a_view_with_a_bad_query_is_refused_field_by_field(client):
    response = client.post("/v1/saved-views", headers=headers(), json={
        "name": "x", "query": {"sort": "password", "labels_any": "$where", "bogus": "1"}})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]["query"]) == {"sort", "labels_any", "bogus"}
    empty = client.patch("/v1/saved-views/view:nope", json={}, headers=headers())
    assert empty.status_code == 422


def test_a_view_whose_custom_field_conditions_cannot_run_is_refused_when_saved(client, container):
    """It used to be stored and fail only when used (a number condition of "$where", a field that is not there)."""
    client.post("/v1/custom-fields", json={"name": "Budget", "type": "number"}, headers=headers())
    for envelope in container.event_store.read_all():  # the worker's job: the custom field's definition is read there
        container.custom_fields_projection.apply(envelope)
    for query, param in (({"cf.budget.gt": "$where"}, "cf.budget.gt"), ({"cf.nope.eq": "1"}, "cf.nope.eq")):
        refused = client.post("/v1/saved-views", json={"name": "Bad", "query": query}, headers=headers())
        assert refused.status_code == 422 and param in refused.get_json()["errors"]["query"]
    saved = client.post("/v1/saved-views", json={"name": "Gros budgets", "query": {"cf.budget.gt": "1000"}},
                        headers=headers())
    assert saved.status_code == 201
    changed = client.patch(f"/v1/saved-views/{saved.get_json()['id']}", json={"query": {"cf.budget.gt": "nan"}},
                           headers=headers())
    assert changed.status_code == 422
