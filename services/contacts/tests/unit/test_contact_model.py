import pytest

from contacts.domain.errors import ContactNotFound, InvalidContact, StaleContactRevision
from contacts.domain.events import ContactCreated, ContactDeleted, ContactUpdated
from contacts.domain.contact_fields import MAX_ENTRIES
from contacts.domain.model import Contact


def louise(**overrides):
    details = {
        "first_name": " Louise ", "last_name": "Desnotes", "company": "Maison du Papier",
        "emails": [{"address": "louise@maison-papier.fr"}, {"address": "l.desnotes@example.fr", "tag": "home"}],
        "phones": [{"number": "+33 3 20 06 51 26", "tag": "work"}],
    }
    details.update(overrides)
    return Contact.create("acct-1", details)


def test_creation_records_one_event_with_normalized_details():
    contact = louise()
    assert contact.revision == 1
    [event] = contact.pending
    assert isinstance(event, ContactCreated)
    assert event.details["first_name"] == "Louise"
    assert [e["primary"] for e in event.details["emails"]] == [True, False]
    assert event.details["emails"][0]["tag"] == "main"
    assert event.details["phones"][0]["primary"] is True


def test_the_flagged_email_is_the_only_primary():
    contact = louise(emails=[{"address": "a@example.fr"}, {"address": "b@example.fr", "primary": True}])
    assert [e["primary"] for e in contact.details["emails"]] == [False, True]


@pytest.mark.parametrize(
    "details, field",
    [
        ({"first_name": "", "last_name": None, "company": "  ", "emails": [], "phones": []}, "_schema"),
        ({"emails": [{"address": "a@x.fr"}, {"address": "A@X.FR"}]}, "emails"),
        ({"emails": [{"address": "a@x.fr", "primary": True}, {"address": "b@x.fr", "primary": True}]}, "emails"),
        ({"emails": [{"address": f"p{i}@x.fr"} for i in range(MAX_ENTRIES + 1)]}, "emails"),
    ],
)
def test_invalid_contacts_are_refused_with_the_field_named(details, field):
    with pytest.raises(InvalidContact) as excinfo:
        Contact.create("acct-1", details)
    assert field in excinfo.value.errors


def test_update_based_on_the_current_revision_records_what_changed():
    contact = louise()
    contact.pending.clear()
    contact.update(1, {"company": "Papeterie Desnotes"})
    [event] = contact.pending
    assert isinstance(event, ContactUpdated)
    assert event.changed == ["company"]
    assert event.details["first_name"] == "Louise"  # full state travels with the event
    assert contact.revision == 2


def test_update_based_on_a_stale_revision_is_refused():
    contact = louise()
    contact.update(1, {"company": "A"})
    with pytest.raises(StaleContactRevision) as excinfo:
        contact.update(1, {"company": "B"})
    assert excinfo.value.extra["current_revision"] == 2
    assert contact.details["company"] == "A"


def test_an_update_that_changes_nothing_records_nothing():
    contact = louise()
    contact.pending.clear()
    contact.update(1, {"first_name": "Louise"})
    assert contact.pending == [] and contact.revision == 1


def test_unknown_fields_are_refused():
    with pytest.raises(InvalidContact) as excinfo:
        louise().update(1, {"nickname": "Lou"})
    assert "nickname" in excinfo.value.errors


def test_deleted_contact_cannot_be_changed_or_deleted_again():
    contact = louise()
    contact.delete(1)
    assert isinstance(contact.pending[-1], ContactDeleted)
    with pytest.raises(ContactNotFound):
        contact.update(2, {"company": "X"})
    with pytest.raises(ContactNotFound):
        contact.delete(None)


def test_history_rebuilds_the_same_state():
    contact = louise()
    contact.update(1, {"company": "B"})
    again = Contact.from_history(contact.id, "acct-1", list(contact.pending))
    assert again.details == contact.details and again.revision == 2


def test_an_entry_and_its_list_can_both_be_wrong_in_one_answer():
    """Two primary emails, one of them invalid, used to raise AttributeError (a 500) while listing the problems."""
    with pytest.raises(InvalidContact) as refused:
        Contact.create("acct-1", {"first_name": "L", "emails": [{"address": "pas-un-email", "primary": True},
                                                                {"address": "l@papier.fr", "primary": True}]})
    assert refused.value.errors["emails"]["_schema"] == ["only one entry can be primary"]
    assert "address" in refused.value.errors["emails"]["0"]
