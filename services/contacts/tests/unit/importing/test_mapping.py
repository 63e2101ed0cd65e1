"""Suggested mappings for every kind of header, and the mapping validator."""
import pytest

from contacts.importing import (
    ColumnMapping, ExportLayout, InvalidMapping, check_mapping, mapping_from_json, mapping_to_json,
    new_custom_fields, resolve_new_custom_fields, standard_columns, suggest_mapping,
)

CUSTOM_FIELDS = [{"key": "budget", "name": "Budget", "type": "number"},
                 {"key": "date-de-signature", "name": "Date de signature", "type": "date"}]


def targets(header, custom_fields=()):
    return [column.to_json() for column in suggest_mapping(header, custom_fields)]


@pytest.mark.parametrize("header, expected", [
    ("Prénom", "first_name"), ("PRENOM", "first_name"), ("First name", "first_name"), ("Nom", "last_name"),
    ("Nom de famille", "last_name"), ("Entreprise", "company"), ("Société", "company"), ("Raison sociale", "company"),
    ("Fonction", "function"), ("Poste", "job_title"), ("Service", "department"), ("Département", "department"),
    ("N° TVA", "vat_number"), ("TVA intracommunautaire", "vat_number"), ("Code client", "code"),
    ("Étiquettes", "labels"), ("Catégorie", "labels"), ("Site web", "website"), ("Code postal", "address.postal_code"),
    ("CP", "address.postal_code"), ("Ville", "address.city"), ("Pays", "address.country"), ("Région", "address.region"),
    ("Adresse", "address.street"), ("Complément d'adresse", "address.street2"), ("E-mail", "email"),
    ("Courriel", "email"), ("Adresse e-mail", "email"), ("Téléphone", "phone"), ("Tél.", "phone"),
    ("Portable", "phone"), ("Mobile", "phone"), ("Fixe", "phone"), ("Notes", "note"), ("Date de naissance", "skip"),
])
def test_french_and_english_synonyms(header, expected):
    assert targets([header])[0]["target"] == expected


def test_tags_come_from_header_words():
    assert targets(["Portable", "Fax", "Ligne directe", "Tél. bureau", "E-mail perso", "Email pro"]) == [
        {"target": "phone", "slot": 1, "tag": "mobile"}, {"target": "phone", "slot": 2, "tag": "fax"},
        {"target": "phone", "slot": 3, "tag": "direct_line"}, {"target": "phone", "slot": 4, "tag": "work"},
        {"target": "email", "slot": 1, "tag": "home"}, {"target": "email", "slot": 2, "tag": "work"},
    ]


def test_address_parts_group_by_tag_and_start_a_new_slot_when_repeated():
    header = ["Adresse de facturation", "Ville de facturation", "Adresse de livraison", "Ville de livraison",
              "Ville", "Pays", "Ville"]
    assert targets(header) == [
        {"target": "address.street", "slot": 1, "tag": "billing"}, {"target": "address.city", "slot": 1, "tag": "billing"},
        {"target": "address.street", "slot": 2, "tag": "shipping"}, {"target": "address.city", "slot": 2, "tag": "shipping"},
        {"target": "address.city", "slot": 3}, {"target": "address.country", "slot": 3}, {"target": "address.city", "slot": 4},
    ]


def test_a_status_column_binds_to_the_email_before_it():
    assert targets(["Newsletter", "E-mail", "E-mail 2", "Abonnement"]) == [
        {"target": "email.subscription_status", "slot": 1}, {"target": "email", "slot": 1},
        {"target": "email", "slot": 2}, {"target": "email.subscription_status", "slot": 2},
    ]


def test_repeated_columns_are_skipped_so_the_suggestion_is_valid():
    header = ["Prénom", "First name", "Budget", "budget", "Code", "Code client"]
    mapping = suggest_mapping(header, CUSTOM_FIELDS)
    assert [c.target for c in mapping] == ["first_name", "skip", "custom_field", "skip", "code", "skip"]
    check_mapping(mapping, len(header), {"budget": "number", "date-de-signature": "date"})


def test_custom_fields_are_matched_by_name_before_synonyms():
    assert targets(["Date de signature", "BUDGET", "Inconnu"], CUSTOM_FIELDS) == [
        {"target": "custom_field", "key": "date-de-signature"}, {"target": "custom_field", "key": "budget"},
        {"target": "skip"},
    ]
    assert targets(["Ville"], [{"key": "ville", "name": "Ville", "type": "text"}]) == [
        {"target": "custom_field", "key": "ville"}]


