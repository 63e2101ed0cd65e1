"""Option lists (functions, departments, countries) on the real handlers with the in-memory event store."""
import pytest

from crm_platform.errors import InvalidInput, NotFound
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.errors import InvalidContact
from contacts.domain.option_lists import OptionKeyTaken, OptionList, OptionListStarted, OptionNotFound, option_list_id
from contacts.service_layer import handlers, option_handlers
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def uow(store):
    return UnitOfWork(store, PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())


def add(uow, kind, name, key=None, account="acct-1"):
    return option_handlers.add_option(commands.AddOption(account, kind, name, key), uow)[1]


def names(option_list):
    return [o["name"] for o in option_list.as_list()]


def test_a_new_account_has_defaults_in_french_with_france_first():
    assert "Directeur" in names(OptionList("acct-1", "functions"))
    assert "Comptabilité" in names(OptionList("acct-1", "departments"))
    countries = OptionList("acct-1", "countries").as_list()
    assert countries[0] == {"key": "FR", "name": "France", "position": 0}
    assert {"key": "DE", "name": "Allemagne"}.items() <= next(c for c in countries if c["key"] == "DE").items()
    assert len(countries) == 249


def test_add_rename_reorder_remove(uow):
    key = add(uow, "functions", "Responsable des achats")
    assert key == "responsable-des-achats"
    with pytest.raises(OptionKeyTaken):
        add(uow, "functions", "Responsable  des achats")
    option_handlers.rename_option(commands.RenameOption("acct-1", "functions", key, "Acheteur"), uow)
    with uow:
        option_list = uow.option_lists.find_or_blank("acct-1", option_list_id("acct-1", "functions"))
    assert names(option_list)[-1] == "Acheteur"
    new_order = [key, *[k for k in option_list.options if k != key]]
    option_handlers.reorder_options(commands.ReorderOptions("acct-1", "functions", new_order), uow)
    with uow:
        assert list(uow.option_lists.find_or_blank("acct-1", option_list_id("acct-1", "functions")).options) == new_order
    option_handlers.remove_option(commands.RemoveOption("acct-1", "functions", key), uow)
    with uow:
        assert key not in uow.option_lists.find_or_blank("acct-1", option_list_id("acct-1", "functions")).options
    with pytest.raises(OptionNotFound):
        option_handlers.remove_option(commands.RemoveOption("acct-1", "functions", key), uow)


def test_reorder_needs_every_key_exactly_once(uow):
    keys = list(OptionList("acct-1", "departments").options)
    for bad in (keys[1:], [*keys, "inconnu"], [*keys, keys[0]]):
        with pytest.raises(InvalidInput) as excinfo:
            option_handlers.reorder_options(commands.ReorderOptions("acct-1", "departments", bad), uow)
        assert excinfo.value.errors["keys"]


def test_countries_are_iso_codes(uow):
    with pytest.raises(InvalidInput):
        add(uow, "countries", "Atlantide", key="XX")
    option_handlers.remove_option(commands.RemoveOption("acct-1", "countries", "BE"), uow)
    assert add(uow, "countries", "Belgique", key="be") == "BE"


def test_unknown_list_is_not_found(uow):
    with pytest.raises(NotFound):
        add(uow, "colours", "Bleu")


def test_first_change_records_the_defaults_it_started_from(store, uow):
    add(uow, "departments", "Qualité")
    history = [UnitOfWork.event_codec().from_envelope(e) for e in store.load(option_list_id("acct-1", "departments"))]
    assert isinstance(history[0], OptionListStarted)
    assert [o["name"] for o in history[0].options][:2] == ["Direction", "Commercial"]
    assert history[1].options[-1] == {"key": "qualite", "name": "Qualité"}  # each event carries the whole list


