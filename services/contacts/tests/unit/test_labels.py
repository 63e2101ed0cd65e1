"""Labels on the real handlers with the in-memory event store."""
import pytest

from crm_platform.contracts.accounts import AccountCreated
from crm_platform.envelope import envelope_from_dict
from crm_platform.errors import InvalidInput
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound
from contacts.domain.labels import LabelDeleted, LabelKeyTaken, LabelNotFound, key_from_name, label_id
from contacts.service_layer import handlers, label_handlers
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def uow():
    return UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())


def contact(uow, account="acct-1"):
    return handlers.create_contact(commands.CreateContact(account, {"first_name": "Louise"}), uow)


@pytest.mark.parametrize("name, key", [("Client VIP", "client-vip"), ("Fournisseur éthique", "fournisseur-ethique"),
                                       ("  ", "label"), ("Prospect / 2026", "prospect-2026")])
def test_keys_are_derived_from_names(name, key):
    assert key_from_name(name) == key


def test_a_label_keeps_its_key_when_renamed(uow):
    label = label_handlers.create_label(commands.CreateLabel("acct-1", "Fournisseur"), uow)
    renamed = label_handlers.rename_label(commands.RenameLabel("acct-1", label.key, "Fournisseurs locaux"), uow)
    assert (renamed.key, renamed.name) == ("fournisseur", "Fournisseurs locaux")


def test_a_key_is_unique_per_account_but_not_across_accounts(uow):
    label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow)
    with pytest.raises(LabelKeyTaken):
        label_handlers.create_label(commands.CreateLabel("acct-1", "V.I.P.", key="vip"), uow)
    assert label_handlers.create_label(commands.CreateLabel("acct-2", "VIP"), uow).key == "vip"


def test_a_deleted_key_can_be_created_again(uow):
    label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow)
    label_handlers.delete_label(commands.DeleteLabel("acct-1", "vip"), uow)
    assert label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow).name == "VIP"


def test_bad_names_and_keys_are_field_errors(uow):
    with pytest.raises(InvalidInput) as excinfo:
        label_handlers.create_label(commands.CreateLabel("acct-1", "VIP", key="Not A Key"), uow)
    assert "key" in excinfo.value.errors


def test_find_or_create_finds_by_name_or_creates_with_a_free_key(uow):
    names = {("acct-1", "vip"): "vip"}
    existing = label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow)
    found = label_handlers.find_or_create_label(
        commands.FindOrCreateLabel("acct-1", "vip"), uow, lambda account, name: names.get((account, name.casefold())))
    assert found.key == existing.key
    # "V.I.P" is another name whose key would be "v-i-p"; "Vip!" would take "vip", which is taken: it gets vip-2
    created = label_handlers.find_or_create_label(commands.FindOrCreateLabel("acct-1", "Vip!"), uow, lambda a, n: None)
    assert (created.key, created.name) == ("vip-2", "Vip!")


def test_contacts_may_only_carry_labels_that_exist(uow):
    c = contact(uow)
    with pytest.raises(LabelNotFound):
        label_handlers.assign_label(commands.AssignLabel("acct-1", c.id, "vip"), uow)
    label_handlers.create_label(commands.CreateLabel("acct-2", "VIP"), uow)
    with pytest.raises(LabelNotFound):  # another account's label does not count
        label_handlers.assign_label(commands.AssignLabel("acct-1", c.id, "vip"), uow)


def test_assigning_twice_records_once_and_unassigning_removes(uow):
    c = contact(uow)
    label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow)
    first = label_handlers.assign_label(commands.AssignLabel("acct-1", c.id, "vip"), uow)
    again = label_handlers.assign_label(commands.AssignLabel("acct-1", c.id, "vip"), uow)
    assert first.details["labels"] == again.details["labels"] == ["vip"]
    assert again.revision == 2
    after = label_handlers.unassign_label(commands.UnassignLabel("acct-1", c.id, "vip"), uow)
    assert after.details["labels"] == [] and after.revision == 3


def test_labels_survive_an_edit_of_the_contact(uow):
    c = contact(uow)
    label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow)
    label_handlers.assign_label(commands.AssignLabel("acct-1", c.id, "vip"), uow)
    edited = handlers.update_contact(commands.UpdateContact("acct-1", c.id, 2, {"company": "Maison du Papier"}), uow)
    assert edited.details["labels"] == ["vip"]


def test_deleting_a_label_takes_it_off_every_contact_and_is_idempotent(uow):
    a, b = contact(uow), contact(uow)
    label_handlers.create_label(commands.CreateLabel("acct-1", "VIP"), uow)
    for c in (a, b):
        label_handlers.assign_label(commands.AssignLabel("acct-1", c.id, "vip"), uow)
    handlers.delete_contact(commands.DeleteContact("acct-1", b.id, None), uow)
    label_handlers.delete_label(commands.DeleteLabel("acct-1", "vip"), uow)
    deleted = LabelDeleted("label:acct-1:vip", "acct-1", "vip", generation=1)  # the deletion of its first generation
    holders = lambda account, key: [a.id, b.id]  # noqa: E731 -- b was deleted meanwhile
    assert label_handlers.remove_deleted_label(deleted, uow, holders) == 1
    assert label_handlers.remove_deleted_label(deleted, uow, holders) == 0  # re-delivery: nothing left to do
    with uow:
        reloaded = uow.contacts.get("acct-1", a.id)
    assert reloaded.details["labels"] == [] and reloaded.revision == 3
    with pytest.raises(ContactNotFound):
        with uow:
            uow.contacts.get("acct-1", b.id)


def test_a_new_account_gets_the_default_labels_once(uow):
    created = AccountCreated("acct-9", "X")
    names = ("Client", "Partenaire", "Prospect")
    assert label_handlers.give_new_account_its_labels(created, uow, names) == 3
    label_handlers.delete_label(commands.DeleteLabel("acct-9", "prospect"), uow)
    assert label_handlers.give_new_account_its_labels(created, uow, names) == 0  # re-delivery revives nothing
    with uow:
        assert [uow.labels.find("acct-9", label_id("acct-9", k)).deleted for k in ("client", "partenaire", "prospect")] == [False, False, True]


def test_a_label_with_the_longest_key_loads_again(uow):
    """Its id, label:<account>:<64-character key>, once exceeded the envelope's 64-character aggregate id."""
    key = "k" * 64
    label_handlers.create_label(commands.CreateLabel("acct-" + "1" * 59, "Long", key=key), uow)
    renamed = label_handlers.rename_label(commands.RenameLabel("acct-" + "1" * 59, key, "Longer"), uow)
    assert renamed.name == "Longer" and renamed.revision == 2
    for stored in uow._store.load(renamed.id):  # as MongoDB and Kafka hand them back: validated again
        assert envelope_from_dict(stored.to_dict()) == stored


def test_names_and_note_texts_from_any_path_must_be_storable_text(uow):
    from contacts.domain.notes import Note

    for name in ("a\x00b", "\ud800", "x\x1b[2J"):
        with pytest.raises(InvalidInput) as refused:
            label_handlers.find_or_create_label(commands.FindOrCreateLabel("acct-1", name), uow,
                                                lambda account, label_name: None)
        assert "name" in refused.value.errors
        with pytest.raises(InvalidInput):
            Note.add("acct-1", "c-1", "note", f"texte {name}")
    assert Note.add("acct-1", "c-1", "note", "ligne 1\nligne 2\x0bsuite").text.endswith("suite")
