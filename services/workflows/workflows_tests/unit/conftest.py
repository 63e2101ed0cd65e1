import itertools

import pytest

from crm_platform.blobs import BlobStore
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.privacy_exchange import ExportExchange
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from workflows.service_layer import dispatch
from workflows.service_layer.privacy import WorkflowsPrivacyParticipant
from workflows.service_layer.unit_of_work import UnitOfWork

from .fakes import ForgottenTimelines, InMemoryCardsIndex, InMemoryContactsDirectory, InMemoryTasksIndex


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def contacts():
    directory = InMemoryContactsDirectory()
    for contact_id in ("contact:1", "contact:2", "contact:3"):
        directory.record_existing("acct-1", contact_id)
    return directory


@pytest.fixture
def cards_index(store, cipher):
    return InMemoryCardsIndex(store, UnitOfWork.event_codec(cipher))


@pytest.fixture
def tasks_index(store, cipher):
    return InMemoryTasksIndex(store, UnitOfWork.event_codec(cipher))


@pytest.fixture
def timelines():
    return ForgottenTimelines()


@pytest.fixture
def restrictions():
    return InMemoryProcessingRestrictions()


@pytest.fixture
def bus(store, cipher, contacts, cards_index, tasks_index, restrictions, timelines):
    ticks = itertools.count()
    return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
        "uow": Fresh(lambda: UnitOfWork(store, cipher)),
        "cards": cards_index,
        "tasks": tasks_index,
        "contacts": contacts,
        "timeline": timelines,
        "timeline_follower": timelines,
        "restrictions": restrictions,
        "clock": lambda: f"2026-12-01T10:00:{next(ticks) % 60:02d}+00:00",
    })


@pytest.fixture
def participant(store, cipher, cards_index, contacts, tasks_index, timelines):
    return WorkflowsPrivacyParticipant("workflows", lambda: UnitOfWork(store, cipher), cards_index, contacts,
                                       tasks_index, timelines, no_read_models)


def no_read_models(aggregate_ids: list[str]) -> None:
    """The unit tests' indexes are fakes with no read model to bring up to date (integration tests have one)."""


@pytest.fixture
def exchange(cipher):
    return ExportExchange(BlobStore(InMemoryCollection(), InMemoryCollection(), chunk_size=1000), cipher)
