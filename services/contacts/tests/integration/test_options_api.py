"""Option lists through the contacts API on the real MongoDB server."""
from crm_platform.message_bus import EventsToBus

from .conftest import headers
from .test_custom_fields_api import project_all


def test_list_add_rename_reorder_and_delete(client, container):
    defaults = client.get("/v1/options/functions", headers=headers()).get_json()
    assert {"key": "directeur", "name": "Directeur"}.items() <= defaults["items"][1].items()
    added = client.post("/v1/options/functions", json={"name": "Acheteuse"}, headers=headers())
    assert added.status_code == 201 and added.get_json()["key"] == "acheteuse"
    assert client.post("/v1/options/functions", json={"name": "Acheteuse"}, headers=headers()).status_code == 409
    bad = client.post("/v1/options/functions", json={"name": ""}, headers=headers())
    assert bad.status_code == 422 and "name" in bad.get_json()["errors"]
    assert client.get("/v1/options/colours", headers=headers()).status_code == 404
    assert client.patch("/v1/options/functions/acheteuse", json={"name": "Acheteur·se"},
                        headers=headers()).get_json()["name"] == "Acheteur·se"
    keys = [o["key"] for o in defaults["items"]] + ["acheteuse"]
    reordered = client.put("/v1/options/functions/order", json={"keys": keys[::-1]}, headers=headers())
    assert [o["key"] for o in reordered.get_json()["items"]] == keys[::-1]
    assert client.put("/v1/options/functions/order", json={"keys": keys[1:]}, headers=headers()).status_code == 422
    project_all(container)
    listed = client.get("/v1/options/functions", headers=headers()).get_json()["items"]
    assert [o["key"] for o in listed] == keys[::-1] and listed[0]["name"] == "Acheteur·se"
    # another account still has the defaults, and cannot touch this account's options
    assert client.get("/v1/options/functions", headers=headers("acct-2")).get_json() == defaults
    assert client.delete("/v1/options/functions/acheteuse", headers=headers("acct-2")).status_code == 404
    assert client.delete("/v1/options/functions/acheteuse", headers=headers()).status_code == 204


def test_contacts_use_options_and_lose_a_deleted_one(client, container):
    client.post("/v1/options/departments", json={"name": "Papeterie"}, headers=headers())
    made = client.post("/v1/contacts", json={"first_name": "Louise", "department": "papeterie", "function": "directeur",
                                             "addresses": [{"city": "Lille", "country": "FR"}]}, headers=headers())
    assert made.status_code == 201, made.get_json()
    contact = made.get_json()
    assert (contact["department"], contact["function"]) == ("papeterie", "directeur")
    refused = client.post("/v1/contacts", json={"first_name": "Paul", "department": "papeterie"}, headers=headers("acct-2"))
    assert refused.status_code == 422 and "department" in refused.get_json()["errors"]
    project_all(container)
    found = client.get("/v1/contacts?department=papeterie&function=directeur", headers=headers()).get_json()["items"]
    assert [c["id"] for c in found] == [contact["id"]]
    assert client.delete("/v1/options/departments/papeterie", headers=headers()).status_code == 204
    removed = list(container.event_store.read_all())[-1]
    assert removed.event_type == "OptionRemoved"
    EventsToBus(container.codec, container.bus)(removed)  # what the worker's clean-up consumer does
    project_all(container)
    read = client.get(f"/v1/contacts/{contact['id']}", headers=headers()).get_json()
    assert read["department"] is None and read["function"] == "directeur"


def test_custom_field_conditions_filter_contacts(client, container):
    for name, type_ in (("Budget", "number"), ("Secteur", "text"), ("Signature", "date")):
        client.post("/v1/custom-fields", json={"name": name, "type": type_}, headers=headers())
    people = {
        "bois": {"budget": 500, "secteur": "Bois", "signature": "2026-01-15"},
        "papier": {"budget": 1500.5, "secteur": "Papeterie fine"},
        "vide": {},
    }
    ids = {}
    for name, values in people.items():
        made = client.post("/v1/contacts", json={"first_name": name, "custom_fields": values}, headers=headers())
        ids[made.get_json()["id"]] = name
    project_all(container)

    def found(query):
        response = client.get(f"/v1/contacts?{query}", headers=headers())
        assert response.status_code == 200, response.get_json()
        return sorted(ids[c["id"]] for c in response.get_json()["items"])

    assert found("cf.budget.gt=1000") == ["papier"]
    assert found("cf.budget.lt=1e300") == ["bois", "papier"]  # beyond 64-bit integers: compared as a float
    assert found("cf.budget.lte=500") == ["bois"]
    assert found("cf.budget.eq=500") == ["bois"]
    assert found("cf.budget.ne=500") == ["papier", "vide"]
    assert found("cf.secteur.in=Bois,Verre") == ["bois"]
    assert found("cf.secteur.starts_with=pap") == ["papier"]
    assert found("cf.signature.exists=true") == ["bois"]
    assert found("cf.signature.exists=false") == ["papier", "vide"]
    assert found("cf.signature.gte=2026-01-01&cf.budget.lt=1000") == ["bois"]
    assert found("cf.secteur.eq=%7B%22%24gt%22%3A%22%22%7D") == []  # {"$gt": ""} is a plain string here
    bad = client.get("/v1/contacts?cf.budget.gt=beaucoup&cf.inconnu.eq=1&cf.budget.near=3", headers=headers())
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"cf.budget.near"}
    bad = client.get("/v1/contacts?cf.budget.gt=beaucoup&cf.inconnu.eq=1", headers=headers())
    assert bad.get_json()["errors"] == {"cf.budget.gt": ["must be a number"],
                                        "cf.inconnu.eq": ["no such custom field in this account"]}
    view = client.post("/v1/saved-views", json={"name": "Gros budgets", "query": {"cf.budget.gt": "1000"}},
                       headers=headers())
    assert view.status_code == 201, view.get_json()
    assert [ids[c["id"]] for c in client.get(f"/v1/contacts?view={view.get_json()['id']}",
                                             headers=headers()).get_json()["items"]] == ["papier"]


def test_the_account_chooses_its_phone_region(client):
    assert client.get("/v1/contact-settings", headers=headers()).get_json() == {"default_phone_region": "FR"}
    bad = client.put("/v1/contact-settings", json={"default_phone_region": "XX"}, headers=headers())
    assert bad.status_code == 422 and "default_phone_region" in bad.get_json()["errors"]
    assert client.put("/v1/contact-settings", json={"default_phone_region": "be"},
                      headers=headers()).get_json() == {"default_phone_region": "BE"}
    made = client.post("/v1/contacts", json={"phones": [{"number": "02 123 45 67"}]}, headers=headers()).get_json()
    assert made["phones"][0]["e164"] == "+3221234567"
    assert client.get("/v1/contact-settings", headers=headers("acct-2")).get_json() == {"default_phone_region": "FR"}
