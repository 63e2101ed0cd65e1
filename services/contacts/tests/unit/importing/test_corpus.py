"""Real-world-shaped files from corpus/, read end to end and checked field by field.

Each file goes through read_table, suggest_mapping, convert_row and the
domain's normalize_details, as an import does.
"""
from pathlib import Path

import pytest

from contacts.domain.model import normalize_details
from contacts.importing import RowConverter, UnreadableFile, read_table, read_vcards, suggest_mapping

CORPUS = Path(__file__).parent / "corpus"
RAW: dict = {}  # converted details by file and row, for fields normalize_details does not know yet


def imported(name):
    table = read_table((CORPUS / name).read_bytes())
    converter = RowConverter(suggest_mapping(table.header), header=table.header)
    results, raw = [], RAW.setdefault(name, {})
    for row in table.rows():
        converted = converter.convert(row.cells, row.number)
        assert converted.problems == []
        results.append((row.number, normalize_details(converted.details), converted.label_names))
        raw[row.number] = converted.details
    return table, results


def phones(details):
    return [(p["number"], p["tag"], p["e164"]) for p in details["phones"]]


def emails(details):
    return [(e["address"], e["tag"], e["primary"]) for e in details["emails"]]


def test_excel_fr_windows_1252():
    table, contacts = imported("excel_fr_windows1252.csv")
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    (_, louise, _), (_, cecile, _), (number, benoit, _) = contacts
    assert (louise["first_name"], louise["last_name"], louise["company"]) == ("Louise", "Desnotés", "Maison du Papier")
    assert phones(louise) == [("03 20 06 51 26", "main", "+33320065126"), ("06 12 34 56 78", "mobile", "+33612345678")]
    assert emails(louise) == [("louise@maison-papier.fr", "main", True)]
    assert louise["addresses"] == [{"tag": "home", "street": [], "postal_code": "59000", "city": "Lille", "country": "FR"}]
    assert (cecile["last_name"], cecile["company"]) == ("Lœuillet", "Bœuf & Cie – Traiteur")
    assert cecile["addresses"][0]["country"] == "FR"
    assert (number, benoit["first_name"], benoit["last_name"], benoit["company"]) == (4, "Benoît", "Garçon", "Ça Va Crémerie")
    assert benoit["phones"] == [] and benoit["addresses"][0]["country"] == "BE"


def test_utf8_with_bom_and_commas():
    table, [(_, louise, louise_labels), (_, zoe, zoe_labels)] = imported("utf8_bom_comma.csv")
    assert (table.encoding, table.delimiter, table.header[0]) == ("utf-8-sig", ",", "First Name")
    assert phones(louise) == [("06 12 34 56 78", "mobile", "+33612345678"), ("03 20 06 51 26", "work", "+33320065126")]
    assert louise_labels == ["Clients", "VIP"]
    assert (zoe["first_name"], zoe["last_name"], zoe["company"]) == ("Zoë", "Brontë", "Brontë & Fils, SARL")
    assert zoe["addresses"][0]["country"] == "GB" and zoe_labels == ["Prospects"]


def test_utf8_semicolons_with_french_headers():
    table, [(_, francois, _), (_, anais, _)] = imported("utf8_semicolon.csv")
    assert (table.encoding, table.delimiter) == ("utf-8", ";")
    assert (francois["first_name"], francois["last_name"]) == ("François", "Lefèvre")
    assert francois["vat_number"] == "FR40303265045"
    assert francois["websites"] == ["https://www.crepes.fr"]
    assert francois["addresses"] == [{"tag": "home", "street": ["12, rue de l'Église"], "postal_code": "75004",
                                      "city": "Paris", "country": "FR"}]
    assert anais["company"] == "L'Œuf Cocotte" and anais["addresses"][0]["country"] == "BE"
    assert phones(anais) == [("+32 2 555 12 12", "main", "+3225551212")]


