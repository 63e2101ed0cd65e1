"""Export writers: our CSV, Google, Outlook and vCard, streamed in chunks."""
import itertools

import pytest

from contacts.domain.model import normalize_details
from contacts.importing import (
    ExportLayout, LayoutTooSmall, RowConverter, read_table, read_vcards, standard_columns, suggest_mapping,
    template_csv, write_google_csv, write_outlook_csv, write_standard_csv, write_vcards,
)

BUDGET = {"key": "budget", "name": "Budget", "type": "number"}


def contact(**changes):
    details = normalize_details({
        "first_name": "Louise", "last_name": "Desnotés", "company": "Maison du Papier", "job_title": "Gérante",
        "emails": [{"address": "louise@maison-papier.fr", "tag": "work"}, {"address": "l.d@gmail.com", "tag": "home"}],
        "phones": [{"number": "+33 3 20 06 51 26", "tag": "work"}, {"number": "06 12 34 56 78", "tag": "mobile"},
                   {"number": "03 20 06 51 27", "tag": "fax"}],
        "addresses": [{"tag": "work", "street": ["12 rue de la Paix", "Bât B"], "postal_code": "59000", "city": "Lille",
                       "country": "FR"}],
        "websites": ["https://maison-papier.fr"],
        "custom_fields": {"budget": 1234.5},
    }, custom_field_types={"budget": "number"})
    return {**details, "function": "Direction", "department": "Ventes", "labels": ["Clients", "VIP"], **changes}


def reimport(data, custom_fields=()):
    table = read_table(data)
    converter = RowConverter(suggest_mapping(table.header, custom_fields),
                             {f["key"]: f["type"] for f in custom_fields}, header=table.header)
    return [converter.convert(row.cells, row.number) for row in table.rows()]


def test_standard_csv_streams_in_chunks_without_reading_everything_first():
    consumed = []

    def contacts():
        for n in itertools.count():
            consumed.append(n)
            yield contact(code=f"C{n}")

    chunks = write_standard_csv(itertools.islice(contacts(), 250), ExportLayout(2, 3, 1, 1, (BUDGET,)))
    first = next(chunks)
    assert len(consumed) <= 100
    assert first.count(b"\r\n") == 100  # the header and 99 rows
    assert len(list(chunks)) == 2 and len(consumed) == 250


def test_standard_csv_default_and_excel_fr_dialects():
    layout = ExportLayout(2, 3, 1, 1, (BUDGET,))
    plain = b"".join(write_standard_csv([contact()], layout))
    excel = b"".join(write_standard_csv([contact()], layout, excel_fr=True))
    assert plain.startswith(b"First name,Last name,") and plain.endswith(b"\r\n")
    assert excel.startswith(b"\xef\xbb\xbfFirst name;Last name;")
    assert excel.endswith(b";1234,5\r\n") and plain.endswith(b",1234.5\r\n")
    for data in (plain, excel):
        [row] = reimport(data, [BUDGET])
        assert row.problems == [] and row.details["custom_fields"] == {"budget": 1234.5}
        assert normalize_details(row.details, custom_field_types={"budget": "number"}) == normalize_details(
            contact(), custom_field_types={"budget": "number"})
        assert (row.details["function"], row.details["department"], row.label_names) == ("Direction", "Ventes", ["Clients", "VIP"])


def test_cells_that_spreadsheets_would_run_are_neutralised():
    evil = contact(first_name="=HYPERLINK(\"http://evil\")", company="@SUM(1)", code="-2+3")
    data = b"".join(write_standard_csv([evil], ExportLayout(2, 3, 1, 1, (BUDGET,))))
    text = data.decode()
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text and "'-2+3" in text and "'+33 3 20 06 51 26" in text
    [row] = reimport(data, [BUDGET])
    assert (row.details["first_name"], row.details["company"], row.details["code"]) == (
        "=HYPERLINK(\"http://evil\")", "@SUM(1)", "-2+3")
    assert row.details["phones"][0]["number"] == "+33 3 20 06 51 26"


