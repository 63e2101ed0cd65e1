"""After erasure nothing readable of the person remains: every collection of every database the service
uses and every message of every topic it writes, scanned on the real FerretDB and Kafka with the real worker."""
import io
import random
import time

from kafka import KafkaConsumer, TopicPartition

from .conftest import headers

DEADLINE_S = 90  # the whole wait for the worker; a stuck worker fails the test instead of hanging it


class Person:
    """A person with names, email and phone no other test uses, so any hit of the scan is theirs."""

    def __init__(self, tag: str) -> None:
        token = "".join(random.choices("bcdfghjklmnpqrstvwxz", k=8))
        self.first_name, self.last_name = f"Zel{tag}{token}", f"Quor{tag}{token}"
        self.email = f"{tag}.{token}@erasure.example"
        self.digits = "".join(random.choices("0123456789", k=8))
        self.phone = f"06{self.digits}"  # +336<digits> once normalised

    def needles(self) -> list[str]:
        return [self.first_name.casefold(), self.last_name.casefold(), self.email, f"6{self.digits}"]


def eventually(check, what: str, until: float):
    while time.monotonic() < until:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"not in time: {what}")


def test_an_erased_person_leaves_no_readable_trace_in_any_database_or_topic(client, container, worker, settings,
                                                                           mongo_client, tmp_path):
    until = time.monotonic() + DEADLINE_S
    by_api, by_import, merged, bystander = Person("api"), Person("imp"), Person("mrg"), Person("by")

    # created by the API, with a note, a file and a message naming the person
    api_contact = client.post("/v1/contacts", headers=headers(), json={
        "first_name": by_api.first_name, "last_name": by_api.last_name, "emails": [{"address": by_api.email}],
        "phones": [{"number": by_api.phone}]}).get_json()
    assert client.post(f"/v1/contacts/{api_contact['id']}/notes", headers=headers(),
                       json={"text": f"Rappeler {by_api.first_name} au {by_api.phone}"}).status_code == 201
    assert client.post(f"/v1/contacts/{api_contact['id']}/attachments", headers=headers(),
                       content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"%PDF-1.7\n" + by_api.last_name.encode() * 40),
                                      f"Contrat {by_api.last_name}.pdf", "application/pdf")}).status_code == 201
    # and an e-mail to them (its mail waits in the outbox: the worker has no SMTP server to send it to)
    assert client.post(f"/v1/contacts/{api_contact['id']}/messages", headers=headers(), json={
        "subject": f"Devis pour {by_api.last_name}", "body": f"Bonjour {by_api.first_name}, rappelez le {by_api.phone}"
    }).status_code == 202

    # created by an import; a second row of the same person fails and lands in the failed rows
    csv = (f"First Name,Last Name,E-mail Address,Mobile Phone\r\n"
           f"{by_import.first_name},{by_import.last_name},{by_import.email},{by_import.phone}\r\n"
           f"{by_import.first_name},{by_import.last_name},not-an-email-{by_import.last_name},\r\n"
           f"{bystander.first_name},{bystander.last_name},{bystander.email},{bystander.phone}\r\n").encode()
    uploaded = client.post("/v1/imports", data={"file": (io.BytesIO(csv), "contacts.csv")}, headers=headers(),
                           content_type="multipart/form-data").get_json()
    assert client.post(f"/v1/imports/{uploaded['id']}/start", json={}, headers=headers()).status_code == 202
    done = eventually(lambda: (r := client.get(f"/v1/imports/{uploaded['id']}", headers=headers()).get_json())
                      ["job"]["status"] == "done" and r, "the import job", until)
    assert done["job"]["counts"]["created"] == 2 and done["job"]["counts"]["failed"] == 1

    # one contact merged into another: the person is in both histories
    halves = [client.post("/v1/contacts", headers=headers(), json=details).get_json() for details in (
        {"first_name": merged.first_name, "emails": [{"address": merged.email}]},
        {"last_name": merged.last_name, "phones": [{"number": merged.phone}]})]
    assert client.post(f"/v1/contacts/{halves[0]['id']}/merge", headers=headers(),
                       json={"source_ids": [halves[1]["id"]]}).status_code == 200

    found = eventually(lambda: _contacts(client, by_import.email), "the imported contact in the read model", until)
    eventually(lambda: _contacts(client, merged.last_name.casefold()), "the merge in the read model", until)
    eventually(lambda: _contacts(client, bystander.email), "the bystander in the read model", until)
    before = _scan(mongo_client, settings, [by_api, by_import, merged, bystander])
    # the scan sees every needle of every person before the erasure, so 0 hits after it means something
    assert all(before[needle] for person in (by_api, by_import, merged, bystander) for needle in person.needles())

    erased = [client.post(f"/v1/contacts/{contact_id}/erase", headers=headers()) for contact_id in
              (api_contact["id"], found[0]["id"], halves[1]["id"])]  # the last one was merged into the other
    assert [r.status_code for r in erased] == [200, 200, 200]
    assert sorted(erased[2].get_json()["erased_contact_ids"]) == sorted(h["id"] for h in halves)
    assert container.db["attachment_blobs.manifests"].count_documents({}) == 0  # the file is deleted, not only sealed
    gone = [api_contact["id"], found[0]["id"], *(h["id"] for h in halves)]
    contacts = container.projection.collection
    eventually(lambda: contacts.count_documents({"_id": {"$in": gone}, "erased": True}) == 4,
               "the read models applying the erasures", until)
    eventually(lambda: container.notes_projection.collection.count_documents({"erased": True}) == 1, "the note", until)

    hits = _scan(mongo_client, settings, [by_api, by_import, merged, bystander])
    people = (by_api, by_import, merged)
    assert {needle: places for person in people for needle in person.needles()
            if (places := hits[needle])} == {}
    assert hits[bystander.email] and hits[bystander.last_name.casefold()]  # still there: the scan is not blind
    logged = (tmp_path / "worker.log").read_bytes().decode(errors="replace").casefold()  # no erasure reaches logs
    assert logged and [n for p in (*people, bystander) for n in p.needles() if n.casefold() in logged] == []


