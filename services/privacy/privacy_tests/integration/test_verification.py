"""The scan after an erasure on the real database and broker (issue 13, item 5): the values privacy's contacts
directory kept sealed under the contact's key are looked for in every database and topic named, after every
service answered; what is found leaves the request partially completed, named by place in its certificate; a
copy in another account's data is passed over; the values are shredded after the scan."""
import json

from crm_platform.contracts.contacts import ContactErased
from crm_platform.contracts.privacy import SubjectErasedReply
from crm_platform.event_codec import EventCodec
from crm_platform.kafka_clients import ensure_topics, make_producer

from privacy.adapters.contacts_directory import STATES_WITH_PHONES
from privacy.domain.requests import VERIFICATION_SUBJECT

from .conftest import deliver_reply, headers, verify_erasures

SERVICES = ("contacts", "billing", "workflows")
DETAILS = {"first_name": "Maëlle", "last_name": "Quéré-Laborde", "company": "Atelier Nord",
           "emails": [{"address": "maelle.qlab@example.fr"}],
           "phones": [{"number": "06 12 34 56 78", "e164": "+33612345678"}]}
VALUES = ["Maëlle Quéré-Laborde", "maelle.qlab@example.fr", "06 12 34 56 78", "+33612345678"]


def contact_known_with_details(container, contact_id="contact:5"):
    """As contacts.events brings it: the contact's state, sealed under its own key."""
    codec = EventCodec(STATES_WITH_PHONES, container.cipher)
    created = next(cls for cls in STATES_WITH_PHONES if cls.__name__ == "ContactCreated")  # its phones sealed too
    envelope = codec.to_envelope(created(contact_id, "acct-1", DETAILS), "Contact", contact_id, 1, "acct-1")
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


def test_the_directory_keeps_the_values_sealed_under_the_contacts_key_only(container, mongo_client, settings):
    contact_id = "contact:5"
    contact_known_with_details(container, contact_id)
    assert container.contacts_directory.known_values("acct-1", [contact_id, "contact:1"]) == VALUES
    stored = json.dumps(list(container.contacts_directory.collection.find()), default=str)
    assert "Quéré" not in stored and "maelle.qlab" not in stored and "+3361234" not in stored
    container.cipher.shred(f"contact:{contact_id}")  # the contact erased: its copy here with it
    assert container.contacts_directory.known_values("acct-1", [contact_id]) == []
    erased = EventCodec((ContactErased,), container.cipher)
    envelope = erased.to_envelope(ContactErased(contact_id, "acct-1"), "Contact", contact_id, 2, "acct-1")
    container.contacts_directory.apply(envelope)
    assert "values" not in container.contacts_directory.collection.find_one({"contact_id": contact_id})


def test_an_erasure_with_nothing_left_readable_passes_and_its_values_are_shredded(client, container):
    contact_known_with_details(container)
    request_id = erase(client, container)
    assert client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).status_code == 409
    assert verify_erasures(container) == 1
    shown = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert shown["status"] == "completed"
    verification = shown["verification"]
    assert (verification["state"], verification["result"], verification["readable_occurrences"],
            verification["values_checked"]) == ("done", "passed", 0, 4)
    assert verification["documents_scanned"] > 0 and verification["databases"] == container.settings[
        "PRIVACY_VERIFY_DATABASES"]
    certificate = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).get_json()
    assert certificate["verification"]["result"] == "passed" and certificate["verification"]["found_in"] == []
    assert container.subject_values.read(request_id) is None  # shredded, and its document gone
    assert container.cipher.is_erased(VERIFICATION_SUBJECT.format(request_id=request_id))
    assert verify_erasures(container) == 0  # nothing left to scan


def test_a_value_left_readable_in_a_database_or_a_topic_fails_the_erasure_but_another_accounts_copy_does_not(
        client, container, mongo_client, settings):
    contact_known_with_details(container)
    elsewhere = mongo_client[settings["PRIVACY_VERIFY_DATABASES"][-1]]
    elsewhere["cards"].insert_many([
        {"_id": "card-1", "account_id": "acct-1", "title": "Rappeler Maëlle Quéré-Laborde"},  # left behind
        {"_id": "card-2", "account_id": "acct-2", "email": "maelle.qlab@example.fr"},  # the same person, elsewhere
    ])
    topic = container.topic("workflows.events")
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [topic], 1)
    producer = make_producer(settings["KAFKA_BOOTSTRAP_SERVERS"], "test-verification")
    producer.send(topic, value=json.dumps({"account_id": "acct-1", "phone": "+33612345678"}).encode()).get(10)
    producer.close()
    request_id = erase(client, container)
    assert verify_erasures(container) == 1
    shown = client.get(f"/v1/privacy/requests/{request_id}", headers=headers()).get_json()
    assert shown["status"] == "partially_completed" and shown["missing_services"] == []
    assert shown["verification"]["result"] == "failed" and shown["verification"]["readable_occurrences"] == 2
    assert sorted(shown["verification"]["places"]) == sorted([f"{elsewhere.name}.cards/'card-1'", f"{topic}/0/0"])
    certificate = client.get(f"/v1/privacy/requests/{request_id}/certificate", headers=headers()).get_json()
    assert certificate["status"] == "partially_completed"
    assert certificate["verification"]["found_in"] == sorted([f"{elsewhere.name}.cards", f"{topic}/0"])
    assert "Maëlle" not in json.dumps(certificate) and "card-1" not in json.dumps(certificate)
    assert container.subject_values.read(request_id) is None  # every service answered: no later scan
