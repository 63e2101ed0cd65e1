"""Mail from the outbox on the real database, over real SMTP to the aiosmtpd sink (crm_platform.testing.smtp_sink)."""
from __future__ import annotations

import base64
import os
import threading
import time
from datetime import timedelta

import pytest

from crm_platform.leases import Lease
from crm_platform.mail import FAILED, REJECTED, SENT, SUBJECT_ERASED, MailDispatcher, MailOutbox, SmtpSender, message_id
from crm_platform.personal_data import MongoSubjectKeyStore, PersonalDataCipher
from crm_platform.service_container import ServiceContainer
from crm_platform.settings import PersonalDataSettings, load_settings
from crm_platform.testing.mail_outbox_contract import a_mail
from crm_platform.testing.smtp_sink import SmtpSink


@pytest.fixture
def cipher(mongo_db):
    return PersonalDataCipher(MongoSubjectKeyStore(mongo_db["subject_keys"], os.urandom(32)))


@pytest.fixture
def outbox(mongo_db, cipher):
    outbox = MailOutbox(mongo_db["mail_outbox"], cipher)
    outbox.ensure_indexes()
    return outbox


def sender_to(sink: SmtpSink) -> SmtpSender:
    return SmtpSender(sink.host, sink.port, "CRM <no-reply@crm.example>", timeout_s=5)


def test_a_mail_is_delivered_once_with_its_headers_parts_and_message_id(outbox, smtp_sink):
    outcomes = []
    assert outbox.enqueue(a_mail())
    assert not outbox.enqueue(a_mail())  # enqueued twice: one mail
    mails = MailDispatcher(outbox, sender_to(smtp_sink), outcomes.append)
    assert mails.dispatch_due() == 1 and mails.dispatch_due() == 0
    received, = smtp_sink.wait_for(1)
    time.sleep(0.2)
    assert len(smtp_sink.messages) == 1
    assert received.mail_from == "no-reply@crm.example" and received.rcpt_tos == ("ada@example.com",)
    message = received.message
    assert (message["From"], message["To"], message["Subject"]) == (
        "CRM <no-reply@crm.example>", "ada@example.com", "Your invoice INV-7")
    assert message["Message-ID"] == message_id("message:1", "crm.example")
    assert message.get_body(("plain",)).get_content().strip() == "Hello Ada"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello Ada</p>"
    attachment, = message.iter_attachments()
    assert (attachment.get_filename(), attachment.get_content()) == ("invoice.pdf", b"%PDF-1.7 secret")
    assert [(o.mail_id, o.status, o.reason, o.attempts) for o in outcomes] == [("message:1", SENT, None, 1)]
    assert outbox.status("message:1") == SENT


def test_a_refused_recipient_gives_rejected(outbox, smtp_sink):
    smtp_sink.refused.add("ada@example.com")
    outcomes = []
    outbox.enqueue(a_mail())
    MailDispatcher(outbox, sender_to(smtp_sink), outcomes.append).dispatch_due()
    assert [(o.status, o.reason) for o in outcomes] == [(FAILED, REJECTED)] and smtp_sink.messages == []


def test_a_deferred_recipient_is_tried_again(outbox, smtp_sink):
    smtp_sink.deferred.add("ada@example.com")
    outcomes = []
    outbox.enqueue(a_mail())
    mails = MailDispatcher(outbox, sender_to(smtp_sink), outcomes.append, retry_base=timedelta(milliseconds=100))
    mails.dispatch_due()
    assert outbox.status("message:1") == "queued" and outcomes == []
    smtp_sink.deferred.clear()
    time.sleep(0.2)
    mails.dispatch_due()
    assert [(o.status, o.attempts) for o in outcomes] == [(SENT, 2)] and len(smtp_sink.messages) == 1


def test_with_the_server_down_the_mail_is_retried_and_sent_once_it_is_back(outbox):
    sink = SmtpSink()  # not started: the port refuses connections
    outcomes = []
    outbox.enqueue(a_mail())
    mails = MailDispatcher(outbox, sender_to(sink), outcomes.append, retry_base=timedelta(milliseconds=100))
    for _ in range(2):
        mails.dispatch_due()
        time.sleep(0.25)
    assert outbox.status("message:1") == "queued" and outcomes == []
    with sink:
        mails.dispatch_due()
        sink.wait_for(1)
    assert [(o.status, o.attempts) for o in outcomes] == [(SENT, 3)]


def test_an_erased_person_s_queued_mail_is_not_sent(outbox, cipher, smtp_sink, mongo_db):
    outcomes = []
    outbox.enqueue(a_mail())
    cipher.shred("contact:c1")
    MailDispatcher(outbox, sender_to(smtp_sink), outcomes.append).dispatch_due()
    assert [(o.status, o.reason) for o in outcomes] == [(FAILED, SUBJECT_ERASED)] and smtp_sink.messages == []
    assert "sealed" not in mongo_db["mail_outbox"].find_one({"_id": "message:1"})


def test_two_dispatchers_never_send_one_mail_twice(outbox, smtp_sink, mongo_db):
    for n in range(20):
        outbox.enqueue(a_mail(f"message:{n}", reference={"n": n}))
    outcomes = []
    stop = threading.Event()
    dispatchers = [MailDispatcher(outbox, sender_to(smtp_sink), outcomes.append,
                                  lease=Lease(mongo_db["leases"], "mail-dispatch", ttl=timedelta(seconds=2)))
                   for _ in range(2)]
    threads = [threading.Thread(target=d.run, args=(stop,), kwargs={"idle_interval_s": 0.05}) for d in dispatchers]
    for thread in threads:
        thread.start()
    try:
        smtp_sink.wait_for(20, timeout_s=30)
        deadline = time.monotonic() + 10
        while len(outcomes) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    ids = sorted(m.message["Message-ID"] for m in smtp_sink.messages)
    assert len(ids) == 20 and len(set(ids)) == 20
    assert sorted(o.mail_id for o in outcomes) == sorted(f"message:{n}" for n in range(20))


class ExampleContainer(ServiceContainer):
    service_name = "example"
    database_setting = "EXAMPLE_DB"
    events_topic_name = "example.events"


def test_a_service_queues_with_mail_outbox_and_sends_with_mail_loop(infra, mongo_client, unique_suffix, smtp_sink):
    settings = load_settings(type("ExampleSettings", (PersonalDataSettings,), {})(), {
        "MONGO_URI": infra.mongo_uri, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap, "INTERNAL_TOKEN": "t" * 16,
        "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), "KEYVAULT_DB": f"test_{unique_suffix}_keys",
        "SMTP_HOST": smtp_sink.host, "SMTP_PORT": str(smtp_sink.port), "MAIL_FROM": "no-reply@crm.example"})
    settings["EXAMPLE_DB"] = f"test_{unique_suffix}_example"
    container = ExampleContainer(settings)
    outcomes, stop = [], threading.Event()
    try:
        assert container.mail_outbox().enqueue(a_mail())
        loop = threading.Thread(target=container.mail_loop(outcomes.append), args=(stop,))
        loop.start()
        smtp_sink.wait_for(1)
        deadline = time.monotonic() + 5
        while not outcomes and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        loop.join(timeout=10)
        assert [(o.mail_id, o.status) for o in outcomes] == [("message:1", SENT)]
        assert container.db["leases"].count_documents({"name": "mail-dispatch"}) == 0  # released on stop
    finally:
        stop.set()
        mongo_client.drop_database(settings["EXAMPLE_DB"])
        mongo_client.drop_database(settings["KEYVAULT_DB"])
