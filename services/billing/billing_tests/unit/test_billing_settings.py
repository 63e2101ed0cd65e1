"""The account's billing settings: defaults, checked legal identity, revisions; through the real bus on fakes."""
import pytest

from crm_platform.contracts.billing import BILLING_EVENTS
from crm_platform.errors import InvalidInput, StaleRevision
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from billing.domain.settings import (
    FRENCH_LEGAL_TERMS, VAT_EXEMPTION_TEXT, BillingSettings, BillingSettingsChanged, ChangeBillingSettings,
)
from billing.service_layer import dispatch, settings_handlers
from billing.service_layer.unit_of_work import UnitOfWork

SELLER = {
    "name": "Agence  Dupont SAS", "siren": "732 829 320", "siret": "732 829 320 00074",
    "vat_number": "FR 40 303 265 045", "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "bnpafrpp",
    "address": {"street": ["12 rue de la Paix"], "postal_code": "75002", "city": "Paris", "country": "fr"},
}


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def uow_factory(store):
    cipher = PersonalDataCipher(InMemorySubjectKeyStore())
    return lambda: UnitOfWork(store, cipher)


@pytest.fixture
def bus(uow_factory):
    return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {"uow": Fresh(uow_factory)})


def test_an_account_that_never_set_them_has_the_french_defaults(uow_factory):
    settings = settings_handlers.account_settings("acct-1", uow_factory())
    assert settings.revision == 0 and settings.id == "billing-settings:acct-1"
    assert settings.settings["default_currency"] == "EUR" and settings.settings["time_zone"] == "Europe/Paris"
    assert settings.settings["numbering"]["invoices"] == "F-{YYYY}-{SEQ:4}"
    assert "40 €" in settings.legal_mentions() and VAT_EXEMPTION_TEXT not in settings.legal_mentions()


def test_the_seller_is_stored_in_the_compact_form_stdnum_gives(bus):
    settings = bus.handle(ChangeBillingSettings("acct-1", 0, {"seller": SELLER}))
    seller = settings.settings["seller"]
    assert (seller["siren"], seller["siret"], seller["vat_number"]) == ("732829320", "73282932000074", "FR40303265045")
    assert (seller["iban"], seller["bic"]) == ("FR7630006000011234567890189", "BNPAFRPP")
    assert seller["name"] == "Agence Dupont SAS" and seller["address"]["country"] == "FR"
    assert settings.revision == 1


@pytest.mark.parametrize("field, value", [
    ("siren", "732 829 321"), ("siret", "73282932000075"), ("vat_number", "FR40303265046"),
    ("iban", "FR76 3000 6000 0112 3456 7890 188"), ("bic", "BNP"), ("siren", 732829320),
])
def test_a_bad_number_is_refused_naming_it(bus, field, value):
    with pytest.raises(InvalidInput) as raised:
        bus.handle(ChangeBillingSettings("acct-1", 0, {"seller": {field: value}}))
    assert list(raised.value.errors) == [f"seller.{field}"]


@pytest.mark.parametrize("zone", ["localtime", "../../etc/passwd", "Europe/Pariss"])
def test_a_time_zone_that_is_no_iana_zone_is_refused(bus, zone):
    with pytest.raises(InvalidInput) as raised:  # `localtime` is the host's own zone, missing on another host
        bus.handle(ChangeBillingSettings("acct-1", 0, {"time_zone": zone}))
    assert list(raised.value.errors) == ["time_zone"]


def test_a_siret_of_another_company_than_the_siren_is_refused(bus):
    with pytest.raises(InvalidInput) as raised:
        bus.handle(ChangeBillingSettings("acct-1", 0, {"seller": {"siren": "732829320", "siret": "40483304800022"}}))
    assert list(raised.value.errors) == ["seller.siret"]


