"""Clean-ups act on the removal they follow, not on the key (issue 9, item 4).

A label, custom field or option can be removed and its key created again. The
worker's clean-up of the first removal may run late (a backlog), again (a
re-delivery) or much later (a replay of the log): it must take off only what
was given before that removal, never what was given after the key came back.
Each test gives the clean-up a read model that lists every holder of the key,
as a read model in step (or lagging behind the clean-up's own changes) would.
"""
from dataclasses import replace

import pytest

from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.custom_fields import CustomFieldRemoved, field_set_id
from contacts.domain.labels import LabelDeleted, label_id
from contacts.domain.model import Contact
from contacts.domain.option_lists import OptionRemoved, option_list_id
from contacts.service_layer import custom_field_handlers, handlers, label_handlers, merge_handlers, option_handlers
from contacts.service_layer.bulk_create import create_many
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def uow(store):
    return UnitOfWork(store, PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())


def last_event(store, uow, aggregate_id, event_class):
    """The newest event of this class in the aggregate's stream, decoded as the worker receives it."""
    events = [uow.codec.from_envelope(envelope) for envelope in store.load(aggregate_id)]
    return [event for event in events if isinstance(event, event_class)][-1]


def create(uow, **details):
    return handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "Louise", **details}), uow)


def details_of(uow, contact):
    with uow:
        return uow.contacts.get("acct-1", contact.id).details


# --- labels -----------------------------------------------------------------------------------------------------


def create_label(uow):
    label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow)


def assign(uow, contact):
    return label_handlers.assign_label(commands.AssignLabel("acct-1", contact.id, "vip"), uow)


def delete_label(store, uow) -> LabelDeleted:
    label_handlers.delete_label(commands.DeleteLabel("acct-1", "vip"), uow)
    return last_event(store, uow, label_id("acct-1", "vip"), LabelDeleted)


def test_a_late_label_deletion_spares_the_contacts_given_the_label_after_it_came_back(store, uow):
    old, new = create(uow), create(uow)
    create_label(uow)
    assign(uow, old)
    late = delete_label(store, uow)
    create_label(uow)  # the key is created again before the worker cleaned up
    assign(uow, new)
    holders = lambda account, key: [old.id, new.id]  # noqa: E731 -- both hold "vip" in the read model
    assert label_handlers.remove_deleted_label(late, uow, holders) == 1
    assert label_handlers.remove_deleted_label(late, uow, holders) == 0  # re-delivered or replayed: nothing more
    assert details_of(uow, old)["labels"] == []  # given the deleted label: loses it
    assert details_of(uow, new)["labels"] == ["vip"]  # given the new one: keeps it
    # the next deletion's clean-up takes the new assignment off as usual
    second = delete_label(store, uow)
    assert label_handlers.remove_deleted_label(second, uow, holders) == 1
    assert details_of(uow, new)["labels"] == []


def test_giving_the_new_label_to_a_contact_that_still_holds_the_old_one_outlives_the_late_clean_up(store, uow):
    contact = create(uow)
    create_label(uow)
    assign(uow, contact)
    late = delete_label(store, uow)
    create_label(uow)
    assert assign(uow, contact).details["labels"] == ["vip"]  # it still had the old one: now it has the new one
    assert label_handlers.remove_deleted_label(late, uow, lambda account, key: [contact.id]) == 0
    assert details_of(uow, contact)["labels"] == ["vip"]


def test_an_import_after_the_label_came_back_gives_the_new_label(store, uow):
    create_label(uow)
    late = delete_label(store, uow)
    create_label(uow)
    outcome, = create_many(uow, "acct-1", [{"first_name": "Paul"}], labels=["vip"])
    assert label_handlers.remove_deleted_label(late, uow, lambda account, key: [outcome.contact_id]) == 0
    with uow:
        assert uow.contacts.get("acct-1", outcome.contact_id).details["labels"] == ["vip"]


def test_a_merge_keeps_the_new_label_a_source_was_given(store, uow):
    target, source = create(uow), create(uow, first_name="Paul")
    create_label(uow)
    assign(uow, target)
    late = delete_label(store, uow)
    create_label(uow)
    assign(uow, source)
    merged = merge_handlers.merge_contacts(commands.MergeContacts("acct-1", target.id, [source.id]), uow,
                                           lambda account, contact: [], lambda account, contact: [])
    assert merged.details["labels"] == ["vip"]
    assert label_handlers.remove_deleted_label(late, uow, lambda account, key: [target.id]) == 0
    assert details_of(uow, target)["labels"] == ["vip"]


# --- custom fields ----------------------------------------------------------------------------------------------


def define(uow, type_):
    custom_field_handlers.add_custom_field(commands.AddCustomField("acct-1", "Budget", type_), uow)


def remove_field(store, uow) -> CustomFieldRemoved:
    custom_field_handlers.remove_custom_field(commands.RemoveCustomField("acct-1", "budget"), uow)
    return last_event(store, uow, field_set_id("acct-1"), CustomFieldRemoved)


