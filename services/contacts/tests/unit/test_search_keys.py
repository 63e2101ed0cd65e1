from contacts.adapters.search_keys import (MAX_TOKEN_LENGTH, MAX_TOKENS, SearchTerms, contact_tokens, fold,
                                           search_fields, search_terms)
from contacts.contact_query import WORD_START, ContactQuery, build_filter, literal_regex
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
    assert {"+33", "0320065126", "320065126"} <= set(keys["search_tokens"])
    assert keys["sort_last_name"] == "desnotes"
    assert keys["subscription_statuses"] == ["subscribed"]


def test_query_values_are_literal_text_never_operators():
    query = build_filter("acct-1", ContactQuery(q='{"$where": "1"} .*'))
    assert query["search_tokens"] == "where"  # plain strings: the runs of letters or digits, and the words as typed
    assert query["$and"] == [{"search_tokens": "1"}, {"search_text": {"$regex": literal_regex('{"$where":')}},
                             {"search_text": {"$regex": literal_regex('"1"}')}}]
    assert literal_regex("a.b*(c)") == r"a\.b\*\(c\)"


def test_a_phone_like_query_searches_its_digits():
    query = build_filter("acct-1", ContactQuery(q="03 20 06"))
    assert query["search_tokens"] == "032006" and "$and" not in query
    international = build_filter("acct-1", ContactQuery(q="+33 3 20 06"))
    assert international["search_tokens"] == "32006"
    assert international["$and"] == [{"phones.e164": {"$regex": r"^\+3332006"}}]


def louise_tokens() -> set[str]:
    return set(contact_tokens(normalize_details({
        "first_name": "Louise", "last_name": "Desnotés", "company": "Maison du Papier", "job_title": "Gérante",
        "emails": [{"address": "Louise.Desnotes@Maison-Papier.fr"}], "phones": [{"number": "06 12 34 56 78"}],
    })))


def test_tokens_are_folded_word_prefixes_of_names_company_and_title():
    tokens = louise_tokens()
    assert {"lo", "lou", "louise", "desn", "desnot", "desnotes", "maison", "du", "pap", "papier", "gerant"} <= tokens
    assert not {"Louise", "desnotés", "esnotes", "ouise", "maison du"} & tokens  # no case, accents, infixes
    assert {"l", "d"} <= tokens  # one letter: a search box's first keystroke stays an indexed equality
    assert not {"desnote", "gerante"} & tokens  # lengths without a token: found by a shorter one


def test_tokens_hold_the_prefixes_of_each_part_of_an_email():
    tokens = louise_tokens()
    assert {"louise", "desnotes", "maison", "papier", "fr"} <= tokens
    assert not {"louise.desnotes", "maison-papier.fr", "@maison"} & tokens  # the query checks those as typed


def test_tokens_hold_phone_digit_prefixes_as_dialled_at_home_and_its_last_digits():
    tokens = louise_tokens()
    assert {"061", "0612", "0612345678", "612", "61234", "612345678", "+33"} <= tokens
    assert {"5678", "45678", "2345678", "12345678"} <= tokens
    assert not {"06", "678", "1234"} & tokens  # under 3 digits; suffixes of 4 or more; no infixes
    assert not {"336", "33612", "33612345678", "3612345678"} & tokens  # "+33 6 12": "612", then E.164 (search_terms)


def test_a_long_name_and_a_phone_give_few_tokens():
    tokens = contact_tokens(normalize_details({
        "first_name": "Maximilienne", "last_name": "Papeteriedesartsetmetiersdelouest",
        "phones": [{"number": "+33 6 12 34 56 78"}],
    }))
    phone = [t for t in tokens if t[0] in "+0123456789"]
    assert len(tokens) - len(phone) == 9 + 11  # lengths 1-6, 8, 10, 12 (and 16, 20): not 12 + 20
    assert len(phone) == 1 + 8 + 7 + 5  # +33; 061...; 612...; 5678...12345678: not 30
    assert len(set(tokens)) == len(tokens)


def test_tokens_are_bounded_and_names_come_first():
    details = normalize_details({
        "first_name": "Louise", "last_name": "Desnotés", "company": "Papeteriedesartsetmetiersdelouest",
        "emails": [{"address": f"adresse.numero{i}.tres.longue@domaine{i}.exemple.fr"} for i in range(50)],
        "phones": [{"number": f"+33 6 12 34 {i // 10}{i % 10} 00"} for i in range(50)],
    })
    tokens = contact_tokens(details)
    assert len(tokens) == MAX_TOKENS and len(set(tokens)) == len(tokens)
    assert max(len(t) for t in tokens) == MAX_TOKEN_LENGTH
    assert {"louise", "desnotes", "adress", "numero", "domain"} <= set(tokens)


