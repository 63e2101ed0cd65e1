"""The duplicate check on the real handlers, with in-memory event store and claims."""
from datetime import timedelta

import pytest

from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.errors import DuplicateContact
from contacts.service_layer import handlers
from contacts.domain.model import Contact
from contacts.service_layer.duplicates import IN_FLIGHT, claim_identities_of_many
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def claims():
    return InMemoryIdentityClaims()


@pytest.fixture
def uow(claims):
    return UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), claims)


def create(uow, account="acct-1", allow=False, **details):
    return handlers.create_contact(commands.CreateContact(account, {"first_name": "X", **details}, allow_duplicates=allow), uow)


def test_same_email_in_any_case_or_same_phone_in_any_format_is_a_duplicate(uow):
    louise = create(uow, emails=[{"address": "louise@maison-papier.fr"}], phones=[{"number": "+33 3 20 06 51 26"}])
    with pytest.raises(DuplicateContact) as by_email:
        create(uow, emails=[{"address": "LOUISE@maison-papier.FR"}])
    assert by_email.value.extra == {"existing_contact_id": louise.id, "matched": "louise@maison-papier.fr"}
    with pytest.raises(DuplicateContact) as by_phone:
        create(uow, phones=[{"number": "03 20 06 51 26"}])
    assert by_phone.value.extra["matched"] == "+33320065126"


def test_a_refused_duplicate_keeps_nothing(uow, claims):
    create(uow, emails=[{"address": "a@x.fr"}])
    before = dict(claims.owners)
    with pytest.raises(DuplicateContact):
        create(uow, emails=[{"address": "new@x.fr"}, {"address": "a@x.fr"}])
    assert claims.owners == before  # new@x.fr was claimed, then released
    assert create(uow, emails=[{"address": "new@x.fr"}])


def test_duplicates_allowed_on_request_and_across_accounts(uow):
    first = create(uow, emails=[{"address": "a@x.fr"}])
    second = create(uow, allow=True, emails=[{"address": "a@x.fr"}])
    assert second.id != first.id
    assert create(uow, account="acct-2", emails=[{"address": "a@x.fr"}])


def test_deleting_or_changing_a_contact_frees_its_identities(uow):
    first = create(uow, emails=[{"address": "a@x.fr"}, {"address": "b@x.fr"}])
    handlers.update_contact(commands.UpdateContact("acct-1", first.id, 1, {"emails": [{"address": "b@x.fr"}]}), uow)
    assert create(uow, emails=[{"address": "a@x.fr"}])
    handlers.delete_contact(commands.DeleteContact("acct-1", first.id, None), uow)
    assert create(uow, emails=[{"address": "b@x.fr"}])


def test_an_update_cannot_take_another_contacts_email(uow):
    create(uow, emails=[{"address": "a@x.fr"}])
    other = create(uow, emails=[{"address": "b@x.fr"}])
    with pytest.raises(DuplicateContact):
        handlers.update_contact(commands.UpdateContact("acct-1", other.id, 1, {"emails": [{"address": "a@x.fr"}]}), uow)
    # unchanged identities are not re-checked: editing the name works
    assert handlers.update_contact(commands.UpdateContact("acct-1", other.id, 1, {"first_name": "Y"}), uow).revision == 2


def test_a_claim_of_a_creation_in_flight_is_a_duplicate(uow, claims):
    claims.claim("acct-1|email|a@x.fr", "contact-being-stored-right-now")
    with pytest.raises(DuplicateContact) as excinfo:
        create(uow, emails=[{"address": "a@x.fr"}])
    assert excinfo.value.extra["existing_contact_id"] == "contact-being-stored-right-now"


def test_a_claim_left_by_a_writer_that_died_is_taken_over(uow, claims):
    claims.claim("acct-1|email|a@x.fr", "contact-that-was-never-stored")
    claims.claimed_at["acct-1|email|a@x.fr"] -= IN_FLIGHT + timedelta(seconds=1)
    contact = create(uow, emails=[{"address": "a@x.fr"}])
    assert claims.owners["acct-1|email|a@x.fr"] == contact.id


