"""Finding contacts through the API on the real MongoDB server: search, filters, sort, pages."""
from .conftest import headers


def project_all(container):
    for envelope in container.event_store.read_all():
        container.apply_to_projections(envelope)


def make(client, **details):
    response = client.post("/v1/contacts", json=details, headers=headers())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def ids(client, **params):
    response = client.get("/v1/contacts", query_string=params, headers=headers())
    assert response.status_code == 200, response.get_json()
    return [c["id"] for c in response.get_json()["items"]]


def test_search_filters_and_sorts(client, container):
    louise = make(client, first_name="Louise", last_name="Desnotés", company="Maison du Papier",
                  emails=[{"address": "louise@maison-papier.fr", "subscription_status": "subscribed"}],
                  phones=[{"number": "+33 3 20 06 51 26"}])
    paul = make(client, first_name="Paul", last_name="Aubert", emails=[{"address": "paul@exemple.fr",
                                                                         "subscription_status": "unsubscribed"}])
    elodie = make(client, first_name="Élodie", last_name="Zola", phones=[{"number": "06 12 34 56 78"}])
    for name in ("Client", "VIP"):
        client.post("/v1/labels", json={"name": name}, headers=headers())
    for contact_id, keys in ((louise, ["client", "vip"]), (paul, ["client"])):
        for key in keys:
            assert client.put(f"/v1/contacts/{contact_id}/labels/{key}", headers=headers()).status_code == 200
    ailleurs = make(client, first_name="Louise", last_name="Ailleurs")
    client.post("/v1/contacts", json={"first_name": "Desnotes"}, headers=headers("acct-2"))
    project_all(container)

    assert ids(client, q="desnotes") == [louise]
    assert ids(client, q="ELODIE") == [elodie]
    assert ids(client, q="0320065126") == [louise]
    assert ids(client, q="+33 6 12 34") == [elodie]
    assert ids(client, q="maison-papier") == [louise]
    assert set(ids(client, labels_any="client")) == {louise, paul}
    assert ids(client, labels_all="client,vip") == [louise]
    assert set(ids(client, labels_none="client")) == {elodie, ailleurs}
    assert ids(client, labels_none="client", q="louise") == [ailleurs]
    assert ids(client, subscription_status="unsubscribed") == [paul]
    assert ids(client, labels_any="client", subscription_status="subscribed") == [louise]

    by_last_name = ids(client, sort="last_name")
    assert by_last_name.index(paul) < by_last_name.index(louise) < by_last_name.index(elodie)


def test_pages_follow_the_sort_without_gaps_or_repeats(client, container):
    made = [make(client, first_name="P", last_name=name) for name in ("Dupont", "Martin", "Bernard", "Petit", "Durand")]
    project_all(container)
    seen, seen_ids, cursor = [], [], None
    while True:
        params = {"sort": "-last_name", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/contacts", query_string=params, headers=headers()).get_json()
        seen += [c["last_name"] for c in page["items"]]
        seen_ids += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Petit", "Martin", "Durand", "Dupont", "Bernard"]
    assert sorted(seen_ids) == sorted(made)
    by_last_name = client.get("/v1/contacts", query_string={"sort": "-last_name", "limit": 1}, headers=headers())
    other_sort = {"sort": "first_name", "cursor": by_last_name.get_json()["next_cursor"]}
    assert client.get("/v1/contacts", query_string=other_sort, headers=headers()).status_code == 422


def test_operators_cannot_be_smuggled_in(client, container):
    make(client, first_name="Louise")
    project_all(container)
    assert ids(client, q='{"$gt": ""}') == []
    assert ids(client, q=".*") == []
    response = client.get("/v1/contacts", query_string={"labels_any": "$where", "sort": "$natural"}, headers=headers())
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"labels_any", "sort"}
    assert client.post("/v1/custom-fields", json={"name": "Budget", "type": "number"}, headers=headers()).status_code == 201
    project_all(container)
    assert client.get("/v1/contacts?cf.budget.gt=1000", headers=headers()).status_code == 200  # the field is known
    for not_a_number in ("nan", "inf", "-Infinity"):  # nan made the database server drop the connection
        response = client.get(f"/v1/contacts?cf.budget.gt={not_a_number}", headers=headers())
        assert response.status_code == 422 and "cf.budget.gt" in response.get_json()["errors"]


def test_columns_limit_the_fields_of_each_item_and_last_activity_sorts(client, container):
    first = make(client, first_name="Louise", company="Maison du Papier")
    second = make(client, first_name="Paul")
    client.post("/v1/labels", json={"name": "VIP"}, headers=headers())
    client.put(f"/v1/contacts/{first}/labels/vip", headers=headers())  # newest activity, though created first
    project_all(container)
    page = client.get("/v1/contacts", query_string={"fields": "first_name,labels", "sort": "-last_activity"},
                      headers=headers()).get_json()
    assert page["items"][0] == {"id": first, "revision": 2, "first_name": "Louise", "labels": ["vip"]}
    assert [c["id"] for c in page["items"]] == [first, second]
    bad = client.get("/v1/contacts", query_string={"fields": "first_name,password"}, headers=headers())
    assert bad.status_code == 422 and "fields" in bad.get_json()["errors"]


