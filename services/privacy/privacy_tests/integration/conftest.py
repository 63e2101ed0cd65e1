import base64
import os
from functools import partial

import pytest

from crm_platform.contracts.privacy import PRIVACY_REPLY_AGGREGATE_TYPE, PRIVACY_REPLY_CLASSES
from crm_platform.event_codec import EventCodec
from crm_platform.testing.service_fixtures import internal_headers, service_container, service_settings

from privacy import config
from privacy.bootstrap import Container
from privacy.entrypoints.api import create_app
from privacy.entrypoints.worker import RepliesOf
from privacy.service_layer import sweeps

from ..unit.fakes import FakeClock

REPLIES = EventCodec(PRIVACY_REPLY_CLASSES)


@pytest.fixture
def settings(infra, unique_suffix, topic_namespace):
    # the scan after an erasure reads this test's databases only (and one standing for the other services')
    scanned = ",".join(f"test_{unique_suffix}_{name}" for name in ("privacy", "keys", "exchange", "elsewhere"))
    return service_settings(config, "PRIVACY_DB", infra, unique_suffix, topic_namespace, KAFKA_TOPIC_PARTITIONS="1",
                            PRIVACY_SIGNING_KEY=base64.b64encode(os.urandom(32)).decode(), PRIVACY_CONTACT_WAIT_S="0",
                            PRIVACY_VERIFY_DATABASES=scanned, PRIVACY_VERIFY_TIMEOUT_S="60")


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def container(settings, mongo_client, clock):
    for container in service_container(partial(Container, clock=clock), settings, mongo_client, "PRIVACY_DB"):
        know_contact(container, "acct-1", "contact:1")  # the subject of most tests, as contacts.events made it known
        yield container
    mongo_client.drop_database(settings["PRIVACY_VERIFY_DATABASES"][-1])  # "elsewhere"


def know_contact(container, account_id: str, contact_id: str) -> None:
    """The contact in privacy's directory, as its ContactCreated would put it there."""
    container.contacts_directory.collection.update_one(
        {"_id": f"{account_id}:{contact_id}"}, {"$set": {"account_id": account_id, "contact_id": contact_id}},
        upsert=True)


@pytest.fixture
def client(container):
    app = create_app(container.settings)
    app.extensions["container"] = container  # the test's container, whose databases it drops
    return app.test_client()


def headers(account="acct-1", **extra):
    return internal_headers(account, **extra)


def project_all(container) -> int:
    """Every stored event into the read model, as the worker's projection consumer would (idempotent)."""
    applied = 0
    for envelope in container.event_store.read_all():
        container.projection.apply(envelope)
        applied += 1
    return applied


def verify_erasures(container) -> int:
    """The worker's verification sweep, once: every erasure ended since its last scan is scanned for."""
    project_all(container)
    return sweeps.VerificationRounds(container.bus, container.erasures_to_verify, container.verification_lease,
                                     container.clock)()


def deliver_reply(container, reply, topic_of=None) -> None:
    """A service's reply as the worker's replies consumer hands it over: an envelope read on the topic of
    `topic_of` (the service the reply names unless said otherwise)."""
    envelope = REPLIES.to_envelope(reply, PRIVACY_REPLY_AGGREGATE_TYPE, reply.request_id, 1, reply.account_id)
    RepliesOf(topic_of or reply.service, container.bus)(envelope)
