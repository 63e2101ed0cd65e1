"""Reading uploaded tables: encodings, delimiters, row numbers, overrides."""
import codecs

import pytest

from contacts.importing import InvalidImportOptions, UnreadableFile, read_table


def rows(table):
    return [(row.number, row.cells) for row in table.rows()]


@pytest.mark.parametrize("encoding, prefix, expected", [
    ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
    ("utf-8", b"", "utf-8"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
    ("utf-16-le", b"", "utf-16-le"),
    ("cp1252", b"", "cp1252"),
])
def test_encodings_are_detected_and_accents_come_out_right(encoding, prefix, expected):
    text = "Prénom;Nom;Société\r\nLouise;Desnotés;Maison du Papier – Lœuf\r\n"
    if encoding == "cp1252":
        text = text.replace("Lœuf", "Lœuf €")
    table = read_table(prefix + text.encode(encoding))
    assert table.encoding == expected
    assert table.header == ["Prénom", "Nom", "Société"]
    assert rows(table)[0][1][1] == "Desnotés"
    assert rows(table)[0][1][2].startswith("Maison du Papier – Lœuf")


def test_valid_utf8_is_preferred_to_any_guess():
    assert read_table("Nom\nÉlodie\n".encode("utf-8")).encoding == "utf-8"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_giving_a_consistent_table_wins(delimiter):
    lines = [["Prénom", "Nom", "Adresse"], ["Louise", "Desnotés", "12, rue de la Paix; Bât B"], ["Jean", "Dupont", ""]]
    text = "".join(delimiter.join(f'"{cell}"' if delimiter in cell or "," in cell or ";" in cell else cell
                                  for cell in line) + "\r\n" for line in lines)
    table = read_table(text.encode())
    assert table.delimiter == delimiter
    assert rows(table) == [(2, ["Louise", "Desnotés", "12, rue de la Paix; Bât B"]), (3, ["Jean", "Dupont", ""])]


def test_commas_inside_semicolon_rows_do_not_fool_detection():
    text = "Nom;Adresse;Ville\nA;1, rue X;Lille\nB;2, rue Y, bis;Arras\nC;3 rue Z;Douai\n"
    assert read_table(text.encode()).delimiter == ";"


def test_row_numbers_count_blank_lines_but_not_continuation_lines():
    text = 'Nom,Note\r\n\r\nA,"deux\r\nlignes"\r\n\r\n\r\nB,x\r\n'
    assert rows(read_table(text.encode())) == [(3, ["A", "deux\r\nlignes"]), (6, ["B", "x"])]


def test_trailing_empty_columns_are_trimmed_and_short_rows_padded():
    table = read_table(b"a,b,c,,,\r\n1,2,3,,,\r\n4\r\n5,6,7,8\r\n")
    assert table.header == ["a", "b", "c"]
    assert rows(table) == [(2, ["1", "2", "3"]), (3, ["4", "", ""]), (4, ["5", "6", "7", "8"])]


def test_blank_lines_before_the_header_and_excel_sep_line():
    table = read_table(b"sep=;\r\nNom;Ville\r\nA,B;Lille\r\n")
    assert (table.delimiter, table.header, table.header_row) == (";", ["Nom", "Ville"], 2)
    assert rows(table) == [(3, ["A,B", "Lille"])]
    table = read_table(b"\r\n\r\nNom,Ville\r\nA,Lille\r\n")
    assert table.header_row == 3 and rows(table) == [(4, ["A", "Lille"])]


def test_overrides_are_used_as_given():
    data = "Nom;Ville\nDesnotés;Lille\n".encode("cp1252")
    table = read_table(data, encoding="latin-1", delimiter=",")
    assert (table.encoding, table.delimiter, table.header) == ("latin-1", ",", ["Nom;Ville"])


def test_bad_overrides_are_typed_errors_naming_the_option():
    with pytest.raises(InvalidImportOptions) as unknown:
        read_table(b"a,b\n", encoding="klingon-8")
    assert "encoding" in unknown.value.errors
    with pytest.raises(InvalidImportOptions) as wrong:
        read_table("é\n".encode("cp1252"), encoding="utf-8")
    assert "not valid utf-8" in wrong.value.errors["encoding"][0]
    for delimiter in ("", ";;", "tab", "\"", "\n"):
        with pytest.raises(InvalidImportOptions) as bad:
            read_table(b"a,b\n", delimiter=delimiter)
        assert list(bad.value.errors) == ["delimiter"]
    assert unknown.value.status == 422


def test_an_empty_file_is_unreadable():
    for data in (b"", b"\r\n\r\n", codecs.BOM_UTF8):
        with pytest.raises(UnreadableFile) as empty:
            read_table(data)
        assert "file" in empty.value.errors


def test_rows_can_be_read_more_than_once():
    table = read_table(b"a\n1\n2\n")
    assert rows(table) == rows(table) == [(2, ["1"]), (3, ["2"])]


def test_detection_reads_only_the_start_of_a_big_file():
    row = "Louise;Desnotés;12, rue de la Paix;Lille\r\n"
    table = read_table(("Prénom;Nom;Adresse;Ville\r\n" + row * 5000).encode("cp1252"))
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert sum(1 for _ in table.rows()) == 5000
    assert "text" not in repr(table)


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF32_BE, "utf-32-be")])
def test_a_file_whose_text_holds_a_nul_character_is_unreadable(bom, codec):
    """UTF-16 and UTF-32 carry NUL bytes, but a NUL character in their text would reach the import's job and
    records (a header cell), which FerretDB refuses to store: a 500 when the import starts, before this."""
    data = bom + "first_name\x00,email\nA,a@example.com\n".encode(codec)
    with pytest.raises(UnreadableFile) as caught:
        read_table(data)
    assert "NUL" in caught.value.errors["file"][0]


def test_an_encoding_override_that_reads_nul_characters_names_the_encoding():
    data = "first_name,email\n".encode("utf-16-le")
    with pytest.raises(InvalidImportOptions) as caught:
        read_table(data, encoding="utf-8")
    assert "NUL" in caught.value.errors["encoding"][0]
