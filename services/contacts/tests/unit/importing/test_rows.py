"""Converting rows: values, multi-valued cells, problems, options, and the failed-rows file."""
import pytest

from contacts.importing import (
    ColumnMapping as C, CsvStyle, ImportOptions, RowConverter, convert_row, failed_rows_csv, read_table,
    suggest_mapping,
)
from contacts.importing.cell_values import guard_formula, parse_date, parse_number, unguard_formula

TYPES = {"budget": "number", "signed": "date", "site": "url", "note": "text"}


@pytest.mark.parametrize("cell, expected", [
    ("1234.5", 1234.5), ("1 234,5", 1234.5), ("1\u202f234,50 €", 1234.5), ("1,234.5", 1234.5), ("1.234,5", 1234.5),
    ("-3", -3), ("+7", 7), ("12", 12), ("1,5e+20", 1.5e20), ("1.234.567", 1234567), ("0,1", 0.1), ("abc", None),
    ("", None), ("nan", None), ("inf", None), ("1,2,3.4", 123.4),
])
def test_numbers(cell, expected):
    assert parse_number(cell) == expected
    assert type(parse_number(cell)) is type(expected)


@pytest.mark.parametrize("cell, expected", [
    ("2024-03-05", "2024-03-05"), ("05/03/2024", "2024-03-05"), ("5.3.2024", "2024-03-05"), ("05-03-2024", "2024-03-05"),
    ("2024-03-05 00:00:00", "2024-03-05"), ("2024-03-05T10:00:00Z", "2024-03-05"), ("31/02/2024", None),
    ("03/2024", None), ("demain", None),
])
def test_dates(cell, expected):
    assert parse_date(cell) == expected