def test_every_bad_field_is_named_at_once(bus):
    with pytest.raises(InvalidInput) as raised:
        bus.handle(ChangeBillingSettings("acct-1", 0, {
            "default_currency": "EURO", "time_zone": "Europe/Pariss", "numbering": {"invoices": "F-{SEQ}-{SEQ}"},
            "payment_term": {"kind": "net", "days": -1}, "colour": "blue", "seller": {"address": {"country": "XX"}},
        }))
    assert set(raised.value.errors) == {"default_currency", "time_zone", "numbering.invoices", "payment_term.days",
                                        "colour", "seller.address.country"}


@pytest.mark.parametrize("pattern", ["FA{YY}{SEQ:5}", "F-{YYYY}-{SEQ}", "AV/{YY}/{SEQ:6}"])
def test_numbering_patterns_of_the_pattern_language_are_kept(bus, pattern):
    settings = bus.handle(ChangeBillingSettings("acct-1", 0, {"numbering": {"quotes": pattern}}))
    assert settings.settings["numbering"]["quotes"] == pattern
    assert settings.settings["numbering"]["invoices"] == "F-{YYYY}-{SEQ:4}"  # the others are kept


@pytest.mark.parametrize("pattern", ["F-{YYYY}", "{seq}", "F-{0.__class__}-{SEQ}", "", "F-{YYYY}-{SEQ:4}" + "x" * 40, "{SEQ:4}"])
def test_a_pattern_outside_the_language_is_refused(bus, pattern):
    with pytest.raises(InvalidInput) as raised:
        bus.handle(ChangeBillingSettings("acct-1", 0, {"numbering": {"invoices": pattern}}))
    assert list(raised.value.errors) == ["numbering.invoices"]


def test_a_change_based_on_an_old_revision_is_stale(bus):
    bus.handle(ChangeBillingSettings("acct-1", 0, {"default_currency": "chf"}))
    with pytest.raises(StaleRevision):
        bus.handle(ChangeBillingSettings("acct-1", 0, {"default_currency": "USD"}))
    again = bus.handle(ChangeBillingSettings("acct-1", 1, {"default_currency": "USD"}))
    assert again.settings["default_currency"] == "USD" and again.revision == 2


def test_a_change_that_changes_nothing_records_nothing(bus, store):
    bus.handle(ChangeBillingSettings("acct-1", 0, {"time_zone": "Europe/Paris"}))
    assert store.all_events == []


def test_a_null_clears_one_seller_field_and_keeps_the_others(bus):
    bus.handle(ChangeBillingSettings("acct-1", 0, {"seller": SELLER}))
    settings = bus.handle(ChangeBillingSettings("acct-1", 1, {"seller": {"iban": None}}))
    assert "iban" not in settings.settings["seller"] and settings.settings["seller"]["bic"] == "BNPAFRPP"


def test_a_vat_exempt_seller_s_documents_say_why(bus):
    settings = bus.handle(ChangeBillingSettings("acct-1", 0, {"vat_exempt": True}))
    assert settings.legal_mentions().startswith(VAT_EXEMPTION_TEXT) and FRENCH_LEGAL_TERMS in settings.legal_mentions()


def test_settings_are_per_account(bus, uow_factory):
    bus.handle(ChangeBillingSettings("acct-1", 0, {"default_currency": "GBP"}))
    assert settings_handlers.account_settings("acct-2", uow_factory()).settings["default_currency"] == "EUR"


def test_what_it_publishes_is_its_contract(bus, store):
    bus.handle(ChangeBillingSettings("acct-1", 0, {"seller": SELLER, "payment_term": {"kind": "end_of_month", "days": 10}}))
    [envelope] = store.all_events
    assert envelope.event_type == BillingSettingsChanged.event_type() and envelope.aggregate_type == BillingSettings.aggregate_type
    contract = BILLING_EVENTS.contract(envelope.event_type)
    assert envelope.schema_version == contract.version and contract.validate(envelope.payload) == {}
    assert sorted(envelope.payload["changed"]) == ["payment_term", "seller"]