def test_a_layout_too_small_for_a_contact_is_a_caller_error():
    with pytest.raises(LayoutTooSmall):
        b"".join(write_standard_csv([contact()], ExportLayout()))
    layout = ExportLayout.fitting([contact(), contact(websites=[])], [BUDGET])
    assert (layout.emails, layout.phones, layout.addresses, layout.websites, layout.custom_fields) == (2, 3, 1, 1, (BUDGET,))


def test_template_has_our_header_and_a_french_example():
    data = template_csv()
    table = read_table(data)
    assert table.header == [name for name, _ in standard_columns(ExportLayout())]
    [row] = reimport(data)
    details = normalize_details(row.details)
    assert (details["first_name"], details["last_name"], details["company"]) == ("Louise", "Desnotés", "Maison du Papier")
    assert details["emails"][0]["subscription_status"] == "subscribed"
    assert details["addresses"][0]["country"] == "FR" and row.label_names == ["Clients", "Papeterie"]
    assert template_csv(excel_fr=True).startswith(b"\xef\xbb\xbfFirst name;")


def test_google_csv_reads_back_through_its_own_mapping():
    data = b"".join(write_google_csv([contact()], ExportLayout(2, 3, 1, 1)))
    assert data.startswith(b"First Name,Middle Name,Last Name,Organization Name,")
    [row] = reimport(data)
    details = normalize_details(row.details)
    assert (details["first_name"], details["company"], row.details["department"]) == ("Louise", "Maison du Papier", "Ventes")
    assert [(e["address"], e["tag"]) for e in details["emails"]] == [("louise@maison-papier.fr", "work"), ("l.d@gmail.com", "home")]
    assert [(p["number"], p["tag"]) for p in details["phones"]] == [
        ("+33 3 20 06 51 26", "work"), ("06 12 34 56 78", "mobile"), ("03 20 06 51 27", "fax")]
    assert details["addresses"][0]["street"] == ["12 rue de la Paix", "Bât B"]
    assert details["addresses"][0]["country"] == "FR" and row.label_names == ["Clients", "VIP"]


def test_outlook_csv_reads_back_through_its_own_mapping():
    data = b"".join(write_outlook_csv([contact()]))
    table = read_table(data)
    assert table.header[:3] == ["First Name", "Middle Name", "Last Name"] and "Business Fax" in table.header
    [row] = reimport(data)
    details = normalize_details(row.details)
    assert [e["address"] for e in details["emails"]] == ["louise@maison-papier.fr", "l.d@gmail.com"]
    assert sorted((p["number"], p["tag"]) for p in details["phones"]) == [
        ("+33 3 20 06 51 26", "work"), ("03 20 06 51 27", "fax"), ("06 12 34 56 78", "mobile")]
    assert details["addresses"][0]["tag"] == "work" and details["addresses"][0]["city"] == "Lille"
    assert row.label_names == ["Clients", "VIP"] and row.details["department"] == "Ventes"


def test_vcards_read_back():
    chunks = list(write_vcards([contact(), contact(first_name="Jean", emails=[], phones=[])] * 3, cards_per_chunk=4))
    assert len(chunks) == 2 and chunks[0].count(b"BEGIN:VCARD") == 4
    data = b"".join(chunks)
    assert b"\r\nVERSION:3.0\r\n" in data and b"ORG:Maison du Papier;Ventes\r\n" in data
    cards = list(read_vcards(data))
    assert [card.row_number for card in cards] == [1, 2, 3, 4, 5, 6]
    louise = normalize_details(cards[0].details)
    assert (louise["first_name"], louise["last_name"], cards[0].details["function"]) == ("Louise", "Desnotés", "Direction")
    assert [(p["number"], p["tag"], p["primary"]) for p in louise["phones"]] == [
        ("+33 3 20 06 51 26", "work", True), ("06 12 34 56 78", "mobile", False), ("03 20 06 51 27", "fax", False)]
    assert louise["addresses"] == contact()["addresses"] and cards[0].label_names == ["Clients", "VIP"]
    assert cards[1].details["first_name"] == "Jean" and "emails" not in cards[1].details