def test_our_own_header_maps_back_exactly_even_with_clashing_custom_field_names():
    fields = [*CUSTOM_FIELDS, {"key": "code-2", "name": "Code", "type": "text"},
              {"key": "budget-2", "name": "budget", "type": "text"}, {"key": "error", "name": "Error", "type": "text"},
              {"key": "email-3", "name": "Email 3", "type": "text"}]
    columns = standard_columns(ExportLayout(emails=2, phones=3, addresses=2, websites=2, custom_fields=tuple(fields)))
    header = [name for name, _ in columns]
    assert header[-6:] == ["Budget", "Date de signature", "Code [code-2]", "budget [budget-2]", "Error [error]",
                           "Email 3 [email-3]"]
    assert suggest_mapping(header, fields) == [column for _, column in columns]


def test_slots_beyond_the_domain_limit_are_skipped():
    mapping = suggest_mapping(["Téléphone"] * 52)
    assert [c.slot for c in mapping[:50]] == list(range(1, 51)) and mapping[50:] == [ColumnMapping()] * 2
    check_mapping(mapping, 52)


def test_failed_rows_columns_are_skipped():
    assert targets(["Nom", "Error", "Row"]) == [{"target": "last_name"}, {"target": "skip"}, {"target": "skip"}]


def test_formula_guard_on_header_names_is_ignored():
    assert targets(["'=Budget"], [{"key": "f", "name": "=Budget", "type": "text"}]) == [
        {"target": "custom_field", "key": "f"}]


def test_mapping_json_round_trip():
    mapping = [ColumnMapping("first_name"), ColumnMapping("email", slot=1, tag="work"),
               ColumnMapping("custom_field", key="budget"), ColumnMapping("new_custom_field", name="Taille", type="number"),
               ColumnMapping()]
    data = mapping_to_json(mapping)
    assert data[1] == {"target": "email", "slot": 1, "tag": "work"} and data[4] == {"target": "skip"}
    assert mapping_from_json(data, 5, {"budget": "number"}) == mapping


def test_validator_reports_problems_per_column():
    data = [{"target": "prenom"}, {"target": "email", "tag": "work"}, {"target": "phone", "slot": 1, "tag": "pager"},
            {"target": "custom_field", "key": "nope"}, {"target": "new_custom_field", "name": " ", "type": "money"},
            {"target": "first_name", "slot": 2}, {"target": "address.city", "slot": 1, "tag": "home"},
            {"target": "address.country", "slot": 1, "tag": "work"}, {"target": "email", "slot": 1},
            {"target": "email", "slot": 1}, {"target": "labels"}, {"target": "labels"}]
    with pytest.raises(InvalidMapping) as excinfo:
        mapping_from_json(data, len(data), {"budget": "number"})
    problems = excinfo.value.errors["columns"]
    assert problems["0"] == ["unknown target 'prenom'"]
    assert problems["1"] == ["give a slot from 1 to 50"]
    assert problems["2"][0].startswith("tag must be one of main")
    assert problems["3"] == ["no custom field with key 'nope'"]
    assert problems["4"] == ["give the new custom field's name", "type must be one of text, number, date, url"]
    assert problems["5"] == ["only email, phone, address and website columns have a slot"]
    assert problems["7"] == ["another column gives address 1 the tag 'home'"]
    assert problems["9"] == ["column 8 already feeds this"]
    assert set(problems) == {"0", "1", "2", "3", "4", "5", "7", "9"}


def test_validator_checks_shape_and_column_count():
    with pytest.raises(InvalidMapping):
        mapping_from_json({"0": "first_name"}, 1)
    with pytest.raises(InvalidMapping) as excinfo:
        mapping_from_json([{"target": "email", "slot": "1", "colour": "red", "tag": 3}], 1)
    assert excinfo.value.errors["columns"]["0"] == [
        "unknown properties: colour", "slot must be a whole number", "tag must be a string"]
    with pytest.raises(InvalidMapping) as excinfo:
        mapping_from_json([{"target": "skip"}], 2)
    assert excinfo.value.errors["_schema"]


def test_new_custom_fields_are_listed_then_resolved_to_keys():
    mapping = [ColumnMapping("first_name"), ColumnMapping("new_custom_field", name="Taille", type="number")]
    assert new_custom_fields(mapping) == [("Taille", "number")]
    assert resolve_new_custom_fields(mapping, {"Taille": "taille"})[1] == ColumnMapping("custom_field", key="taille")