def test_a_late_field_removal_spares_the_values_given_after_the_field_came_back(store, uow):
    define(uow, "number")
    old = create(uow, custom_fields={"budget": 1500})
    late = remove_field(store, uow)
    define(uow, "text")  # the same key again, now a text
    new = create(uow, custom_fields={"budget": "serré"})
    holders = lambda account, key: [old.id, new.id]  # noqa: E731
    assert custom_field_handlers.remove_values_of_removed_field(late, uow, holders) == 1
    assert custom_field_handlers.remove_values_of_removed_field(late, uow, holders) == 0
    assert details_of(uow, old)["custom_fields"] == {}
    assert details_of(uow, new)["custom_fields"] == {"budget": "serré"}


def test_an_edit_before_the_clean_up_drops_the_value_of_the_removed_field_not_the_new_one(store, uow):
    define(uow, "number")
    old = create(uow, custom_fields={"budget": 1500})
    late = remove_field(store, uow)
    define(uow, "text")
    # the old number is no value of the new text field: an unrelated edit neither fails on it nor keeps it
    edited = handlers.update_contact(commands.UpdateContact("acct-1", old.id, old.revision, {"company": "X"}), uow)
    assert edited.details["custom_fields"] == {}
    given = handlers.update_contact(commands.UpdateContact("acct-1", old.id, edited.revision,
                                                           {"custom_fields": {"budget": "large"}}), uow)
    assert custom_field_handlers.remove_values_of_removed_field(late, uow, lambda account, key: [old.id]) == 0
    assert details_of(uow, old)["custom_fields"] == {"budget": "large"} == given.details["custom_fields"]


# --- options ----------------------------------------------------------------------------------------------------


def remove_option(store, uow, kind, key) -> OptionRemoved:
    option_handlers.remove_option(commands.RemoveOption("acct-1", kind, key), uow)
    return last_event(store, uow, option_list_id("acct-1", kind), OptionRemoved)


def test_a_late_option_removal_spares_the_contacts_given_the_option_after_it_came_back(store, uow):
    old = create(uow, function="directeur", addresses=[{"street": ["12 rue Neuve"], "postal_code": "1000",
                                                        "city": "Bruxelles", "country": "BE"}])
    late = {"function": remove_option(store, uow, "functions", "directeur"),
            "country": remove_option(store, uow, "countries", "BE")}
    option_handlers.add_option(commands.AddOption("acct-1", "functions", "Directeur"), uow)
    option_handlers.add_option(commands.AddOption("acct-1", "countries", "Belgique", "BE"), uow)
    new = create(uow, function="directeur", addresses=[{"city": "Liège", "country": "BE"}, {"country": "BE"}])
    for field, removal in late.items():
        using = lambda account, used_field, key: [old.id, new.id]  # noqa: E731
        assert option_handlers.take_removed_option_off_contacts(removal, uow, using) == 1, field
        assert option_handlers.take_removed_option_off_contacts(removal, uow, using) == 0, field
    before = details_of(uow, old)
    assert "function" not in before
    # only the country goes: the rest of the address stays
    assert before["addresses"] == [{"tag": "home", "street": ["12 rue Neuve"], "postal_code": "1000",
                                    "city": "Bruxelles"}]
    after = details_of(uow, new)
    assert after["function"] == "directeur"
    assert after["addresses"] == [{"tag": "home", "street": [], "city": "Liège", "country": "BE"},
                                  {"tag": "home", "street": [], "country": "BE"}]  # a country-only address too


def test_a_late_removal_of_a_default_option_spares_the_contacts_given_it_after_it_came_back(store, uow):
    old = create(uow, department="achats")
    late = remove_option(store, uow, "departments", "achats")
    option_handlers.add_option(commands.AddOption("acct-1", "departments", "Achats"), uow)
    edited = handlers.update_contact(commands.UpdateContact("acct-1", old.id, old.revision, {"department": None}), uow)
    handlers.update_contact(commands.UpdateContact("acct-1", old.id, edited.revision, {"department": "achats"}), uow)
    using = lambda account, field, key: [old.id]  # noqa: E731
    assert option_handlers.take_removed_option_off_contacts(late, uow, using) == 0
    assert details_of(uow, old)["department"] == "achats"


# --- events stored before generations were recorded --------------------------------------------------------------


def test_a_deletion_stored_before_generations_takes_off_only_what_was_given_before_them(store, uow):
    create_label(uow)
    before = Contact.create("acct-1", {"first_name": "Ancien"}, labels=["vip"])  # no generations: as stored then
    with uow:
        uow.contacts.add(before)
        uow.commit()
    after = create(uow)
    assign(uow, after)
    stored_then = uow.codec.from_envelope(replace(
        uow.codec.to_envelope(LabelDeleted(label_id("acct-1", "vip"), "acct-1", "vip"), "Label",
                              label_id("acct-1", "vip"), 9, "acct-1"),
        payload={"key": "vip"}))  # its payload has no generation
    assert stored_then.generation is None
    holders = lambda account, key: [before.id, after.id]  # noqa: E731
    assert label_handlers.remove_deleted_label(stored_then, uow, holders) == 1
    assert details_of(uow, before)["labels"] == [] and details_of(uow, after)["labels"] == ["vip"]
