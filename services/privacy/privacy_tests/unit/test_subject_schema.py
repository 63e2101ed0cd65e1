"""The data subject as a request names it: one of contact id, email or phone, the phone read in E.164."""
import pytest
from marshmallow import ValidationError

from privacy.entrypoints.schemas import PrivacyRequestCreateSchema

BASE = {"type": "restriction", "requester": "Louise", "reason": "letter of 1 December"}


def load(subject):
    return PrivacyRequestCreateSchema().load({**BASE, "subject": subject})


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "+33612345678"])
def test_a_phone_is_read_in_e164_french_unless_it_has_its_country_code(typed):
    assert load({"phone": typed})["subject"] == {"phone": "+33612345678"}


def test_a_phone_with_another_country_code_keeps_it():
    assert load({"phone": "+32 470 12 34 56"})["subject"] == {"phone": "+32470123456"}


@pytest.mark.parametrize("typed", ["not a number", "12", "+33 6 12 34 56 78 90 12 34", ""])
def test_an_unparseable_phone_is_refused_naming_the_field(typed):
    with pytest.raises(ValidationError) as refused:
        load({"phone": typed})
    assert list(refused.value.messages) == ["subject"] and "phone" in refused.value.messages["subject"]


@pytest.mark.parametrize("subject", [{}, {"email": "l@example.com", "phone": "0612345678"},
                                     {"contact_id": "c1", "phone": "0612345678"}])
def test_exactly_one_way_of_naming_the_subject(subject):
    with pytest.raises(ValidationError) as refused:
        load(subject)
    assert "subject" in refused.value.messages


def test_restriction_is_a_request_type():
    assert load({"contact_id": "c1"})["type"] == "restriction"