def test_country_and_date_range_filters(client, container):
    import time
    from datetime import datetime, timezone

    lille = make(client, first_name="A", addresses=[{"city": "Lille", "country": "FR"}])
    time.sleep(0.05)
    middle = datetime.now(timezone.utc).isoformat()
    time.sleep(0.05)
    bruxelles = make(client, first_name="B", addresses=[{"city": "Bruxelles", "country": "BE"}])
    project_all(container)
    assert ids(client, country="BE") == [bruxelles]
    assert ids(client, created_before=middle) == [lille]
    assert ids(client, created_after=middle) == [bruxelles]
    assert ids(client, updated_after=middle, country="FR") == []
    bad = client.get("/v1/contacts", query_string={"created_after": "yesterday", "country": "france"}, headers=headers())
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"created_after", "country"}


def test_search_finds_word_prefixes_whatever_the_accents_case_and_word_order(client, container):
    louise = make(client, first_name="Louise", last_name="Desnotés", company="Maison du Papier",
                  emails=[{"address": "louise.desnotes@maison-papier.fr"}])
    paul = make(client, first_name="Paul", last_name="Aubert", company="Papeterie Élodie",
                emails=[{"address": "paul@exemple.fr"}])
    elodie = make(client, first_name="Élodie", last_name="Zola", phones=[{"number": "06 12 34 56 78"}])
    ailleurs = make(client, first_name="Louise", last_name="Ailleurs")
    project_all(container)

    assert ids(client, q="DESNO") == [louise]
    assert ids(client, q="desnotés") == [louise]
    assert set(ids(client, q="élo")) == {paul, elodie}
    assert ids(client, q="louise desn") == ids(client, q="Desn LOUISE") == [louise]
    assert set(ids(client, q="lou")) == {louise, ailleurs}
    assert ids(client, q="louise zola") == []
    assert ids(client, q="maison papier") == [louise]


def test_search_finds_an_email_by_its_parts_and_whole(client, container):
    louise = make(client, first_name="Louise", emails=[{"address": "louise.desnotes@maison-papier.fr"}])
    paul = make(client, first_name="Paul", emails=[{"address": "paul@exemple.fr"}])
    project_all(container)

    assert ids(client, q="exemple.fr") == ids(client, q="@exemple") == ids(client, q="paul@exemple.fr") == [paul]
    assert ids(client, q="maison-papier.fr") == ids(client, q="desnotes@maison") == [louise]
    assert set(ids(client, q="fr")) == {louise, paul}
    assert ids(client, q="louise.desnotes@maison-papier.fr") == [louise]  # longer than a token: checked whole
    assert ids(client, q="louise.desnotes@maison-papier.com") == []


def test_search_finds_a_phone_as_users_type_it(client, container):
    elodie = make(client, first_name="Élodie", phones=[{"number": "06 12 34 56 78"}])
    make(client, first_name="Paul", phones=[{"number": "+32 2 555 12 12"}])
    project_all(container)

    for typed in ("0612", "06 12 34", "06.12.34.56.78", "612 34", "+33 6 12", "+33612345678", "5678", "345678"):
        assert ids(client, q=typed) == [elodie], typed
    assert ids(client, q="0613") == []


def test_a_word_that_is_a_prefix_of_nothing_finds_nothing(client, container):
    make(client, first_name="Louise", last_name="Desnotés", emails=[{"address": "louise@maison-papier.fr"}])
    project_all(container)

    assert ids(client, q="desnotesx") == []
    assert ids(client, q="louise xyz") == []
    assert ids(client, q="notes") == []  # inside a word, not at its start
    assert ids(client, q="-") == []


def test_fewer_tokens_find_the_same_contacts(client, container):
    """Tokens hold text prefixes of some lengths only and two spellings of a phone: a query word of
    another length is checked whole at the start of a word, a number after + by its country and the rest."""
    papeterie = make(client, first_name="Hugo", last_name="Thomas361", company="Papeterie du Nord",
                     emails=[{"address": "contact14319.r1234@exemple.fr"}], phones=[{"number": "+33 6 34 01 43 19"}])
    decoy = make(client, first_name="Papeterio", last_name="Lapapeterie", phones=[{"number": "+32 2 555 12 12"}])
    papeteries = make(client, company="Papeteries Unies")
    two_countries = make(client, first_name="Zoé", phones=[{"number": "+33 1 23 45 67 89"}, {"number": "+32 2 555 77 88"}])
    louis = make(client, first_name="Louis", last_name="Thomas3610")
    project_all(container)

    stored = container.projection.collection.find_one({"_id": papeterie})["search_tokens"]
    assert len(stored) <= 70 and len(set(stored)) == len(stored)  # 84 with every prefix of every phone spelling
    assert set(ids(client, q="papeterie")) == {papeterie, papeteries}  # "papeteri", then the word as typed
    assert ids(client, q="papeteries") == [papeteries]
    assert set(ids(client, q="thomas361")) == {papeterie, louis} and ids(client, q="thomas3610") == [louis]
    assert ids(client, q="thomas3611") == []
    assert ids(client, q="contact14319.") == ids(client, q="contact143") == [papeterie]
    assert set(ids(client, q="l")) == {decoy, louis}  # one letter: no token, the text only
    assert ids(client, q="h thomas") == [papeterie]
    for typed in ("+33 6", "+33 6 34", "+33 6 34 01 43 19", "06 34 01 43 19", "634 01", "4319", "01 43 19"):
        assert ids(client, q=typed) == [papeterie], typed
    for typed in ("+32 2 555 1", "+32 2 555 12 12", "2 555 12 12", "1212"):
        assert ids(client, q=typed) == [decoy], typed
    for typed in ("+32 2", "+32 2 555", "02 555"):
        assert set(ids(client, q=typed)) == {decoy, two_countries}, typed
    assert ids(client, q="+33 1 23") == [two_countries]
    assert ids(client, q="+33 2 555") == ids(client, q="+32 6 34") == ids(client, q="+999 2 555") == []
