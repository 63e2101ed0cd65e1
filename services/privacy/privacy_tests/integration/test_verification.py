"""The scan after an erasure on the real database and broker (issue 13, item 5): the identity privacy's contacts
directory kept sealed under the contact's key gives the values to look for, kept sealed in the request's own
events until the last scan; every database and topic named is searched after every service answered; what is
found is scanned for again, then leaves the request partially completed, named by container in its certificate;
another account's copy is passed over; a value another contact of the account shares is not looked for."""
import json

from crm_platform.contracts.contacts import ContactErased
from crm_platform.contracts.privacy import SubjectErasedReply
from crm_platform.event_codec import EventCodec
from crm_platform.kafka_clients import ensure_topics, make_producer

from privacy.adapters.contacts_directory import STATES_WITH_PHONES
from privacy.domain.verification import VERIFICATION_SUBJECT
from privacy.entrypoints.schemas import PrivacyRequestSchema

from .conftest import deliver_reply, headers, verify_erasures

SERVICES = ("contacts", "billing", "workflows")
DETAILS = {"first_name": "Maëlle", "last_name": "Quéré-Laborde", "company": "Atelier Nord",
           "vat_number": "FR40303265045", "info_email": "contact@atelier-nord.fr",
           "emails": [{"address": "Maelle.QLab@example.fr"}],
           "phones": [{"number": "06 12 34 56 78", "e164": "+33612345678"}]}
VALUES = ["Maëlle Quéré-Laborde", "Quéré-Laborde Maëlle", "Maelle.QLab@example.fr", "maelle.qlab@example.fr",
          "06 12 34 56 78", "+33612345678", "0612345678"]


def contact_known_with_details(container, contact_id="contact:5", details=DETAILS, version=1):
    """As contacts.events brings it: the contact's state, sealed under its own key."""
    codec = EventCodec(STATES_WITH_PHONES, container.cipher)
    created = next(cls for cls in STATES_WITH_PHONES if cls.__name__ == "ContactCreated")  # its phones sealed too
    envelope = codec.to_envelope(created(contact_id, "acct-1", details), "Contact", contact_id, version, "acct-1")
    assert container.contacts_directory.apply(envelope)


def erase(client, container, contact_id="contact:5"):
    answer = client.post("/v1/privacy/requests", headers=headers(), json={
        "type": "erasure", "subject": {"contact_id": contact_id}, "requester": "DPO", "reason": "courrier"})
    assert answer.status_code == 202, answer.get_json()
    request_id = answer.get_json()["id"]
    container.cipher.shred(f"contact:{contact_id}")  # contacts' erasure, as its reply below says it did
    for service in SERVICES:
        deliver_reply(container, SubjectErasedReply(request_id, "acct-1", service, "erased", [], [], 1, "now"))
    return request_id


def shown(client, request_id):
    """The request as the API shows it, as its OpenAPI document says it does."""
    request = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert PrivacyRequestSchema().validate(request) == {}
    return request


def test_the_directory_keeps_the_identity_sealed_under_the_contacts_key_only(container):
    contact_known_with_details(container)
    assert container.contacts_directory.known_values("acct-1", ["contact:5", "contact:1"]) == VALUES
    stored = json.dumps(list(container.contacts_directory.collection.find()), default=str, ensure_ascii=False)
    assert "Quéré" not in stored and "qlab" not in stored.casefold() and "12 34" not in stored
    container.cipher.shred("contact:contact:5")  # the contact erased: its copy here with it
    assert container.contacts_directory.known_values("acct-1", ["contact:5"]) == []
    envelope = EventCodec((ContactErased,), container.cipher).to_envelope(
        ContactErased("contact:5", "acct-1"), "Contact", "contact:5", 2, "acct-1")
    container.contacts_directory.apply(envelope)
    assert "values" not in container.contacts_directory.collection.find_one({"contact_id": "contact:5"})


