"""The documents consumer's polled batches on the real database (bootstrap.documents_batch): each document's
history read once and its keys in one go, written in bulk, the same documents as one by one, and what the bulk
write cannot confirm applied one by one."""
from collections import Counter

import pytest

from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import make_consumer
from crm_platform.mongo import MongoConnection
from crm_platform.testing.consumers import run_until_processed
from crm_platform.testing.topics import publish_envelopes
from crm_platform.testing.statements import Statements

from billing.bootstrap import Container
from billing.domain import commands
from billing.domain import quote_commands as QuoteCommands

from ..contact_events import LOUISE, ContactEvents

LINE = {"description": "Audit", "quantity": "1", "unit": "jour", "unit_price": "800",
        "taxes": [{"category": "S", "rate": "20"}]}
COLLECTIONS = ("invoices", "credit_notes", "quotes", "recurring_invoices")


@pytest.fixture
def customer(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:1", LOUISE))
    return "contact:1"


def documents(container, customer, invoices=3):
    """Invoices issued and partly paid (960 less 100), a credit note (120) on the first, a quote sent: their
    events, oldest first."""
    ids = []
    for _ in range(invoices):
        invoice = container.bus.handle(commands.CreateInvoiceDraft("acct-1", customer, (LINE,)))
        invoice = container.bus.handle(commands.IssueInvoice("acct-1", invoice.id))
        container.bus.handle(commands.RecordPayment("acct-1", invoice.id, "100", invoice.issued_on, "card"))
        ids.append(invoice.id)
    container.bus.handle(commands.IssueCreditNote("acct-1", ids[0], "Geste", ({**LINE, "unit_price": "100"},)))
    quote = container.bus.handle(QuoteCommands.CreateQuoteDraft("acct-1", customer, (LINE,)))
    container.bus.handle(QuoteCommands.SendQuote("acct-1", quote.id))
    return list(container.event_store.read_all())


def counted(container):
    """Another container on the same databases, whose every statement is counted (by collection and command)."""
    statements = Statements()
    other = Container(container.settings)
    other.mongo = MongoConnection(container.settings["MONGO_URI"], "test", event_listeners=[statements])
    return other, statements


def by_collection(statements) -> Counter:
    return Counter((command[name], name) for name, command in zip(statements.names, statements.commands))


def as_one_batch(container, envelopes) -> None:
    """What the worker's documents consumer does with a polled batch, without Kafka: the block, then each event."""
    with container.documents_batch(envelopes):
        for envelope in envelopes:
            container.apply_to_documents(envelope)


def stored(container) -> dict:
    """Every document of the four read models, the sealed buyer's name opened (its seal differs at each write)."""
    found = {}
    for name in COLLECTIONS:
        projection = getattr(container, name)
        for doc in projection.collection.find():
            found[doc["_id"]] = projection.opened([doc])[0] if name != "recurring_invoices" else doc
    return found


def test_a_batch_reads_each_history_once_its_keys_once_and_writes_each_read_model_in_one_statement(container,
                                                                                                  customer):
    envelopes = documents(container, customer)
    documents_in_batch = len({e.aggregate_id for e in envelopes
                              if e.aggregate_type in ("Invoice", "CreditNote", "Quote")})
    other, statements = counted(container)
    as_one_batch(other, envelopes)
    counts = by_collection(statements)
    assert counts[("event_commits", "find")] == documents_in_batch  # one history read per document, not two per event
    # each document's key read once (an `_id` equality each, in one go per read model), not one per event decoded
    assert counts[("subject_keys", "find")] <= documents_in_batch < len(envelopes) / 2
    for name in ("invoices", "credit_notes", "quotes"):  # new documents: one insert, nothing read back
        assert [command for (collection, command) in counts.elements() if collection == name] == ["insert"]
    assert len(statements.names) <= 2 * documents_in_batch + 3  # whatever the number of events
    assert statements.using("$in") == []


def test_a_batch_leaves_the_documents_one_by_one_leaves_and_again_changes_nothing(container, customer):
    envelopes = documents(container, customer)
    as_one_batch(container, envelopes)
    batched = stored(container)
    assert {doc["version"] for doc in batched.values()} and all(doc["buyer_name"] == "Louise Desnotes"
                                                                 for doc in batched.values())
    for name in COLLECTIONS:
        getattr(container, name).collection.delete_many({})
    for envelope in envelopes:
        container.apply_to_documents(envelope)
    assert stored(container) == batched
    for envelope in envelopes:  # a rebuild rewrites each document at its version: the same
        container.apply_to_documents(envelope, rebuilding=True)
    assert stored(container) == batched
    other, statements = counted(container)
    as_one_batch(other, envelopes)  # delivered again: nothing changes, nothing goes one by one
    assert stored(container) == batched
    assert counts_of(statements, "event_commits", "find") == len({e.aggregate_id for e in envelopes
                                                                  if e.aggregate_type != "BillingSettings"})


def counts_of(statements, collection, command) -> int:
    return by_collection(statements)[(collection, command)]


def test_a_document_the_bulk_write_finds_missing_gets_its_events_one_by_one(container, customer):
    envelopes = documents(container, customer, invoices=1)
    later = [e for e in envelopes if e.aggregate_type == "Invoice" and e.aggregate_version > 1]  # its first lost
    assert container.invoices.apply_batch(later) == set()  # not written: no document to move forward
    as_one_batch(container, later)
    doc = container.invoices.collection.find_one({"_id": later[0].aggregate_id})
    assert (doc["version"], doc["amount_due"], doc["stage"]) == (later[-1].aggregate_version, "740.00", "issued")


def test_one_event_alone_reads_its_history_once_and_its_keys_in_one_go(container, customer):
    envelopes = documents(container, customer, invoices=1)
    payment = next(e for e in reversed(envelopes) if e.aggregate_type == "Invoice")
    assert payment.aggregate_version >= 3
    other, statements = counted(container)
    other.apply_to_documents(payment)
    assert counts_of(statements, "event_commits", "find") == 1
    assert counts_of(statements, "subject_keys", "find") == 1


def test_the_consumer_with_the_documents_batch_builds_the_read_models_from_the_topic(container, customer, settings,
                                                                                   topic_namespace):
    envelopes = documents(container, customer)
    topic = container.events_topic
    publish_envelopes(settings["KAFKA_BOOTSTRAP_SERVERS"], topic, envelopes, "test-billing")
    other, statements = counted(container)
    consumer = EventConsumer("billing.documents", lambda: make_consumer(
        settings["KAFKA_BOOTSTRAP_SERVERS"], f"{topic_namespace}billing.documents", [topic], "test"),
        container.producer, other.apply_to_documents, retry_delay_s=0.01, batch_context=other.documents_batch)
    run_until_processed(consumer, len(envelopes))
    assert consumer.processed == len(envelopes) and consumer.dead_lettered == 0
    assert counts_of(statements, "event_commits", "find") < len(envelopes)  # by batch, not two per event
    as_batched = stored(container)
    for envelope in envelopes:
        container.apply_to_documents(envelope, rebuilding=True)
    assert stored(container) == as_batched and len(as_batched) == 5
