"""Creating many contacts at once (imports) on the real handlers with the in-memory event store."""
import pytest

from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.errors import DuplicateContact
from contacts.service_layer import custom_field_handlers, handlers, label_handlers
from contacts.service_layer.bulk_create import RowOutcome, create_many
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def uow():
    return UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())


ROWS = [
    {"first_name": "Louise", "last_name": "Desnotés", "emails": [{"address": "louise@papier.fr"}]},
    {"first_name": "Paul", "phones": [{"number": "03 20 06 51 26"}]},
    {"first_name": "Sans", "emails": [{"address": "pas-un-email"}]},
    {"company": "Maison du Papier"},
]


def statuses(outcomes):
    return [o.status for o in outcomes]


def test_rows_are_created_with_labels_and_bad_rows_reported(uow):
    label_handlers.create_label(commands.CreateLabel("acct-1", "Salon 2026"), uow)
    outcomes = create_many(uow, "acct-1", ROWS, labels=["salon-2026"])
    assert statuses(outcomes) == ["created", "created", "failed", "created"]
    assert "emails" in outcomes[2].errors
    with uow:
        louise = uow.contacts.get("acct-1", outcomes[0].contact_id)
    assert louise.details["labels"] == ["salon-2026"] and louise.details["last_name"] == "Desnotés"


def test_the_same_rows_twice_store_nothing_new(uow):
    first = create_many(uow, "acct-1", ROWS)
    again = create_many(uow, "acct-1", ROWS)
    assert statuses(again) == ["skipped", "skipped", "failed", "skipped"]
    assert [o.contact_id for o in again if o.status == "skipped"] == [o.contact_id for o in first if o.status == "created"]


def test_a_matching_email_or_phone_is_skipped_updated_or_created_anyway(uow):
    existing = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "L", "emails": [{"address": "louise@papier.fr"}], "phones": [{"number": "+33 6 12 34 56 78"}]}), uow)
    row = {"first_name": "Louise", "last_name": "Desnotés", "emails": [{"address": "LOUISE@papier.fr"}],
           "phones": [{"number": "06 12 34 56 78"}, {"number": "03 20 06 51 26", "tag": "work"}]}
    assert statuses(create_many(uow, "acct-1", [row], on_match="skip")) == ["skipped"]
    updated = create_many(uow, "acct-1", [row], on_match="update")
    assert statuses(updated) == ["updated"] and updated[0].contact_id == existing.id
    with uow:
        contact = uow.contacts.get("acct-1", existing.id)
    assert (contact.details["first_name"], contact.details["last_name"]) == ("Louise", "Desnotés")
    assert [p["e164"] for p in contact.details["phones"]] == ["+33612345678", "+33320065126"]
    assert len(contact.details["emails"]) == 1
    assert statuses(create_many(uow, "acct-1", [row], on_match="update")) == ["skipped"]  # nothing new
    anyway = create_many(uow, "acct-1", [{**row, "first_name": "Autre"}], on_match="create")
    assert statuses(anyway) == ["created"] and anyway[0].contact_id != existing.id