def test_a_namesake_or_a_shared_number_of_another_contact_is_not_looked_for(container):
    contact_known_with_details(container)
    contact_known_with_details(container, "contact:6", {  # a namesake at the same switchboard
        "first_name": "maëlle", "last_name": "Quéré-Laborde ", "phones": [{"number": "+33 6 12 34 56 78",
                                                                          "e164": "+33612345678"}]})
    assert container.contacts_directory.known_values("acct-1", ["contact:5"]) == [
        "Maelle.QLab@example.fr", "maelle.qlab@example.fr"]
    # merged into one person, they are the same family: all is theirs
    assert len(container.contacts_directory.known_values("acct-1", ["contact:5", "contact:6"])) > 2


def test_an_address_named_by_the_request_that_another_contact_holds_is_not_looked_for(client, container):
    contact_known_with_details(container)
    contact_known_with_details(container, "contact:7", {"first_name": "Yves", "last_name": "Quéré",
                                                        "emails": [{"address": "maelle.qlab@example.fr"}]})
    answer = client.post("/v1/privacy/requests", headers=headers(), json={
        "type": "erasure", "subject": {"email": "maelle.qlab@example.fr"}, "requester": "DPO", "reason": "mail"})
    assert answer.get_json()["candidates"] == ["contact:5", "contact:7"]  # a family mailbox
    confirmed = client.post(f"/v1/privacy/requests/{answer.get_json()['id']}/confirm", headers=headers(),
                            json={"contact_ids": ["contact:5"]})
    assert confirmed.status_code == 200, confirmed.get_json()
    # her name both ways and her number three ways; not the address Yves holds too
    assert confirmed.get_json()["verification"] == {"state": "pending", "values_checked": 5}


def test_a_name_of_several_words_is_looked_for_both_ways_whole(container):
    contact_known_with_details(container, "contact:8", {"first_name": "Anne Marie", "last_name": "de la Tour"})
    assert container.contacts_directory.known_values("acct-1", ["contact:8"]) == [
        "Anne Marie de la Tour", "de la Tour Anne Marie"]


def test_an_erasure_with_nothing_left_readable_passes_and_its_values_are_shredded(client, container):
    contact_known_with_details(container)
    request_id = erase(client, container)
    assert client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).status_code == 409
    assert verify_erasures(container) == 1
    request = shown(client, request_id)
    assert request["status"] == "completed"
    verification = request["verification"]
    assert (verification["state"], verification["result"], verification["readable_occurrences"],
            verification["values_checked"], verification["values_shredded"]) == ("done", "passed", 0, 7, True)
    assert verification["documents_scanned"] > 0
    assert verification["databases"] == container.settings["PRIVACY_VERIFY_DATABASES"]
    certificate = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).get_json()
    assert certificate["verification"]["result"] == "passed" and certificate["verification"]["found_in"] == []
    assert container.cipher.is_erased(VERIFICATION_SUBJECT.format(request_id=request_id))
    with container.unit_of_work() as uow:
        assert uow.requests.get("acct-1", request_id).subject_values is None  # still loads, values unreadable
    assert verify_erasures(container) == 0  # nothing left to scan