def test_many_new_contacts_claim_in_bulk_and_only_collisions_are_checked(uow):
    existing = handlers.create_contact(commands.CreateContact("acct-1", {"emails": [{"address": "taken@x.fr"}]}), uow)
    new = [Contact.create("acct-1", {"emails": [{"address": address}]}) for address in ("a@x.fr", "taken@x.fr", "a@x.fr")]
    results = claim_identities_of_many(uow, new, allow_duplicates=False)
    assert results[0] == ["acct-1|email|a@x.fr"]
    assert isinstance(results[1], DuplicateContact) and results[1].extra["existing_contact_id"] == existing.id
    assert isinstance(results[2], DuplicateContact) and results[2].extra["existing_contact_id"] == new[0].id  # same batch


class CountingClaims(InMemoryIdentityClaims):
    """Claims that note which calls the duplicate check made (the bulk offer, or one claim at a time)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def claim_in_order(self, claims):
        self.calls.append(("claim_in_order", [identity for identity, _ in claims]))
        return super().claim_in_order(claims)

    def claim(self, identity, owner):
        self.calls.append(("claim", identity))
        return super().claim(identity, owner)


def test_a_new_contacts_email_and_phone_are_claimed_in_one_bulk_claim():
    claims = CountingClaims()
    uow = UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), claims)
    create(uow, emails=[{"address": "a@x.fr"}], phones=[{"number": "+33 3 20 06 51 26"}])
    offered = [call for call in claims.calls if call[0] == "claim_in_order"]
    assert offered == [("claim_in_order", ["acct-1|email|a@x.fr", "acct-1|phone|+33320065126"])]
    # the in-memory bulk claim claims each itself; nothing is claimed again one by one after it
    assert claims.calls[1:] == [("claim", "acct-1|email|a@x.fr"), ("claim", "acct-1|phone|+33320065126")]


def test_the_bulk_claim_stops_at_the_first_identity_held_and_the_rest_are_settled_one_by_one_in_order():
    claims = CountingClaims()
    uow = UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), claims)
    claims.claim("acct-1|email|a@x.fr", "contact-that-was-never-stored")
    claims.claimed_at["acct-1|email|a@x.fr"] -= IN_FLIGHT + timedelta(seconds=1)
    claims.calls.clear()
    contact = create(uow, emails=[{"address": "a@x.fr"}], phones=[{"number": "+33 3 20 06 51 26"}])
    assert claims.owners == {"acct-1|email|a@x.fr": contact.id, "acct-1|phone|+33320065126": contact.id}
    # the stale email stopped the bulk claim before the phone: the email taken over, then the phone
    assert claims.calls[1:] == [("claim", "acct-1|email|a@x.fr"), ("claim", "acct-1|phone|+33320065126")]


def test_identities_after_a_live_duplicate_are_never_claimed():
    """Claimed in order, as one by one: a concurrent creation of the same contact is never refused over a phone this
    refused creation held for a moment, and two such creations cannot each take a part and both fail."""
    claims = CountingClaims()
    uow = UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), claims)
    claims.claim("acct-1|email|a@x.fr", "contact-being-stored-right-now")
    claims.calls.clear()
    with pytest.raises(DuplicateContact):
        create(uow, emails=[{"address": "a@x.fr"}], phones=[{"number": "+33 3 20 06 51 26"}])
    assert ("claim", "acct-1|phone|+33320065126") not in claims.calls
    assert claims.owners == {"acct-1|email|a@x.fr": "contact-being-stored-right-now"}


def test_a_single_identity_is_claimed_without_a_bulk_offer():
    claims = CountingClaims()
    uow = UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), claims)
    create(uow, emails=[{"address": "a@x.fr"}])
    assert claims.calls == [("claim", "acct-1|email|a@x.fr")]


def test_every_claimer_takes_a_contacts_identities_in_one_order_whatever_order_they_came_in():
    """Two creations of one contact at once, its emails given in two orders: in their own orders, each could take one
    email and both be refused."""
    claims = CountingClaims()
    uow = UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), claims)
    create(uow, allow=True, emails=[{"address": "b@x.fr"}, {"address": "a@x.fr"}], phones=[{"number": "+33 3 20 06 51 26"}])
    assert claims.calls[0] == ("claim_in_order", ["acct-1|email|a@x.fr", "acct-1|email|b@x.fr",
                                                   "acct-1|phone|+33320065126"])
