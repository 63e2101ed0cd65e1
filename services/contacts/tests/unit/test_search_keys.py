from contacts.adapters.search_keys import fold, search_fields
from contacts.contact_query import ContactQuery, build_filter, literal_regex
from contacts.domain.model import normalize_details


def test_fold_removes_accents_case_and_extra_spaces():
    assert fold("  Desnotés  ÉLODIE ") == "desnotes elodie"
    assert fold("Œuvre") == "œuvre".casefold()


def test_search_fields_cover_names_emails_and_every_phone_spelling():
    details = normalize_details({
        "first_name": "Louise", "last_name": "Desnotés", "company": "Maison du Papier",
        "emails": [{"address": "Louise@Maison-Papier.fr", "subscription_status": "subscribed"}],
        "phones": [{"number": "+33 3 20 06 51 26"}],
    })
    keys = search_fields(details)
    assert "desnotes" in keys["search_text"] and "louise@maison-papier.fr" in keys["search_text"]
    assert {"33320065126", "0320065126"} <= set(keys["search_phones"])
    assert keys["sort_last_name"] == "desnotes"
    assert keys["subscription_statuses"] == ["subscribed"]


def test_query_values_are_literal_text_never_operators():
    query = build_filter("acct-1", ContactQuery(q='{"$where": "1"} .*'))
    [text] = [c for c in query["$and"] if "search_text" in c]
    assert text == {"search_text": {"$regex": literal_regex('{"$where": "1"} .*')}}
    assert literal_regex("a.b*(c)") == r"a\.b\*\(c\)"


def test_a_phone_like_query_also_searches_phone_digits():
    query = build_filter("acct-1", ContactQuery(q="03 20 06"))
    [either] = [c for c in query["$and"] if "$or" in c]
    assert {"search_phones": {"$regex": "032006"}} in either["$or"]