@pytest.mark.parametrize("value", ["=1+1", "+33 6 12", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''+1"])
def test_formula_guard_is_undone_by_import(value):
    guarded = guard_formula(value)
    assert guarded == "'" + value
    assert unguard_formula(guarded) == value


@pytest.mark.parametrize("value", ["Louise", "'quoted'", "", "a=b", "'"])
def test_harmless_cells_are_not_guarded(value):
    assert guard_formula(value) == value == unguard_formula(value)


def test_a_row_becomes_details_labels_and_custom_values():
    mapping = [C("first_name"), C("last_name"), C("function"), C("email", 1, "work"), C("email.subscription_status", 1),
               C("phone", 1), C("phone.tag", 1), C("address.street", 1, "billing"), C("address.country", 1),
               C("custom_field", key="budget"), C("custom_field", key="signed"), C("custom_field", key="site"),
               C("labels"), C("skip")]
    cells = ["Louise", "Desnotés", "Direction", "louise@maison-papier.fr", "Abonnée", "'+33 6 12 34 56 78", "Portable",
             "12 rue de la Paix\nBât B", "Belgique", "1 500,5", "01/02/2024", "maison-papier.fr", "Clients; VIP", "x"]
    converted = convert_row(cells, mapping, TYPES, row_number=7)
    assert converted.row_number == 7 and converted.problems == []
    assert converted.details == {
        "first_name": "Louise", "last_name": "Desnotés", "function": "Direction",
        "emails": [{"address": "louise@maison-papier.fr", "tag": "work", "primary": False,
                    "subscription_status": "subscribed"}],
        "phones": [{"number": "+33 6 12 34 56 78", "tag": "mobile", "primary": False}],
        "addresses": [{"tag": "billing", "street": ["12 rue de la Paix", "Bât B"], "country": "BE"}],
        "custom_fields": {"budget": 1500.5, "signed": "2024-02-01", "site": "https://maison-papier.fr"},
    }
    assert converted.label_names == ["Clients", "VIP"]


def test_empty_cells_give_nothing():
    mapping = [C("first_name"), C("email", 1), C("address.city", 1), C("custom_field", key="note"), C("labels")]
    assert convert_row(["Louise", " ", "", "", ""], mapping, TYPES).details == {"first_name": "Louise"}


def test_multi_valued_cells():
    mapping = [C("email", 1, "work"), C("email.primary", 1), C("phone", 1, "mobile"), C("website", 1), C("labels")]
    cells = ["a@x.fr; b@x.fr,c@x.fr\nd@x.fr", "oui", "06 12 34 56 78 ::: 06 98 76 54 32",
             "https://a.fr/x,y https://b.fr", "* myContacts ::: Amis ::: * starred ::: Famille"]
    details = convert_row(cells, mapping).details
    assert [(e["address"], e["tag"], e["primary"]) for e in details["emails"]] == [
        ("a@x.fr", "work", True), ("b@x.fr", "work", False), ("c@x.fr", "work", False), ("d@x.fr", "work", False)]
    assert [p["number"] for p in details["phones"]] == ["06 12 34 56 78", "06 98 76 54 32"]
    assert details["websites"] == ["https://a.fr/x,y", "https://b.fr"]
    assert convert_row(cells, mapping).label_names == ["Amis", "Famille"]


def test_labels_with_commas_survive_when_one_per_line():
    assert convert_row(["Paris, Lyon\n", ], [C("labels")]).label_names == ["Paris, Lyon"]
    assert convert_row(["A\nB; C"], [C("labels")]).label_names == ["A", "B; C"]


def test_only_the_first_primary_entry_stays_primary():
    mapping = [C("phone", 1), C("phone.primary", 1), C("phone", 2), C("phone.primary", 2)]
    details = convert_row(["01 02 03 04 05", "yes", "06 07 08 09 10", "x"], mapping).details
    assert [p["primary"] for p in details["phones"]] == [True, False]


def test_too_many_street_lines_are_folded_into_the_last():
    mapping = [C("address.street", 1), C("address.street2", 1), C("address.street3", 1)]
    details = convert_row(["1 rue A\nEntrée B", "Bât C", "BP 12"], mapping).details
    assert details["addresses"][0]["street"] == ["1 rue A", "Entrée B", "Bât C, BP 12"]


def test_unreadable_cells_are_reported_and_left_out():
    mapping = [C("first_name"), C("custom_field", key="budget"), C("custom_field", key="signed"),
               C("address.country", 1), C("address.city", 1), C("email", 1), C("email.deliverability", 1),
               C("email.primary", 1), C("custom_field", key="gone")]
    header = ["Prénom", "Budget", "Signé le", "Pays", "Ville", "Email", "Délivrabilité", "Principal", "Ancien"]
    cells = ["Louise", "beaucoup", "hier", "Groland", "Lille", "l@x.fr", "perdu", "peut-être", "x", "extra"]
    converted = convert_row(cells, mapping, TYPES, header=header)
    assert [(p.column, p.header) for p in converted.problems] == [
        (1, "Budget"), (2, "Signé le"), (3, "Pays"), (6, "Délivrabilité"), (7, "Principal"), (8, "Ancien"), (9, "")]
    assert str(converted.problems[0]) == "Budget: 'beaucoup' is not a number"
    assert str(converted.problems[-1]) == "column 10: this cell is past the last column of the header"
    assert converted.details["addresses"] == [{"city": "Lille"}]
    assert "custom_fields" not in converted.details


def test_mark_subscribed_respects_an_explicit_unsubscription():
    mapping = [C("email", 1), C("email", 2), C("email.subscription_status", 2)]
    details = convert_row(["a@x.fr", "b@x.fr", "désabonné"], mapping, options=ImportOptions(mark_subscribed=True)).details
    assert [e["subscription_status"] for e in details["emails"]] == ["subscribed", "unsubscribed"]


def test_new_custom_fields_must_be_resolved_before_converting():
    with pytest.raises(ValueError):
        RowConverter([C("new_custom_field", name="Taille", type="number")])


def test_failed_rows_file_re_imports_with_the_same_mapping():
    header = ["Prénom", "Email", "Budget"]
    data = failed_rows_csv(header, [(3, ["Louise", "pas-un-email", "=1+1"], ["Email: invalide", "Budget: pas un nombre"]),
                                    (9, ["Jean"], ["Nom manquant"])])
    assert data.decode().splitlines()[0] == "Prénom,Email,Budget,Error,Row"
    table = read_table(data)
    assert [(row.number, row.cells) for row in table.rows()] == [
        (2, ["Louise", "pas-un-email", "'=1+1", "Email: invalide; Budget: pas un nombre", "3"]),
        (3, ["Jean", "", "", "Nom manquant", "9"])]
    mapping = suggest_mapping(table.header, [{"key": "budget", "name": "Budget", "type": "text"}])
    assert [c.target for c in mapping] == ["first_name", "email", "custom_field", "skip", "skip"]
    converted = convert_row(next(table.rows()).cells, mapping, {"budget": "text"})
    assert converted.details["custom_fields"] == {"budget": "=1+1"} and converted.problems == []
    again = failed_rows_csv(table.header, [(2, next(table.rows()).cells, ["encore"])], style=CsvStyle.of(True))
    assert again.startswith(b"\xef\xbb\xbfPr\xc3\xa9nom;Email;Budget;Error;Row\r\n")


def test_a_notes_column_becomes_the_rows_note_with_its_lines():
    """Google's 'Notes' column (multi-line) is a note on the contact, not a contact field."""
    header = ["First Name", "Notes", "E-mail 1 - Value"]
    mapping = suggest_mapping(header)
    assert [column.target for column in mapping] == ["first_name", "note", "email"]
    converted = convert_row(["Louise", "  Rencontrée au salon\nRappeler en mars  ", "louise@papier.fr"], mapping,
                            header=header)
    assert converted.note == "Rencontrée au salon\nRappeler en mars"
    assert "note" not in converted.details and converted.problems == []
    assert convert_row(["Paul", " ", ""], mapping, header=header).note == ""


@pytest.mark.parametrize("encoding, delimiter, starts_with", [
    ("cp1252", ";", b"Pr\xe9nom;Email;Error;Row\r\n"),             # French Excel's CSV
    ("utf-16-le", "\t", "\ufeffPrénom\tEmail".encode("utf-16-le")),  # Excel's "Unicode text", with its BOM
    ("utf-8-sig", ",", b"\xef\xbb\xbfPr\xc3\xa9nom,Email"),
    ("utf-8", ",", b"Pr\xc3\xa9nom,Email"),
])
def test_failed_rows_are_offered_in_the_uploaded_files_encoding_and_delimiter(encoding, delimiter, starts_with):
    """A French Excel user opens the failed rows as they opened their own file (issue 9)."""
    style = CsvStyle.like_upload(encoding, delimiter)
    data = failed_rows_csv(["Prénom", "Email"], [(3, ["Hélène", "pas-un-email"], ["Email: invalide « x »"])],
                           style=style)
    assert data.startswith(starts_with)
    table = read_table(data)  # and it reads back, detected as such
    assert table.delimiter == delimiter and table.header == ["Prénom", "Email", "Error", "Row"]
    assert next(table.rows()).cells == ["Hélène", "pas-un-email", "Email: invalide « x »", "3"]


def test_a_reason_the_uploaded_encoding_cannot_write_is_written_with_a_stand_in():
    data = failed_rows_csv(["Nom"], [(2, ["Zoë"], ["contient ❌"])], style=CsvStyle.like_upload("cp1252", ";"))
    assert data.decode("cp1252").splitlines()[1] == "Zoë;contient ?;2"