def test_query_terms_are_folded_words_longest_first():
    assert search_terms("Louise  DESNOTÉS") == SearchTerms(["desnotes", "louise"], [])
    assert search_terms("louise louise").tokens == ["louise"]
    assert search_terms("@maison-papier.fr") == SearchTerms(["maison", "papier", "fr"], ["@maison-papier.fr"])
    assert search_terms("+33 6 12") == SearchTerms(["612"], [], phone_start="+33612")
    assert search_terms("+33 6") == SearchTerms(["+33"], [], phone_start="+336")
    # as French business cards print it: the same number
    assert search_terms("+33 (0)6 12") == search_terms("(+33) 6 12") == search_terms("+33 6 12")
    # Italy dials its 0 from abroad too: (0) is part of the number there
    assert search_terms("+39 (0)2 1234") == SearchTerms(["021234"], [], phone_start="+39021234")
    assert search_terms("06 12") == SearchTerms(["0612"], []) and search_terms("00 12") == SearchTerms(["0012"], [])
    assert search_terms("612 34") == SearchTerms(["61234"], []) and search_terms("+999 12").tokens == ["+99912"]
    assert search_terms("12 ab").tokens == ["12", "ab"]  # not a phone number: words
    assert search_terms("louise -") == SearchTerms(["louise"], [])  # punctuation alone asks nothing more
    assert search_terms("- .*") == SearchTerms(["-"], [])  # nor less: it finds nothing, not everything


def test_a_query_word_longer_than_a_token_is_checked_whole_against_the_text():
    word = "desnotesdesnotesdesnotes"
    assert search_terms(word) == SearchTerms([word[:MAX_TOKEN_LENGTH]], [word])
    query = build_filter("acct-1", ContactQuery(q=word))
    assert query["search_tokens"] == word[:MAX_TOKEN_LENGTH]
    assert query["$and"] == [{"search_text": {"$regex": WORD_START + word}}]


def test_every_word_of_a_query_must_match_and_the_longest_goes_first():
    query = build_filter("acct-1", ContactQuery(q="lou desnotes", labels_any=["client"]))
    assert query["search_tokens"] == "desnotes" and query["labels"] == "client"
    assert query["$and"] == [{"search_tokens": "lou"}]
    address = build_filter("acct-1", ContactQuery(q="Louise.Desnotes@maison"))
    assert address["search_tokens"] == "desnotes"
    assert address["$and"] == [{"search_tokens": "louise"}, {"search_tokens": "maison"},
                               {"search_text": {"$regex": WORD_START + literal_regex("louise.desnotes@maison")}}]


def test_a_contact_with_much_text_keeps_its_first_phone_findable():
    details = normalize_details({
        "first_name": "Louise", "last_name": "Desnotés", "company": "Papeteriedesartsetmetiersdelouest",
        "job_title": "Responsable des achats et de la logistique internationale",
        "emails": [{"address": f"{_word(i)}@{_word(i + 100)}.fr"} for i in range(20)],  # 19 tokens each
        "phones": [{"number": "+33 6 98 76 54 32"}],
    })
    tokens = set(contact_tokens(details))
    assert len(tokens) == MAX_TOKENS  # the emails alone would fill the tokens
    assert {"0698765432", "5432", "698"} <= tokens  # its phone, as typed whole or by its last digits


def _word(seed: int) -> str:
    """18 letters that share no prefix with another seed's."""
    return "".join(chr(97 + (seed * 7 + k * k + seed // 26 * (k + 3)) % 26) for k in range(18))


def test_digits_typed_alone_or_beside_a_name_find_a_code_and_a_phone_by_one_token():
    """Review of the fewer tokens: a code's 7-digit run had no token of its length, so `1234567` (read as a phone
    number: one token) found nothing, and `jean 0612345` checked the digits on `search_text`, which holds no phone."""
    tokens = set(contact_tokens(normalize_details({"first_name": "Jean", "code": "C-1234567",
                                                   "phones": [{"number": "06 12 34 56 78"}]})))
    assert {"1", "123", "1234567"} <= tokens
    assert search_terms("1234567") == SearchTerms(["1234567"], [])
    assert search_terms("jean 0612345") == SearchTerms(["0612345", "jean"], [])
    assert "0612345" in tokens
