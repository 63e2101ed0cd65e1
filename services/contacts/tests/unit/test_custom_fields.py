"""Custom fields on the real handlers with the in-memory event store."""
import pytest

from crm_platform.errors import Conflict, InvalidInput
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.custom_fields import MAX_FIELDS, CustomFieldNotFound, CustomFieldRemoved, CustomFieldSet
from contacts.domain.errors import InvalidContact
from contacts.service_layer import custom_field_handlers, handlers
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def uow():
    return UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())


def define(uow, name, type_, account="acct-1"):
    return custom_field_handlers.add_custom_field(commands.AddCustomField(account, name, type_), uow)[1]


def test_one_field_of_each_type_validates_and_normalises_its_values(uow):
    keys = [define(uow, "Chiffre d'affaires", "number"), define(uow, "Date de naissance", "date"),
            define(uow, "Site partenaire", "url"), define(uow, "Remarque", "text")]
    assert keys == ["chiffre-d-affaires", "date-de-naissance", "site-partenaire", "remarque"]
    contact = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "Louise", "custom_fields": {
        "chiffre-d-affaires": 125000.5, "date-de-naissance": "1984-02-29", "site-partenaire": "https://papier.fr",
        "remarque": " cliente fidèle "}}), uow)
    assert contact.details["custom_fields"] == {"chiffre-d-affaires": 125000.5, "date-de-naissance": "1984-02-29",
                                                "site-partenaire": "https://papier.fr", "remarque": "cliente fidèle"}


def test_wrong_types_and_unknown_fields_are_field_level_errors(uow):
    define(uow, "CA", "number")
    define(uow, "Anniversaire", "date")
    with pytest.raises(InvalidContact) as excinfo:
        handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "L", "custom_fields": {
            "ca": "beaucoup", "anniversaire": "29/02/1984", "inconnu": "x"}}), uow)
    assert set(excinfo.value.errors["custom_fields"]) == {"ca", "anniversaire", "inconnu"}
    for too_big in (10**30, float("nan"), float("inf")):  # the read model could not store them (64-bit BSON)
        with pytest.raises(InvalidContact) as excinfo:
            handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "L", "custom_fields": {"ca": too_big}}),
                                    uow)
        assert set(excinfo.value.errors["custom_fields"]) == {"ca"}
    define(uow, "Autre", "text", account="acct-2")
    with pytest.raises(InvalidContact):  # another account's field does not exist here
        handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "L", "custom_fields": {"autre": "x"}}), uow)


def test_patch_merges_values_and_null_removes_one(uow):
    define(uow, "CA", "number")
    define(uow, "Remarque", "text")
    contact = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "L", "custom_fields": {"ca": 1}}), uow)
    updated = handlers.update_contact(commands.UpdateContact("acct-1", contact.id, 1, {"custom_fields": {"remarque": "x"}}), uow)
    assert updated.details["custom_fields"] == {"ca": 1, "remarque": "x"}
    cleared = handlers.update_contact(commands.UpdateContact("acct-1", contact.id, 2, {"custom_fields": {"ca": None}}), uow)
    assert cleared.details["custom_fields"] == {"remarque": "x"}


def test_keys_are_unique_and_the_account_limit_holds():
    field_set = CustomFieldSet("acct-1")
    field_set.add("Remarque", "text")
    with pytest.raises(Conflict):
        field_set.add("remarque", "number")
    with pytest.raises(InvalidInput):
        field_set.add("Couleur", "colour")
    for i in range(MAX_FIELDS - 1):
        field_set.add(f"Champ {i}", "text")
    with pytest.raises(InvalidInput):
        field_set.add("Un de trop", "text")


def test_removing_a_field_removes_its_values_from_every_contact(uow):
    define(uow, "CA", "number")
    a = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "A", "custom_fields": {"ca": 1}}), uow)
    b = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "B"}), uow)
    custom_field_handlers.remove_custom_field(commands.RemoveCustomField("acct-1", "ca"), uow)
    with pytest.raises(CustomFieldNotFound):
        custom_field_handlers.remove_custom_field(commands.RemoveCustomField("acct-1", "ca"), uow)
    removed = CustomFieldRemoved("acct-1", "ca", generation=1)  # the removal of the field's first generation
    holders = lambda account, key: [a.id, b.id]  # noqa: E731
    assert custom_field_handlers.remove_values_of_removed_field(removed, uow, holders) == 1
    assert custom_field_handlers.remove_values_of_removed_field(removed, uow, holders) == 0
    with uow:
        assert uow.contacts.get("acct-1", a.id).details["custom_fields"] == {}
    # an edit after the removal does not trip over the old value either
    edited = handlers.update_contact(commands.UpdateContact("acct-1", a.id, 2, {"company": "X"}), uow)
    assert edited.details["custom_fields"] == {}
