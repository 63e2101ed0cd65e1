"""What each contact event does to billing's customer document (pure: no database)."""
import dataclasses

from crm_platform.contracts.contacts import CONTACT_LIFECYCLE_CLASSES
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from billing.adapters.customers_projection import PERSONAL_FIELDS, CustomersProjection, customer_fields

from ..contact_events import LOUISE, ContactEvents


def projection_and_events():
    cipher = PersonalDataCipher(InMemorySubjectKeyStore())
    return CustomersProjection(InMemoryCollection(), EventCodec(CONTACT_LIFECYCLE_CLASSES, cipher)), ContactEvents(cipher), cipher


def change(projection, envelope):
    return projection.change_for(envelope, projection.event_of(envelope))


def test_a_customer_keeps_what_a_document_needs_of_its_buyer():
    fields = customer_fields(LOUISE)
    assert fields["name"] == "Louise Desnotes" and fields["company"] == "Maison du Papier"
    assert fields["vat_number"] == "FR40303265045"
    assert fields["billing_address"] == {"street": ["3 rue Neuve"], "postal_code": "59000", "city": "Lille", "country": "FR"}
    assert fields["emails"] == ["louise@papier.fr", "l.desnotes@example.fr"]  # the primary first


def test_a_company_without_a_person_is_named_by_the_company_and_an_address_without_tag_is_used():
    fields = customer_fields({"company": "B & fils", "addresses": [{"tag": "home", "city": "Arras"}]})
    assert fields["name"] == "B & fils" and fields["billing_address"] == {"city": "Arras"}
    assert customer_fields({"first_name": "Jo"})["billing_address"] is None


def test_a_created_contact_is_a_live_customer_with_its_fields_opened():
    projection, events, _ = projection_and_events()
    changed = change(projection, events.created("contact:1", LOUISE))
    assert changed.set["deleted"] is False and changed.set["name"] == "Louise Desnotes" and changed.set["account_id"] == "acct-1"


def test_a_deleted_contact_keeps_a_tombstone_without_personal_data_and_where_it_was_merged():
    projection, events, _ = projection_and_events()
    events.created("contact:2", LOUISE)
    changed = change(projection, events.deleted("contact:2", merged_into="contact:1"))
    assert changed.set["deleted"] is True and changed.set["merged_into"] == "contact:1"
    assert set(changed.unset) == set(PERSONAL_FIELDS)


def test_an_erased_person_leaves_nothing_and_an_older_event_sealed_for_them_reads_as_the_erasure():
    projection, events, cipher = projection_and_events()
    created = events.created("contact:3", LOUISE)
    erased = change(projection, events.erased("contact:3"))
    assert erased.set["erased"] is True and set(erased.unset) == set(PERSONAL_FIELDS)
    cipher.shred("contact:contact:3")
    late = change(projection, created)  # redelivered after the key was shredded
    assert late.set.get("erased") is True and "name" not in late.set


def test_events_of_other_aggregates_are_not_its_business():
    projection, events, _ = projection_and_events()
    envelope = events.created("contact:4", LOUISE)
    assert projection.apply(dataclasses.replace(envelope, aggregate_type="Note")) is False