def test_a_row_matching_a_restricted_contact_is_not_applied_to_it_and_fails_naming_it(uow):
    louise = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "L", "emails": [{"address": "louise@papier.fr"}]}), uow)
    paul = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "P", "emails": [{"address": "paul@papier.fr"}]}), uow)
    restrictions = InMemoryProcessingRestrictions()
    restrictions.restrict("acct-1", [louise.id], "privacy-request:r18")  # Art. 18: kept, not edited
    rows = [{"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]},
            {"first_name": "Paul", "emails": [{"address": "paul@papier.fr"}]}]
    outcomes = create_many(uow, "acct-1", rows, on_match="update", restrictions=restrictions)
    assert statuses(outcomes) == ["failed", "updated"]
    assert outcomes[0].contact_id == louise.id and "restricted" in outcomes[0].reason
    with uow:
        assert uow.contacts.get("acct-1", louise.id).details["first_name"] == "L"
        assert uow.contacts.get("acct-1", paul.id).details["first_name"] == "Paul"
    assert statuses(create_many(uow, "acct-1", rows[:1], on_match="skip", restrictions=restrictions)) == ["skipped"]


def test_two_rows_of_one_batch_with_the_same_email(uow):
    rows = [{"first_name": "A", "emails": [{"address": "a@x.fr"}]}, {"last_name": "B", "emails": [{"address": "a@x.fr"}]}]
    outcomes = create_many(uow, "acct-1", rows, on_match="update")
    assert statuses(outcomes) == ["created", "updated"]
    with uow:
        contact = uow.contacts.get("acct-1", outcomes[0].contact_id)
    assert (contact.details["first_name"], contact.details["last_name"]) == ("A", "B")


def live_holders(uow, account_id, outcomes, e164):
    """The stored, live contacts among the outcomes' that have this phone number."""
    holders = set()
    with uow:
        for contact_id in {o.contact_id for o in outcomes if o.contact_id}:
            contact = uow.contacts.get(account_id, contact_id)
            if any(p.get("e164") == e164 for p in contact.details.get("phones") or []):
                holders.add(contact_id)
    return holders


@pytest.mark.parametrize("on_match, second", [("skip", "skipped"), ("update", "updated")])
def test_the_same_person_twice_in_one_batch_email_in_capitals_or_matched_by_phone(uow, on_match, second):
    rows = [{"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}], "phones": [{"number": "06 12 34 56 78"}]},
            {"first_name": "Hélène", "emails": [{"address": "helene@etoile.fr"}]},
            {"last_name": "Desnotés", "emails": [{"address": "LOUISE@Papier.FR"}]},
            {"company": "Maison du Papier", "phones": [{"number": "+33 6 12 34 56 78"}]}]
    outcomes = create_many(uow, "acct-1", rows, on_match=on_match)
    assert statuses(outcomes) == ["created", "created", second, second]
    assert outcomes[2].contact_id == outcomes[3].contact_id == outcomes[0].contact_id
    if on_match == "update":
        with uow:
            louise = uow.contacts.get("acct-1", outcomes[0].contact_id)
        assert (louise.details["last_name"], louise.details["company"]) == ("Desnotés", "Maison du Papier")


@pytest.mark.parametrize("on_match", ["skip", "update"])
def test_a_row_matching_an_earlier_row_of_the_batch_follows_the_contact_that_row_matched(uow, on_match):
    """The earlier row matched a stored contact by email; the later one shares only the earlier row's new phone."""
    stored = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]}), uow)
    rows = [{"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}], "phones": [{"number": "06 12 34 56 78"}]},
            {"last_name": "Desnotés", "phones": [{"number": "+33612345678"}]}]
    outcomes = create_many(uow, "acct-1", rows, on_match=on_match)
    assert [o.contact_id for o in outcomes] == [stored.id, stored.id]
    assert "created" not in statuses(outcomes)
    if on_match == "update":
        assert live_holders(uow, "acct-1", outcomes, "+33612345678") == {stored.id}


def test_the_same_person_in_two_batches_is_matched_by_the_claims_of_the_first(uow):
    first = create_many(uow, "acct-1", [{"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}],
                                         "phones": [{"number": "06 12 34 56 78"}]}], on_match="update")
    by_email = create_many(uow, "acct-1", [{"last_name": "Desnotés", "emails": [{"address": "LOUISE@PAPIER.FR"}]}],
                           on_match="update")
    by_phone = create_many(uow, "acct-1", [{"company": "Maison du Papier", "phones": [{"number": "+33 6 12 34 56 78"}]}],
                           on_match="skip")
    assert statuses(first + by_email + by_phone) == ["created", "updated", "skipped"]
    assert {o.contact_id for o in first + by_email + by_phone} == {first[0].contact_id}


def test_an_update_cannot_give_the_matched_contact_a_phone_another_contact_holds(uow):
    louise = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]}), uow)
    paul = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "Paul", "phones": [{"number": "06 12 34 56 78"}]}), uow)
    row = {"last_name": "Desnotés", "emails": [{"address": "louise@papier.fr"}],
           "phones": [{"number": "+33 6 12 34 56 78"}, {"number": "03 20 06 51 26"}]}
    [failed] = create_many(uow, "acct-1", [row], on_match="update")
    assert (failed.status, failed.contact_id) == ("failed", louise.id)
    assert "+33612345678" in failed.errors["phones"][0] and paul.id in failed.errors["phones"][0]
    assert live_holders(uow, "acct-1", [failed, RowOutcome("", paul.id)], "+33612345678") == {paul.id}
    with uow:  # nothing of the row was applied, and its other phone (claimed first, in sorted order) was released
        assert not uow.contacts.get("acct-1", louise.id).details.get("last_name")
    handlers.create_contact(commands.CreateContact("acct-1", {"phones": [{"number": "03 20 06 51 26"}]}), uow)