def test_contacts_may_only_use_existing_options(uow):
    contact = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "Louise", "function": "directeur", "department": "achats",
        "addresses": [{"city": "Lille", "country": "FR"}]}), uow)
    assert (contact.details["function"], contact.details["department"]) == ("directeur", "achats")
    with pytest.raises(InvalidContact) as excinfo:
        handlers.create_contact(commands.CreateContact("acct-1", {
            "first_name": "Paul", "function": "astronaute", "department": "lune"}), uow)
    assert set(excinfo.value.errors) == {"function", "department"}
    option_handlers.remove_option(commands.RemoveOption("acct-1", "countries", "BE"), uow)
    with pytest.raises(InvalidContact) as excinfo:
        handlers.update_contact(commands.UpdateContact("acct-1", contact.id, contact.revision, {
            "addresses": [{"city": "Bruxelles", "country": "BE"}]}), uow)
    assert excinfo.value.errors == {"addresses": {"0": {"country": [
        "not an option of the account's country list; add it there first"]}}}


def test_removing_an_option_takes_it_off_every_contact(store, uow):
    louise = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "Louise", "function": "directeur", "addresses": [
            {"city": "Bruxelles", "country": "BE"}, {"country": "BE"}, {"city": "Lille", "country": "FR"}]}), uow)
    paul = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "Paul", "function": "comptable"}), uow)
    using = {"function": [louise.id, paul.id], "country": [louise.id]}
    for kind, key in (("functions", "directeur"), ("countries", "BE")):
        option_handlers.remove_option(commands.RemoveOption("acct-1", kind, key), uow)
        removed = uow.codec.from_envelope(store.load(option_list_id("acct-1", kind))[-1])
        contacts_using = lambda account, field, option_key: using[field]  # noqa: E731
        assert option_handlers.take_removed_option_off_contacts(removed, uow, contacts_using) == 1
        assert option_handlers.take_removed_option_off_contacts(removed, uow, contacts_using) == 0  # redelivery
    with uow:
        details = uow.contacts.get("acct-1", louise.id).details
        assert "function" not in details
        assert details["addresses"] == [{"tag": "home", "street": [], "city": "Bruxelles"},
                                        {"tag": "home", "street": [], "city": "Lille", "country": "FR"}]
        assert uow.contacts.get("acct-1", paul.id).details["function"] == "comptable"


def test_an_account_reads_local_numbers_in_its_own_region(uow):
    def e164(account, number):
        contact = handlers.create_contact(commands.CreateContact(account, {"phones": [{"number": number}]}), uow)
        return contact.details["phones"][0]["e164"]

    assert e164("acct-1", "03 20 06 51 26") == "+33320065126"  # the deployment's default: FR
    handlers.set_phone_region(commands.SetPhoneRegion("acct-be", "be"), uow)
    assert handlers.account_phone_region("acct-be", uow) == "BE"
    assert e164("acct-be", "02 123 45 68") == "+3221234568"
    assert e164("acct-be", "+33 3 20 06 51 26") == "+33320065126"
    with pytest.raises(InvalidInput):
        handlers.set_phone_region(commands.SetPhoneRegion("acct-be", "XX"), uow)
    # a later unrelated change keeps reading the contact's numbers in the account's region
    contact = handlers.create_contact(commands.CreateContact("acct-be", {"phones": [{"number": "02 123 45 69"}]}), uow)
    changed = handlers.update_contact(commands.UpdateContact("acct-be", contact.id, contact.revision,
                                                             {"first_name": "Luc"}), uow)
    assert changed.details["phones"][0]["e164"] == "+3221234569"


def test_changing_the_region_does_not_reread_numbers_stored_before(uow):
    contact = handlers.create_contact(commands.CreateContact("acct-1", {"phones": [{"number": "03 20 06 51 26"}]}), uow)
    assert contact.details["phones"][0]["e164"] == "+33320065126"
    handlers.set_phone_region(commands.SetPhoneRegion("acct-1", "BE"), uow)
    renamed = handlers.update_contact(commands.UpdateContact("acct-1", contact.id, contact.revision, {"first_name": "L"}), uow)
    assert renamed.details["phones"][0]["e164"] == "+33320065126"  # read in FR when it was stored
    added = handlers.update_contact(commands.UpdateContact("acct-1", contact.id, renamed.revision, {"phones": [
        *renamed.details["phones"], {"number": "02 123 45 67"}]}), uow)
    assert [p["e164"] for p in added.details["phones"]] == ["+33320065126", "+3221234567"]  # a new one: BE
