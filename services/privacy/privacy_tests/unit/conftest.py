import hashlib
from datetime import timedelta

import pytest

from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from privacy.service_layer import dispatch
from privacy.service_layer.ports import Policy
from privacy.service_layer.unit_of_work import UnitOfWork

from .fakes import FakeClock, FakeEmailLookup, FakeExports, FakeFamilies, FakeScanner

SERVICES = ("contacts", "billing", "workflows")
# the distinctive values privacy's contacts directory knows of each contact (its sealed copy)
KNOWN_VALUES = {("acct-1", "contact:1"): ["Louise Martin", "louise@example.com"],
                ("acct-1", "contact:old"): ["louise.m@example.org"], ("acct-1", "contact:9"): ["+33612345678"]}
KNOWN_CONTACTS = {("acct-1", "contact:1"), ("acct-1", "contact:9"), ("acct-1", "contact:old"),
                  ("acct-1", "contact:unknown-values")}


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def exports():
    return FakeExports()


@pytest.fixture
def families():
    return FakeFamilies({("acct-1", "contact:1"): ["contact:1", "contact:old"]})


@pytest.fixture
def policy():
    return Policy(services=SERVICES, reply_timeout=timedelta(minutes=15), export_ttl=timedelta(days=7),
                  request_retention=timedelta(days=3 * 365))


@pytest.fixture
def lookup():
    return FakeEmailLookup({("acct-1", "louise@example.com"): ["contact:1", "contact:9"]})


def email_hash(account_id: str, email: str) -> str:
    return hashlib.sha256(f"{account_id}:{email.strip().casefold()}".encode()).hexdigest()


def phone_hash(account_id: str, e164: str) -> str:
    return hashlib.sha256(f"{account_id}:phone:{e164}".encode()).hexdigest()


@pytest.fixture
def phone_lookup():
    return FakeEmailLookup({("acct-1", "+33612345678"): ["contact:1", "contact:9"]})  # any key: the E.164 alike


@pytest.fixture
def scanner():
    return FakeScanner()


def known_values(account_id: str, contact_ids: list[str], email=None, phone=None) -> list[str]:
    named = [value for value in (email, phone) if value]
    return list(dict.fromkeys([*named, *(value for contact_id in contact_ids
                                         for value in KNOWN_VALUES.get((account_id, contact_id), []))]))


@pytest.fixture
def bus(store, cipher, clock, exports, families, lookup, phone_lookup, policy, scanner):
    return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
        "uow": Fresh(lambda: UnitOfWork(store, cipher)), "family": families, "lookup": lookup, "exports": exports,
        "email_hash": email_hash, "phone_lookup": phone_lookup, "phone_hash": phone_hash,
        "contact_known": lambda account_id, contact_id: (account_id, contact_id) in KNOWN_CONTACTS, "shred_subject": cipher.shred,
        "known_values": known_values, "scanner": scanner,
        "policy": policy, "clock": clock})