def test_a_row_matching_two_people_of_the_batch_fails_rather_than_give_one_the_others_email(uow):
    rows = [{"first_name": "Paul", "phones": [{"number": "06 12 34 56 78"}]},
            {"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]},
            {"last_name": "Desnotés", "phones": [{"number": "+33612345678"}], "emails": [{"address": "Louise@papier.fr"}]}]
    outcomes = create_many(uow, "acct-1", rows, on_match="update")
    assert statuses(outcomes) == ["created", "created", "failed"]
    assert outcomes[2].contact_id == outcomes[0].contact_id  # the first earlier row it shares something with
    assert "louise@papier.fr" in outcomes[2].errors["emails"][0] and outcomes[1].contact_id in outcomes[2].errors["emails"][0]
    with uow:
        assert uow.contacts.get("acct-1", outcomes[0].contact_id).details["emails"] == []


def test_on_match_create_still_creates_a_contact_per_row_on_purpose(uow):
    rows = [{"first_name": "A", "emails": [{"address": "a@x.fr"}]}, {"first_name": "B", "emails": [{"address": "A@X.FR"}]}]
    outcomes = create_many(uow, "acct-1", rows, on_match="create")
    assert statuses(outcomes) == ["created", "created"] and outcomes[0].contact_id != outcomes[1].contact_id


def test_a_skipped_row_leaves_no_claim_behind_and_an_update_claims_what_it_adds(uow):
    existing = handlers.create_contact(commands.CreateContact("acct-1", {
        "first_name": "L", "emails": [{"address": "louise@papier.fr"}]}), uow)
    row = {"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}], "phones": [{"number": "06 11 11 11 11"}]}
    assert statuses(create_many(uow, "acct-1", [row], on_match="skip")) == ["skipped"]
    # the row's phone was claimed in bulk for a contact that was never stored: it is free again
    other = handlers.create_contact(commands.CreateContact("acct-1", {"phones": [{"number": "06 11 11 11 11"}]}), uow)
    row = {"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}], "phones": [{"number": "06 22 22 22 22"}]}
    assert statuses(create_many(uow, "acct-1", [row], on_match="update")) == ["updated"]
    with pytest.raises(DuplicateContact) as excinfo:  # the phone the update added is the contact's now
        handlers.create_contact(commands.CreateContact("acct-1", {"phones": [{"number": "+33 6 22 22 22 22"}]}), uow)
    assert excinfo.value.extra["existing_contact_id"] == existing.id != other.id


def test_an_update_keeps_the_matched_contacts_custom_values(uow):
    custom_field_handlers.add_custom_field(commands.AddCustomField("acct-1", "Budget", "number"), uow)
    existing = handlers.create_contact(commands.CreateContact("acct-1", {
        "emails": [{"address": "a@x.fr"}], "custom_fields": {"budget": 10}}), uow)
    outcomes = create_many(uow, "acct-1", [{"first_name": "A", "emails": [{"address": "a@x.fr"}]}], on_match="update")
    assert statuses(outcomes) == ["updated"]
    with uow:
        assert uow.contacts.get("acct-1", existing.id).details["custom_fields"] == {"budget": 10}


def test_an_imported_row_with_text_the_read_model_cannot_store_fails_alone(uow):
    """The edge guards requests; an imported file's cells reach the domain another way and meet the same rule."""
    rows = [{"first_name": "Nul\x00le", "emails": [{"address": "nulle@papier.fr"}]},
            {"first_name": "Louise", "addresses": [{"city": "Lille\x1b[31m"}]},
            {"first_name": "Paul", "last_name": "Ligne\x0bmanuelle"}]  # Word's manual line break is text
    outcomes = create_many(uow, "acct-1", rows)
    assert statuses(outcomes) == ["failed", "failed", "created"]
    assert "first_name" in outcomes[0].errors and "addresses" in outcomes[1].errors


def test_an_outage_while_updating_a_matched_row_is_raised_for_the_job_runner_to_wait_out():
    """It used to become the row's failure: the row was then neither imported nor retried."""
    from crm_platform.errors import DependencyUnavailable

    class FlakyStore(InMemoryEventStore):
        """Goes down once the duplicate check has read the matched contact: the update itself meets the outage."""

        contact_loads_left = None

        def load(self, aggregate_id):
            if self.contact_loads_left is not None and ":" not in aggregate_id:  # a contact's (uuid) stream
                if self.contact_loads_left == 0:
                    raise DependencyUnavailable("event store unavailable")
                self.contact_loads_left -= 1
            return super().load(aggregate_id)

    store = FlakyStore()
    uow = UnitOfWork(store, PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())
    create_many(uow, "acct-1", [{"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]}])
    store.contact_loads_left = 1
    with pytest.raises(DependencyUnavailable):
        create_many(uow, "acct-1", [{"last_name": "Desnotes", "emails": [{"address": "louise@papier.fr"}]}],
                    on_match="update")


def test_a_rows_contact_id_is_keyed_by_the_account_secret_not_a_hash_of_the_row_alone():
    def new_uow():
        return UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())

    here, elsewhere = new_uow(), new_uow()
    ids_here = [o.contact_id for o in create_many(here, "acct-1", ROWS) if o.status == "created"]
    ids_elsewhere = [o.contact_id for o in create_many(elsewhere, "acct-1", ROWS) if o.status == "created"]
    # the same rows with another vault's secret: other ids, so an id tells nothing of the row it came from
    assert len(ids_here) == 3 and not set(ids_here) & set(ids_elsewhere)
    assert [o.contact_id for o in create_many(here, "acct-1", ROWS) if o.status == "skipped"] == ids_here
