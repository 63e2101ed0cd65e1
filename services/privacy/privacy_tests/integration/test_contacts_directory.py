"""Privacy's projection of contacts on the real database: a request names the subject's whole merge family, or
whoever holds an email."""
import dataclasses
import threading
import time

import pytest

from crm_platform import id_guards
from crm_platform.contracts.contacts import (
    CONTACT_LIFECYCLE_CLASSES, ContactCreated, ContactDeleted, ContactDeletedFact, ContactErased, ContactErasedFact,
    ContactsMerged, ContactUpdated,
)
from crm_platform.envelope import new_envelope
from crm_platform.event_codec import EventCodec

from privacy.adapters.contacts_directory import STATES_WITH_PHONES
from privacy.service_layer import sweeps

from .conftest import headers, know_contact, project_all

# as contacts publishes them: the contact's id in the payload too (a fact's own codec leaves it to the envelope,
# and a payload without it breaks the contract: the directory's codec refuses it)
PUBLISHED_AS = {ContactDeletedFact: ContactDeleted, ContactErasedFact: ContactErased}


def ContactCreatedFact(contact_id, account, emails=()):  # noqa: N802 - as contacts publishes it: with its details
    return ContactCreated(contact_id, account, {"first_name": "Louise", "emails": [{"address": e} for e in emails]})


def ContactsMergedFact(contact_id, account, source_ids, emails=()):  # noqa: N802 - the survivor's whole state
    return ContactsMerged(contact_id, account, {"first_name": "Louise", "emails": [{"address": e} for e in emails]},
                          source_ids=source_ids)


def feed(container, *facts, account="acct-1"):
    """Each event as contacts publishes it (every detail, phones included, sealed with the contact's key),
    delivered twice."""
    lifecycle = EventCodec((*STATES_WITH_PHONES, *CONTACT_LIFECYCLE_CLASSES[len(STATES_WITH_PHONES):]),
                           container.cipher)
    versions: dict = {}
    for fact in facts:
        versions[fact.contact_id] = version = versions.get(fact.contact_id, 0) + 1
        if type(fact) in PUBLISHED_AS:
            fact = PUBLISHED_AS[type(fact)](**dataclasses.asdict(fact))
        envelope = lifecycle.to_envelope(fact, "Contact", fact.contact_id, version, account)
        assert container.contacts_directory.apply(envelope)
        assert container.contacts_directory.apply(envelope)  # redelivered: the same


def test_the_family_is_every_contact_merged_with_the_subject_up_and_down(container):
    feed(container, *(ContactCreatedFact(f"contact:{n}", "acct-1") for n in range(1, 6)),
         ContactsMergedFact("contact:2", "acct-1", ["contact:3"]),
         ContactDeletedFact("contact:3", "acct-1", merged_into="contact:2"),
         ContactsMergedFact("contact:1", "acct-1", ["contact:2", "contact:4"]),
         ContactDeletedFact("contact:2", "acct-1", merged_into="contact:1"),
         ContactDeletedFact("contact:4", "acct-1", merged_into="contact:1"),
         ContactErasedFact("contact:5", "acct-1"))
    family = container.contacts_directory.family
    assert family("acct-1", "contact:1") == ["contact:1", "contact:2", "contact:3", "contact:4"]
    assert family("acct-1", "contact:3") == ["contact:3", "contact:1", "contact:2", "contact:4"]
    assert family("acct-1", "contact:5") == ["contact:5"]
    assert family("acct-2", "contact:1") == ["contact:1"]  # another account knows none of them
    assert family("acct-1", "contact:unknown") == ["contact:unknown"]


def test_other_events_of_contacts_are_passed_over(container):
    envelope = new_envelope(event_type="LabelCreated", aggregate_type="Label", aggregate_id="label:1",
                            aggregate_version=1, account_id="acct-1", payload={"name": "VIP"})
    assert not container.contacts_directory.apply(envelope)


def test_a_request_asks_about_the_whole_family(client, container):
    feed(container, ContactCreatedFact("contact:1", "acct-1"), ContactCreatedFact("contact:7", "acct-1"),
         ContactsMergedFact("contact:1", "acct-1", ["contact:7"]),
         ContactDeletedFact("contact:7", "acct-1", merged_into="contact:1"))
    body = {"type": "erasure", "subject": {"contact_id": "contact:7"}, "requester": "Louise", "reason": "e-mail"}
    created = client.post("/v1/privacy/requests", json=body, headers=headers()).get_json()
    assert created["contact_id"] == "contact:7" and created["contact_ids"] == ["contact:7", "contact:1"]