def test_a_value_left_readable_in_a_database_or_a_topic_fails_the_erasure_but_another_accounts_copy_does_not(
        client, container, mongo_client, settings):
    contact_known_with_details(container)
    elsewhere = mongo_client[settings["PRIVACY_VERIFY_DATABASES"][-1]]
    elsewhere["cards"].insert_many([
        {"_id": "card-1", "account_id": "acct-1", "title": "Rappeler Maëlle Quéré-Laborde"},  # left behind
        {"_id": "card-2", "account_id": "acct-2", "email": "maelle.qlab@example.fr"},  # the same person, elsewhere
        {"_id": "card-3", "account_id": "acct-12", "phone": "+33612345678"},  # an id that holds ours
    ])
    topic = container.topic("workflows.events")
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [topic], 1)
    producer = make_producer(settings["KAFKA_BOOTSTRAP_SERVERS"], "test-verification")
    producer.send(topic, value=json.dumps({"account_id": "acct-1", "phone": "+33612345678"}).encode()).get(10)
    producer.send(topic, value=json.dumps({"account_id": "acct-2", "phone": "+33612345678"}).encode()).get(10)
    producer.close()
    request_id = erase(client, container)
    assert verify_erasures(container) == 1
    tentative = shown(client, request_id)["verification"]
    assert (tentative["state"], tentative["result"]) == ("rescanning", "failed")
    for wait in (30, 120, 600):  # scanned again before it is the result: a read model may lag its erasure
        container.clock.advance(seconds=wait)
        assert verify_erasures(container) == 1
    request = shown(client, request_id)
    assert request["status"] == "partially_completed" and request["missing_services"] == []
    assert request["verification"]["result"] == "failed" and request["verification"]["readable_occurrences"] == 2
    assert sorted(request["verification"]["places"]) == sorted([f"{elsewhere.name}.cards", f"{topic}/0/0"])
    certificate = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).get_json()
    assert certificate["status"] == "partially_completed"
    assert certificate["verification"]["found_in"] == sorted([f"{elsewhere.name}.cards", f"{topic}/0"])
    text = json.dumps(certificate, ensure_ascii=False) + json.dumps(request, ensure_ascii=False)
    assert "Maëlle" not in text and "card-1" not in text
    assert container.cipher.is_erased(VERIFICATION_SUBJECT.format(request_id=request_id))


def test_a_scan_past_its_time_out_raises_whichever_thread_ran_out(container, settings):
    import pytest

    from privacy.adapters.system_scan import SystemScan

    topic = container.topic("contacts.events")
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [topic], 1)
    producer = make_producer(settings["KAFKA_BOOTSTRAP_SERVERS"], "test-verification")
    for n in range(50):
        producer.send(topic, value=json.dumps({"account_id": "acct-1", "n": n}).encode())
    producer.flush()
    producer.close()
    hurried = SystemScan(container.mongo.client, settings["PRIVACY_VERIFY_DATABASES"],
                         settings["KAFKA_BOOTSTRAP_SERVERS"], settings["KAFKA_TOPIC_NAMESPACE"], timeout_s=0)
    with pytest.raises(TimeoutError):
        hurried("acct-1", ["Maëlle Quéré-Laborde"])
    report = container.system_scan("acct-1", ["Maëlle Quéré-Laborde"])
    assert report.records_scanned == 50 and report.places == []


def test_a_reply_years_late_after_the_values_went_with_the_record_makes_no_candidate(client, container):
    from privacy.service_layer import sweeps

    from .conftest import project_all

    contact_known_with_details(container)
    answer = client.post("/v1/privacy/requests", headers=headers(), json={
        "type": "erasure", "subject": {"contact_id": "contact:5"}, "requester": "DPO", "reason": "courrier"})
    request_id = answer.get_json()["id"]
    deliver_reply(container, SubjectErasedReply(request_id, "acct-1", "contacts", "erased", [], [], 1, "now"))
    container.clock.advance(minutes=15)
    project_all(container)
    sweeps.time_out_requests(container.bus, container.overdue_requests, container.timeout_lease(), container.clock)
    assert verify_erasures(container) == 1  # billing and workflows silent: not the last scan
    container.clock.advance(days=3 * 365)
    project_all(container)
    sweeps.shred_request_records(container.bus, container.records_past_retention, container.expiry_lease(),
                                 container.clock)
    deliver_reply(container, SubjectErasedReply(request_id, "acct-1", "billing", "erased", [], [], 1, "now"))
    project_all(container)
    assert container.projection.to_verify(container.clock()) == []
    assert shown(client, request_id)["verification"]["values_shredded"] is True