def test_excel_unicode_text_is_utf16_with_tabs():
    table, [(_, helene, _), (_, jurgen, _)] = imported("excel_unicode_text.txt")
    assert (table.encoding, table.delimiter) == ("utf-16-le", "\t")
    assert (helene["first_name"], helene["last_name"], helene["company"]) == ("Hélène", "Müller", "Éditions Ångström, Zürich")
    assert helene["addresses"][0]["country"] == "CH" and jurgen["addresses"][0]["country"] == "DE"
    assert emails(jurgen) == [("j.schafer@baeckerei.de", "main", True)]


def test_multiline_cells_blank_lines_and_trailing_columns():
    table, contacts = imported("multiline_blank_trailing.csv")
    assert table.header == ["Prénom", "Nom", "Adresse", "Ville", "Notes"]
    assert [number for number, _, _ in contacts] == [2, 4, 7]
    louise, jean, marie = (details for _, details, _ in contacts)
    assert louise["addresses"][0]["street"] == ["12 rue de la Paix", "Bâtiment B, 2e étage"]
    assert jean["addresses"][0]["street"] == ["3, place du Marché"]
    assert (marie["first_name"], marie["last_name"], marie["addresses"]) == ("Marie", "Curie", [])


def test_google_contacts_export():
    _, [(_, louise, labels), (_, marc, marc_labels)] = imported("google_contacts.csv")
    assert (louise["job_title"], RAW["google_contacts.csv"][2]["department"]) == ("Gérante", "Ventes")
    assert emails(louise) == [("louise@maison-papier.fr", "work", True), ("louise.d@gmail.com", "home", False)]
    assert phones(louise) == [("+33 6 12 34 56 78", "mobile", "+33612345678"),
                              ("+33 6 98 76 54 32", "mobile", "+33698765432"),
                              ("+33 3 20 06 51 27", "fax", "+33320065127")]
    assert louise["addresses"] == [{"tag": "work", "street": ["12 rue de la Paix", "Bât B"], "postal_code": "59000",
                                    "city": "Lille", "region": "Hauts-de-France", "country": "FR"}]
    assert louise["websites"] == ["https://maison-papier.fr"]
    assert labels == ["Clients", "VIP"]
    assert emails(marc) == [("marc.petit@example.org", "main", True)] and marc_labels == []


def test_google_contacts_legacy_export():
    _, [(_, louise, labels)] = imported("google_contacts_legacy.csv")
    assert (louise["company"], RAW["google_contacts_legacy.csv"][2]["department"]) == ("Maison du Papier", "Achats")
    assert louise["job_title"] == "Gérante"
    assert emails(louise) == [("louise@maison-papier.fr", "work", True)]
    assert phones(louise) == [("03 20 06 51 26", "work", "+33320065126")]
    assert louise["addresses"][0]["street"] == ["8 allée des Tilleuls", "BP 12"]
    assert louise["addresses"][0]["tag"] == "home" and labels == ["Fournisseurs"]


def test_outlook_export():
    table, [(_, louise, labels)] = imported("outlook_contacts.csv")
    assert table.encoding == "cp1252" and RAW["outlook_contacts.csv"][2]["department"] == "Ventes"
    assert (louise["first_name"], louise["last_name"], louise["job_title"]) == ("Louise", "Desnotés", "Gérante")
    assert emails(louise) == [("louise@maison-papier.fr", "main", True), ("louise.d@gmail.com", "main", False)]
    assert phones(louise) == [("03 20 00 00 01", "home", "+33320000001"), ("06 12 34 56 78", "mobile", "+33612345678"),
                              ("03 20 06 51 26", "work", "+33320065126"), ("03 20 06 51 27", "fax", "+33320065127")]
    home, work = louise["addresses"]
    assert (home["tag"], home["street"], home["city"], home["country"]) == ("home", ["8 allée des Tilleuls"], "Roubaix", "FR")
    assert (work["tag"], work["street"], work["region"]) == ("work", ["12 rue de la Paix", "Bât B"], "Hauts-de-France")
    assert louise["websites"] == ["https://maison-papier.fr"] and labels == ["Clients", "VIP"]