@pytest.mark.parametrize("scanning", [False, True], ids=["guard in the statement", "guard read by _id"])
def test_an_email_finds_its_live_holders_in_the_account_whatever_its_case(container, monkeypatch, scanning):
    """Also as on a server that would scan for the update's guard (FerretDB over SQLite): crm_platform.id_guards."""
    if scanning:
        monkeypatch.setattr(id_guards, "server_scans_for", lambda collection, sample: True)
    feed(container, ContactCreatedFact("contact:1", "acct-1", ["Louise@Example.com"]),
         ContactCreatedFact("contact:2", "acct-1", ["louise@example.com", "l.martin@example.com"]),
         ContactCreatedFact("contact:3", "acct-1", ["louise@example.com"]),
         ContactErasedFact("contact:3", "acct-1"))
    feed(container, ContactCreatedFact("contact:4", "acct-2", ["louise@example.com"]), account="acct-2")
    holders = container.contacts_directory.holders_of
    assert holders("acct-1", " LOUISE@example.com") == ["contact:1", "contact:2"]
    assert holders("acct-2", "louise@example.com") == ["contact:4"]
    assert "example.com" not in str(list(container.contacts_directory.collection.find()))
    changed = ContactUpdated("contact:2", "acct-1", {"emails": [{"address": "l.martin@example.com"}]})
    envelope = EventCodec(CONTACT_LIFECYCLE_CLASSES, container.cipher).to_envelope(
        changed, "Contact", "contact:2", 2, "acct-1")
    container.contacts_directory.apply(envelope)
    assert holders("acct-1", "louise@example.com") == ["contact:1"]
    older = EventCodec(CONTACT_LIFECYCLE_CLASSES, container.cipher).to_envelope(
        ContactCreatedFact("contact:2", "acct-1", ["louise@example.com"]), "Contact", "contact:2", 1, "acct-1")
    container.contacts_directory.apply(older)  # redelivered late: the newer emails stay
    assert holders("acct-1", "l.martin@example.com") == ["contact:2"]


def test_a_request_by_email_is_confirmed_then_asks_about_the_confirmed_contacts_family(client, container):
    feed(container, ContactCreatedFact("contact:1", "acct-1", ["louise@example.com"]),
         ContactCreatedFact("contact:2", "acct-1", ["louise@example.com"]),
         ContactCreatedFact("contact:7", "acct-1"),
         ContactsMergedFact("contact:1", "acct-1", ["contact:7"], ["louise@example.com"]),
         ContactDeletedFact("contact:7", "acct-1", merged_into="contact:1"))
    body = {"type": "erasure", "subject": {"email": "Louise@example.com"}, "requester": "L", "reason": "e-mail"}
    created = client.post("/v1/privacy/requests", json=body, headers=headers())
    assert created.status_code == 202, created.get_json()
    listed = created.get_json()
    assert listed["status"] == "awaiting_confirmation" and listed["candidates"] == ["contact:1", "contact:2"]
    assert listed["contact_id"] is None and listed["email"] == "Louise@example.com"
    assert "Louise@" not in str(listed["audit_trail"])
    confirm = f"/v1/privacy/requests/{listed['id']}/confirm"
    wrong = client.post(confirm, json={"contact_ids": ["contact:3"]}, headers=headers())
    assert wrong.status_code == 422 and "contact_ids" in wrong.get_json()["errors"]
    assert client.post(confirm, json={"contact_ids": ["contact:1"]}, headers=headers("acct-2")).status_code == 404
    confirmed = client.post(confirm, json={"contact_ids": ["contact:1"]}, headers=headers()).get_json()
    assert confirmed["status"] == "in_progress" and confirmed["contact_ids"] == ["contact:1", "contact:7"]
    assert client.post(confirm, json={"contact_ids": ["contact:1"]}, headers=headers()).status_code == 409
    reject = client.post(f"/v1/privacy/requests/{listed['id']}/reject", json={"why": "not_the_subject"},
                         headers=headers())
    assert reject.status_code == 409


