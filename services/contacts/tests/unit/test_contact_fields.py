"""The full contact model: every part checked and normalised, every problem named by its field path."""
import pytest

from contacts.domain.errors import InvalidContact
from contacts.domain.model import Contact


def create(phone_region="FR", **details):
    return Contact.create("acct-1", {"first_name": "Louise", **details}, phone_region=phone_region)


def problems(**details):
    with pytest.raises(InvalidContact) as excinfo:
        create(**details)
    return excinfo.value.errors


def test_phones_keep_what_was_typed_and_get_e164_in_the_account_region():
    contact = create(phones=[{"number": "03 20 06 51 26", "tag": "direct_line"}, {"number": "+32 2 555 12 12"}])
    assert [(p["number"], p["e164"], p["tag"]) for p in contact.details["phones"]] == [
        ("03 20 06 51 26", "+33320065126", "direct_line"),
        ("+32 2 555 12 12", "+3225551212", "main"),
    ]
    belgian = create(phone_region="BE", phones=[{"number": "02 555 12 12"}])
    assert belgian.details["phones"][0]["e164"] == "+3225551212"


def test_the_same_phone_written_two_ways_is_a_duplicate():
    errors = problems(phones=[{"number": "+33 3 20 06 51 26"}, {"number": "03.20.06.51.26"}])
    assert errors == {"phones": {"1": {"number": ["same as entry 0"]}}}


def test_emails_are_normalised_and_carry_subscription_and_deliverability():
    contact = create(emails=[{"address": " Louise@Maison-Papier.FR ", "subscription_status": "subscribed"}])
    [email] = contact.details["emails"]
    assert email == {"address": "Louise@maison-papier.fr", "tag": "main", "primary": True,
                     "subscription_status": "subscribed", "deliverability": "not_set"}


def test_vat_numbers_are_checked_for_their_country_and_compacted():
    assert create(vat_number="FR 40 303 265 045").details["vat_number"] == "FR40303265045"
    assert create(vat_number="BE0776091951").details["vat_number"] == "BE0776091951"
    assert "vat_number" in problems(vat_number="FR40303265046")
    assert "vat_number" in problems(vat_number="40303265045")


def test_addresses_need_content_and_a_real_country_code():
    contact = create(addresses=[{"tag": "billing", "street": ["12 rue de la Paix", " "], "postal_code": "59000",
                                 "city": "Lille", "country": "fr"}])
    assert contact.details["addresses"] == [{"tag": "billing", "street": ["12 rue de la Paix"],
                                             "postal_code": "59000", "city": "Lille", "country": "FR"}]
    errors = problems(addresses=[{"tag": "home"}, {"city": "Lille", "country": "XX"}])
    assert errors["addresses"]["0"] == ["an address needs at least a street, postal code, city, region or country"]
    assert errors["addresses"]["1"]["country"]


def test_every_problem_is_reported_at_once_with_its_path():
    errors = problems(
        emails=[{"address": "not-an-email"}],
        phones=[{"number": "12"}],
        websites=["ftp://example.fr"],
        info_email="info@",
    )
    assert set(errors) == {"emails", "phones", "websites", "info_email"}
    assert "address" in errors["emails"]["0"]
    assert "number" in errors["phones"]["0"]
    assert errors["websites"]["0"] == ["not an http(s) URL"]


def test_identity_fields_are_kept_trimmed():
    contact = create(job_title=" Gérante ", code="C-042", websites=["https://maison-papier.fr"],
                     info_email="info@maison-papier.fr")
    assert contact.details["job_title"] == "Gérante"
    assert contact.details["code"] == "C-042"
    assert contact.details["websites"] == ["https://maison-papier.fr"]
    assert contact.details["info_email"] == "info@maison-papier.fr"