def vcards(name):
    cards = list(read_vcards((CORPUS / name).read_bytes()))
    assert all(card.problems == [] for card in cards)
    return [(card.row_number, normalize_details(card.details), card) for card in cards]


def test_vcard_3():
    (one, louise, card), (two, jean, _) = vcards("contacts_v3.vcf")
    assert (one, two) == (1, 2)
    assert (louise["first_name"], louise["last_name"], louise["company"]) == ("Louise", "Desnotés", "Maison du Papier")
    assert (card.details["department"], card.details["function"], louise["job_title"]) == ("Ventes", "Direction", "Gérante")
    assert emails(louise) == [("louise@maison-papier.fr", "work", True), ("louise.d@gmail.com", "home", False)]
    assert [(number, tag) for number, tag, _ in phones(louise)] == [
        ("+33 3 20 06 51 26", "work"), ("+33 6 12 34 56 78", "mobile"), ("+33 3 20 06 51 27", "fax")]
    assert louise["addresses"] == [{"tag": "work", "street": ["12 rue de la Paix", "Bât B"], "postal_code": "59000",
                                    "city": "Lille", "region": "Hauts-de-France", "country": "FR"}]
    assert card.label_names == ["Clients", "VIP"] and louise["websites"] == ["https://maison-papier.fr"]
    assert emails(jean) == [("jean.dupont@example.org", "main", True)]  # the address was folded over two lines
    assert phones(jean) == [("01 23 45 67 89", "home", "+33123456789")]


def test_vcard_4():
    (_, anais, card), (_, helene, _) = vcards("contacts_v4.vcf")
    assert (anais["first_name"], anais["last_name"], anais["company"]) == ("Anaïs", "Dupré", "L'Œuf Cocotte")
    assert emails(anais) == [("anais@oeuf.be", "work", True)]
    assert phones(anais) == [("+32-2-555-12-12", "work", "+3225551212"), ("+32-470-12-34-56", "mobile", "+32470123456")]
    assert anais["phones"][0]["primary"] and card.label_names == ["Prospects"]
    assert anais["addresses"][0] == {"tag": "home", "street": ["Rue Haute 5"], "postal_code": "1000",
                                     "city": "Bruxelles", "country": "BE"}
    assert (helene["first_name"], helene["last_name"]) == ("Hélène", "Müller")  # no N: split from FN
    assert phones(helene)[0][1] == "fax" and helene["addresses"][0]["country"] == "CH"


def test_vcard_2_1_with_quoted_printable():
    [(_, louise, _)] = vcards("contacts_v21.vcf")
    assert louise["last_name"] == "Desnotés"
    assert [(number, tag) for number, tag, _ in phones(louise)] == [("06 12 34 56 78", "mobile"), ("03 20 06 51 26", "work")]
    assert louise["phones"][0]["primary"]


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".txt")))
def test_every_corpus_table_maps_without_problems(name):
    table, contacts = imported(name)
    assert contacts and all(details for _, details, _ in contacts)


def test_vcard_edge_cases():
    [card] = read_vcards(b"BEGIN:VCARD\nVERSION:3.0\nN:;;;;\nFN:Jean Dupont\nEND:VCARD\n")
    assert card.details == {"first_name": "Jean", "last_name": "Dupont"}
    [card] = read_vcards(b"BEGIN:VCARD\nVERSION:4.0\nFN:ACME\nORG:ACME\nADR:;;1 rue X;Lille;;;Groland\nEND:VCARD\n")
    assert card.details == {"company": "ACME", "addresses": [{"street": ["1 rue X"], "city": "Lille"}]}
    assert [str(problem) for problem in card.problems] == ["ADR: unknown country 'Groland'"]
    for data in (b"", b"not a vcard", b"BEGIN:VCARD\nVERSION:3.0\nFN:x\n"):
        with pytest.raises(UnreadableFile):
            list(read_vcards(data))