def test_a_request_by_an_email_nobody_holds_is_rejected(client, container):
    body = {"type": "access", "subject": {"email": "nobody@example.com"}, "requester": "L", "reason": "e-mail"}
    created = client.post("/v1/privacy/requests", json=body, headers=headers()).get_json()
    assert (created["status"], created["rejection"]) == ("rejected", "no_matching_contact")
    bad = client.post("/v1/privacy/requests", json={**body, "subject": {"email": "not an email"}}, headers=headers())
    assert bad.status_code == 422 and "email" in bad.get_json()["errors"]["subject"]


def test_a_request_about_a_contact_the_account_does_not_have_is_rejected_and_one_known_is_asked(client, container):
    body = {"type": "erasure", "subject": {"contact_id": "contact:1"}, "requester": "L", "reason": "e-mail"}
    known = client.post("/v1/privacy/requests", json=body, headers=headers()).get_json()
    assert known["status"] == "in_progress"
    for account, contact in (("acct-1", "contact:nobody"), ("acct-2", "contact:1")):  # unknown, another account's
        answer = client.post("/v1/privacy/requests", json={**body, "subject": {"contact_id": contact}},
                             headers=headers(account))
        assert answer.status_code == 202
        shown = answer.get_json()
        assert (shown["status"], shown["rejection"], shown["services"]) == ("rejected", "no_matching_contact", [])


def test_the_directory_waits_a_little_for_a_contact_created_a_moment_ago(container):
    directory = container.contacts_directory
    later = threading.Timer(0.5, know_contact, args=(container, "acct-1", "contact:new"))
    started = time.monotonic()
    later.start()
    try:
        assert directory.knows("acct-1", "contact:new", wait_s=10)
    finally:
        later.join()
    assert time.monotonic() - started < 5
    started = time.monotonic()
    assert not directory.knows("acct-1", "contact:never", wait_s=0.6)
    assert 0.5 <= time.monotonic() - started < 3


def test_a_request_nobody_confirmed_by_its_deadline_is_rejected_and_a_rejected_one_has_no_certificate(
        client, container, clock):
    feed(container, ContactCreatedFact("contact:1", "acct-1", ["louise@example.com"]))
    body = {"type": "access", "subject": {"email": "louise@example.com"}, "requester": "L", "reason": "e-mail"}
    request_id = client.post("/v1/privacy/requests", json=body, headers=headers()).get_json()["id"]
    project_all(container)
    lease = container.timeout_lease()
    clock.advance(days=30, hours=23)  # 2 December + one month = 2 January
    assert sweeps.time_out_requests(container.bus, container.overdue_requests, lease, clock) == 0
    clock.advance(hours=1)
    assert sweeps.time_out_requests(container.bus, container.overdue_requests, lease, clock) == 1
    shown = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert (shown["status"], shown["rejection"]) == ("rejected", "not_confirmed_by_deadline")
    certificate = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers())
    assert certificate.status_code == 409 and certificate.get_json()["type"].endswith("request-rejected")
    assert "rejected" in certificate.get_json()["detail"]
    project_all(container)
    assert sweeps.time_out_requests(container.bus, container.overdue_requests, lease, clock) == 0


def with_phones(contact_id, account, *e164s):
    """A ContactCreated as contacts records it: its phones among the details sealed."""
    details = {"first_name": "Louise", "phones": [{"number": n, "e164": n, "tag": "mobile"} for n in e164s]}
    created = next(cls for cls in STATES_WITH_PHONES if cls.event_type() == "ContactCreated")
    return created(contact_id, account, details)


def test_a_phone_finds_its_live_holders_in_the_account_by_its_e164(container):
    feed(container, with_phones("contact:1", "acct-1", "+33612345678"),
         with_phones("contact:2", "acct-1", "+33612345678", "+33320065126"),
         with_phones("contact:3", "acct-1", "+33612345678"), ContactErasedFact("contact:3", "acct-1"))
    feed(container, with_phones("contact:4", "acct-2", "+33612345678"), account="acct-2")
    holders = container.contacts_directory.holders_of_phone
    assert holders("acct-1", "+33612345678") == ["contact:1", "contact:2"]
    assert holders("acct-1", "+33320065126") == ["contact:2"]
    assert holders("acct-2", "+33612345678") == ["contact:4"]
    stored = container.db["contacts_directory"].find_one({"contact_id": "contact:1"})
    assert "612345678" not in str(stored)  # only keyed hashes are kept
    published = EventCodec(STATES_WITH_PHONES, container.cipher).to_envelope(
        with_phones("contact:5", "acct-1", "+33699999999"), "Contact", "contact:5", 1, "acct-1")
    assert "699999999" not in str(published.payload)  # sealed, as contacts seals it: opened here to be hashed
    assert container.db["contacts_directory"].find_one({"contact_id": "contact:3"}).get("phone_hashes") is None