def _contacts(client, q: str) -> list:
    return client.get(f"/v1/contacts?q={q}", headers=headers()).get_json()["items"]


def _scan(mongo_client, settings, people) -> dict[str, list[str]]:
    """needle -> where it was found (database.collection, or topic), case-insensitively, in any text or bytes."""
    needles = [needle for person in people for needle in person.needles()]
    hits: dict[str, list[str]] = {needle: [] for needle in needles}
    prefix = settings["CONTACTS_DB"].rsplit("_", 1)[0]  # test_<suffix>: every database of this service's run
    databases = [name for name in mongo_client.list_database_names() if name.startswith(prefix)]
    assert {settings["CONTACTS_DB"], settings["KEYVAULT_DB"]} <= set(databases)
    for database in databases:
        for collection in mongo_client[database].list_collection_names():
            for doc in mongo_client[database][collection].find():
                _look(doc, f"{database}.{collection}", needles, hits)
    for topic, records in _topics(settings).items():
        for record in records:
            _look([record.key, record.value, [list(h) for h in record.headers or []]], topic, needles, hits)
    return hits


def _look(value, place: str, needles: list[str], hits: dict) -> None:
    text = "\n".join(_texts(value)).casefold()
    for needle in needles:
        if needle in text and place not in hits[needle]:
            hits[needle].append(place)


def _texts(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        yield bytes(value).decode("utf-8", "replace")
        yield bytes(value).decode("latin-1")
    elif value is not None:
        yield str(value)


def _topics(settings) -> dict[str, list]:
    """Every record of every topic of this run's namespace, read up to the end offsets."""
    consumer = KafkaConsumer(bootstrap_servers=settings["KAFKA_BOOTSTRAP_SERVERS"].split(","),
                             enable_auto_commit=False, fetch_max_wait_ms=100)
    try:
        topics = sorted(t for t in consumer.topics() if t.startswith(settings["KAFKA_TOPIC_NAMESPACE"]))
        assert topics, "no topic of this run: the worker never published"
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: dict[str, list] = {t: [] for t in topics}
        deadline = time.monotonic() + 30
        while any(consumer.position(p) < ends[p] for p in partitions):
            assert time.monotonic() < deadline, "could not read the topics to their end"
            for partition, batch in consumer.poll(timeout_ms=200).items():
                records[partition.topic].extend(batch)
        return records
    finally:
        consumer.close()
