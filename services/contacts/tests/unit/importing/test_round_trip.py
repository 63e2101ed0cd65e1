"""Property: any valid contact exported in our format imports back to the same details.

Generated details go through normalize_details first (the domain's own
shape), then export (plain and French Excel), read_table, suggest_mapping,
convert_row and normalize_details again.
"""
import phonenumbers
import pycountry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.domain.contact_fields import ADDRESS_TAGS, DELIVERABILITY_STATUSES, EMAIL_TAGS, PHONE_TAGS, SUBSCRIPTION_STATUSES
from contacts.domain.model import normalize_details
from contacts.importing import ExportLayout, RowConverter, read_table, suggest_mapping, write_standard_csv

CUSTOM_FIELDS = (
    {"key": "note", "name": "Note", "type": "text"},
    {"key": "budget", "name": "Budget", "type": "number"},
    {"key": "signed", "name": "Signé le", "type": "date"},
    {"key": "homepage", "name": "Page perso", "type": "url"},
    {"key": "code-2", "name": "Code", "type": "text"},  # clashes with our Code column
)
TYPES = {field["key"]: field["type"] for field in CUSTOM_FIELDS}
# what people type, plus everything that matters to CSV: delimiters, quotes, newlines, formula triggers
ALPHABET = "aAzZéÉèçœÆßü0129 ,;\"'=+-@:*()[]/€\t\n"
LINE_ALPHABET = ALPHABET.replace("\n", "")

text = st.text(ALPHABET, max_size=25).map(str.strip)
filled = st.text(ALPHABET, min_size=1, max_size=25).map(str.strip).filter(bool)
line = st.text(LINE_ALPHABET, min_size=1, max_size=25).map(str.strip).filter(bool)
emails_local = st.from_regex(r"[a-z0-9=+_-][a-z0-9]{0,8}", fullmatch=True)
email_address = st.builds("{}@{}".format, emails_local, st.sampled_from(["exemple.fr", "Maison-Papier.FR", "acme.com"]))
french_number = st.builds(
    lambda first, pairs, style: style.format(first, *(f"{pair:02d}" for pair in pairs)),
    st.sampled_from("1234569"), st.lists(st.integers(0, 99), min_size=4, max_size=4),
    st.sampled_from(["0{} {} {} {} {}", "0{}.{}.{}.{}.{}", "+33 {} {} {} {} {}", "0{}{}{}{}{}"]),
)
country = st.sampled_from(sorted(c.alpha_2 for c in pycountry.countries))
label_name = st.text(LINE_ALPHABET.replace("\t", ""), min_size=1, max_size=20).map(lambda s: " ".join(s.split())).filter(
    lambda s: s and not s.startswith("* ") and ":::" not in s)
number = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False))
url = st.from_regex(r"https://[a-z]{1,8}\.fr(/[a-zA-Z0-9,;=+-]{0,10})?", fullmatch=True)


def e164(number_text):
    return phonenumbers.format_number(phonenumbers.parse(number_text, "FR"), phonenumbers.PhoneNumberFormat.E164)


@st.composite
def contacts(draw):
    details = {name: draw(text) for name in ("last_name", "company", "job_title", "code", "function", "department")}
    details["first_name"] = draw(line)  # something to identify the contact by
    details["vat_number"] = draw(st.sampled_from(["", "FR40303265045", "BE0776091951", "NL004495445B01"]))
    details["info_email"] = draw(st.one_of(st.just(""), email_address))
    details["websites"] = draw(st.lists(url, max_size=2))
    details["emails"] = draw(st.lists(st.fixed_dictionaries({
        "address": email_address, "tag": st.sampled_from(EMAIL_TAGS), "primary": st.booleans(),
        "subscription_status": st.sampled_from(SUBSCRIPTION_STATUSES),
        "deliverability": st.sampled_from(DELIVERABILITY_STATUSES),
    }), max_size=3, unique_by=lambda e: e["address"].casefold()))
    details["phones"] = draw(st.lists(st.fixed_dictionaries({
        "number": french_number, "tag": st.sampled_from(PHONE_TAGS), "primary": st.booleans(),
    }), max_size=3, unique_by=lambda p: e164(p["number"])))
    details["addresses"] = draw(st.lists(st.fixed_dictionaries({
        "tag": st.sampled_from(ADDRESS_TAGS), "street": st.lists(line, max_size=3),
        "postal_code": text, "city": text, "region": text, "country": st.one_of(st.just(""), country),
    }).filter(lambda a: a["street"] or a["postal_code"] or a["city"] or a["region"] or a["country"]), max_size=2))
    custom = {"note": filled, "budget": number, "signed": st.dates().map(str), "homepage": url, "code-2": filled}
    details["custom_fields"] = {key: draw(value) for key, value in custom.items() if draw(st.booleans())}
    for entries in (details["emails"], details["phones"]):  # at most one flagged primary
        for entry in entries[1:]:
            entry["primary"] = entry["primary"] and not any(e["primary"] for e in entries[: entries.index(entry)])
    normalized = normalize_details(details, custom_field_types=TYPES)
    # function and department are names here (the caller maps them to option keys), set whether or not
    # this version of normalize_details keeps them
    extras = {"function": details["function"], "department": details["department"],
              "labels": draw(st.lists(label_name, max_size=3, unique=True))}
    return normalized, extras


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts(), st.booleans())
def test_standard_export_imports_back_to_the_same_details(generated, excel_fr):
    details, extras = generated
    read_model = {**details, **{name: value for name, value in extras.items() if value}}
    layout = ExportLayout.fitting([read_model], CUSTOM_FIELDS)
    table = read_table(b"".join(write_standard_csv([read_model], layout, excel_fr=excel_fr)))
    assert (table.delimiter, table.encoding) == ((";", "utf-8-sig") if excel_fr else (",", "utf-8"))
    [row] = list(table.rows())
    converted = RowConverter(suggest_mapping(table.header, CUSTOM_FIELDS), TYPES, header=table.header).convert(row.cells)
    assert converted.problems == []
    assert normalize_details(converted.details, custom_field_types=TYPES) == details
    assert converted.label_names == extras["labels"]
    for name in ("function", "department"):
        assert converted.details.get(name, "") == extras[name]