def test_a_request_by_phone_lists_the_holders_of_the_number_typed_the_french_way(client, container):
    feed(container, with_phones("contact:1", "acct-1", "+33612345678"))
    body = {"type": "restriction", "subject": {"phone": "06 12 34 56 78"}, "requester": "Louise", "reason": "call"}
    created = client.post("/v1/privacy/requests", json=body, headers=headers())
    assert created.status_code == 202, created.get_json()
    shown = created.get_json()
    assert (shown["status"], shown["candidates"], shown["phone"]) == ("awaiting_confirmation", ["contact:1"],
                                                                      "+33612345678")
    refused = client.post("/v1/privacy/requests", json={**body, "subject": {"phone": "call me"}}, headers=headers())
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert "phone" in refused.get_json()["errors"]["subject"]


def test_an_import_s_events_are_kept_with_their_keys_read_at_once_and_one_write_each(container, infra):
    """An import's ContactCreated reach the directory in polled batches: the batch's keys and lookup secret (made
    then, for a new account) are read from the vault in a few statements (their keys were made together), not two
    reads an event, and the batch's new contacts are inserted in one statement, not three writes each. What is
    kept is what one by one keeps, and a redelivery changes nothing."""
    from pymongo import MongoClient

    from crm_platform.contracts.contacts import CONTACT_SUBJECT
    from crm_platform.personal_data import MongoSubjectKeyStore, PersonalDataCipher
    from crm_platform.testing.statements import Statements
    from privacy.adapters.contacts_directory import ContactsDirectory

    lifecycle = EventCodec(STATES_WITH_PHONES, container.cipher)
    contacts = [f"imported-{n}" for n in range(40)]
    envelopes = []
    subjects = [CONTACT_SUBJECT.format(contact_id=contact_id) for contact_id in contacts]
    with container.cipher.keys_ready(subjects, create=True):  # as an import's job makes their keys
        for contact_id in contacts:
            created = ContactCreated(contact_id, "acct-1", {"first_name": "Louise", "last_name": f"Martin {contact_id}",
                                                            "emails": [{"address": f"{contact_id}@example.fr"}]})
            envelopes.append(lifecycle.to_envelope(created, "Contact", contact_id, 1, "acct-1"))
    statements = Statements()
    client = MongoClient(infra.mongo_uri, tz_aware=True, event_listeners=[statements])
    settings = container.settings
    directory = ContactsDirectory(client[settings["PRIVACY_DB"]]["contacts_directory"], PersonalDataCipher(
        MongoSubjectKeyStore(client[settings["KEYVAULT_DB"]]["subject_keys"], settings["MASTER_KEY"])))
    with directory.batch(envelopes):
        assert all(directory.apply(envelope) for envelope in envelopes)
    vault = [c for c in statements.commands if c.get("find") == "subject_keys"]
    writes = [c for c in statements.commands if "contacts_directory" in (c.get("update"), c.get("insert"))]
    assert len(vault) <= 5 and [c.get("insert") for c in writes][:1] == ["contacts_directory"]
    assert len(writes[0]["documents"]) == len(contacts) and len(writes) == 1
    before = len(statements.commands)
    with directory.batch(envelopes[7:8]):
        assert directory.apply(envelopes[7])  # redelivered: refused by the insert, the guarded update changes nothing
    # the account's lookup secret exists now: read, not offered to the vault's insert first
    assert [c.get("insert") for c in statements.commands[before:] if c.get("insert") == "subject_keys"] == []
    assert directory.holders_of("acct-1", "imported-7@example.fr") == ["imported-7"]
    assert container.contacts_directory.known_values("acct-1", ["imported-7"]) == [
        "Louise Martin imported-7", "Martin imported-7 Louise", "imported-7@example.fr"]
