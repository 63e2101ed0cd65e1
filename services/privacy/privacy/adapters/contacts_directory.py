"""Privacy's own projection of contacts (`contacts_directory`), from contacts.events: per account, each contact
and the contacts merged with it, so that a request names the person's whole merge family; and keyed hashes of
each contact's email addresses and phone numbers (E.164, as contacts normalised them), so that a request may
name the person by email or phone.

Merges, deletions and erasures are decoded as facts (crm_platform.contracts.contacts.ContactFact: ids only, no
key needed). The emails and phones are opened from the contact's state events (the lifecycle classes, with the key vault)
only to be hashed: HMAC-SHA256 under a per-account secret of the key vault (`privacy-lookup:<account>`), so no
address or number is stored and the hashes cannot be tested against guesses without the vault. The contact's
identity (full name, email addresses, phone numbers: identity_of) is kept too, sealed under the contact's own key
(`contact:<id>`), and its full name's keyed hash: read only when an erasure of the contact is asked, for what the
scan after it looks for (known_values: what no other live contact of the account shares), and unreadable as soon
as that erasure shreds the key. Every write is idempotent
($set, $addToSet, the hashes moved forward by the contact's version only): a redelivered event changes nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
import time

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.contracts.contacts import (
    CONTACT_FACT_CLASSES, CONTACT_STATE_CLASSES, CONTACT_SUBJECT, ContactCreatedFact, ContactDeletedFact, ContactErasedFact,
    ContactsMergedFact,
)
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.id_guards import filter_by_id
from crm_platform.mongo import insert_all_new
from crm_platform.outages import is_transient
from crm_platform.personal_data import PersonalDataCipher, SubjectErased

LOOKUP_SECRET = "privacy-lookup:{account_id}"

MAX_FAMILY = 500  # merges are few per person; a bound keeps a corrupt cycle from looping


def _opening_phones(cls: type) -> type:
    """The contract's class of a contact's state, its phones opened too (the contract's view leaves them out, so
    that billing's customers never hold them): privacy hashes them, and keeps nothing else of them."""
    return type(cls.__name__, (cls,), {"personal_fields": (*cls.personal_fields, "details.phones"),
                                       "__module__": __name__})


STATES_WITH_PHONES = tuple(_opening_phones(cls) for cls in CONTACT_STATE_CLASSES)


class ContactsDirectory:
    def __init__(self, collection: Collection, cipher: PersonalDataCipher) -> None:
        self.collection = collection
        self._cipher = cipher
        self._codec = EventCodec(CONTACT_FACT_CLASSES)
        self._states = EventCodec(STATES_WITH_PHONES, cipher)
        self._batch = threading.local()  # the consumer's batch in progress (batch)

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("merged_into", ASCENDING)], name="merged_into")
        self.collection.create_index([("account_id", ASCENDING), ("name_hashes", ASCENDING)], name="names")
        self.collection.create_index([("account_id", ASCENDING), ("email_hashes", ASCENDING)], name="emails")
        self.collection.create_index([("account_id", ASCENDING), ("phone_hashes", ASCENDING)], name="phones")

    def apply(self, envelope: EventEnvelope) -> bool:
        """Take one event of contacts.events (others are passed over without decoding); True if it was one of
        a contact's life."""
        kept = self._states.knows(envelope.event_type) and self._keep_identifiers(envelope)
        if not self._codec.knows(envelope.event_type):
            return self._states.knows(envelope.event_type)
        fact = self._codec.from_envelope(envelope)
        account = fact.account_id
        if isinstance(fact, ContactCreatedFact):
            if not kept:  # else its identifiers' write recorded it already
                self._set(account, fact.contact_id, {})
        elif isinstance(fact, ContactsMergedFact):
            self.collection.update_one({"_id": _key(account, fact.contact_id)},
                                       {"$set": {"account_id": account, "contact_id": fact.contact_id},
                                        "$addToSet": {"source_ids": {"$each": list(fact.source_ids)}}}, upsert=True)
            for source in fact.source_ids:
                self._set(account, source, {"merged_into": fact.contact_id})
        elif isinstance(fact, ContactDeletedFact):
            self._set(account, fact.contact_id, {"deleted": True, **(
                {"merged_into": fact.merged_into} if fact.merged_into else {})})
        elif isinstance(fact, ContactErasedFact):
            self.collection.update_one({"_id": _key(account, fact.contact_id)},
                                       {"$set": {"account_id": account, "contact_id": fact.contact_id, "erased": True},
                                        "$unset": {"email_hashes": "", "phone_hashes": "", "name_hashes": "",
                                                   "values": ""}},
                                       upsert=True)
        return True

    def holders_of(self, account_id: str, email: str) -> list[str]:
        """The account's live contacts holding this email address (as typed, whatever its case)."""
        return self._live_holders(account_id, "email_hashes", self.email_hash(account_id, email))

    def holders_of_phone(self, account_id: str, e164: str) -> list[str]:
        """The account's live contacts holding this phone number (E.164, as contacts stores it)."""
        return self._live_holders(account_id, "phone_hashes", self.phone_hash(account_id, e164))

    def _live_holders(self, account_id: str, field: str, hashed: str) -> list[str]:
        """The account's live contacts (neither erased nor deleted) whose `field` holds this keyed hash."""
        found = self.collection.find({"account_id": account_id, field: hashed, "erased": {"$ne": True},
                                      "deleted": {"$ne": True}}, {"contact_id": 1})
        return sorted(doc["contact_id"] for doc in found)

    @contextlib.contextmanager
    def batch(self, envelopes: list[EventEnvelope]):
        """Around a polled batch of contacts.events (the EventConsumer's batch context): the keys of its contacts and
        its accounts' lookup secrets read from the vault at once (an import's in a statement or two), not two
        reads for each event; and the contacts the batch creates, new to the directory, inserted whole in one
        statement (an import's: one insert per event, each in a transaction of its own on FerretDB, before).
        Within the block, applying such a contact's creation writes nothing more. Those the directory knew
        already (a redelivery, a merge that named them first) are refused by the insert and applied one by one."""
        states = [envelope for envelope in envelopes if self._states.knows(envelope.event_type)]
        contacts = [CONTACT_SUBJECT.format(contact_id=envelope.aggregate_id) for envelope in states]
        lookups = [LOOKUP_SECRET.format(account_id=envelope.account_id) for envelope in states]
        # the lookup secrets made if new (a new account's first contacts): else each hash would look again; read
        # first, as an account's secret is there but for its first contacts
        with self._cipher.keys_ready(list(dict.fromkeys(lookups)), create=True, read_first=True), \
                self._cipher.keys_ready(list(dict.fromkeys(contacts))):
            created = [(envelope, fields) for envelope in states
                       if envelope.aggregate_version == 1
                       and (fields := self._identifiers_in_bulk(envelope)) is not None]
            documents = [_document(envelope.account_id, envelope.aggregate_id, fields) for envelope, fields in created]
            refused = set(insert_all_new(self.collection, documents))
            self._batch.inserted = {envelope.event_id for index, (envelope, _) in enumerate(created)
                                    if index not in refused}
            try:
                yield
            finally:
                self._batch.inserted = set()

    @staticmethod
    def _subjects_of(envelope: EventEnvelope) -> list[str]:
        return [CONTACT_SUBJECT.format(contact_id=envelope.aggregate_id),
                LOOKUP_SECRET.format(account_id=envelope.account_id)]

    def _keep_identifiers(self, envelope: EventEnvelope) -> bool:
        """The contact's emails and phones, hashed, and its values sealed, at its version (an older event arriving
        late changes nothing); the contact's key and the account's lookup secret read from the vault at once (or
        taken from the batch's block). True if the contact's document was written (or its batch inserted it)."""
        if envelope.event_id in getattr(self._batch, "inserted", ()):
            return True
        with self._cipher.keys_ready(self._subjects_of(envelope)):
            fields = self._identifiers(envelope)
        if fields is None:
            return False
        account_id, contact_id = envelope.account_id, envelope.aggregate_id
        if envelope.aggregate_version == 1 and self._inserted(account_id, contact_id, fields):
            return True  # a contact new to the directory: one insert, where the update is 2 statements
        self._set(account_id, contact_id, {})
        where = filter_by_id(self.collection, _key(account_id, contact_id), {
            "erased": {"$ne": True},
            "$or": [{"state_version": {"$lt": envelope.aggregate_version}}, {"state_version": {"$exists": False}}]})
        if where is not None:
            self.collection.update_one(where, {"$set": fields})
        return True

    def _identifiers(self, envelope: EventEnvelope) -> dict | None:
        """What the directory keeps of a contact's state event: its emails' and phones' keyed hashes, its full
        name's, its identity sealed under its key, and the version; None once the contact is erased."""
        try:
            state = self._states.from_envelope(envelope)
        except SubjectErased:
            return None  # erased since: its ContactErased drops what was kept
        details = state.details or {}
        identity = identity_of(details)
        info_email = details.get("info_email")  # found by, though not looked for after an erasure (shared)
        emails = [*identity["emails"], *([info_email] if isinstance(info_email, str) and info_email.strip() else [])]
        try:
            values = self._cipher.seal_with_existing_key(CONTACT_SUBJECT.format(contact_id=state.contact_id),
                                                         identity)
        except SubjectErased:
            return None  # erased meanwhile
        return {"email_hashes": sorted({self.email_hash(state.account_id, email) for email in emails}),
                "phone_hashes": sorted({self.phone_hash(state.account_id, phone["e164"])
                                        for phone in identity["phones"]}),
                "name_hashes": [self.name_hash(state.account_id, identity["name"])] if identity["name"] else [],
                "values": values, "state_version": envelope.aggregate_version}

    def _identifiers_in_bulk(self, envelope: EventEnvelope) -> dict | None:
        """As _identifiers, but an event that cannot be read (against its contract...) is left out of the bulk
        insert, to the one-by-one path that retries and dead-letters it; an outage is waited out (the consumer
        prepares the batch again)."""
        try:
            return self._identifiers(envelope)
        except Exception as exc:
            if is_transient(exc):
                raise
            return None

    def _inserted(self, account_id: str, contact_id: str, fields: dict) -> bool:
        """Whether the contact's document was inserted with these fields: not if it exists (a redelivery, or a merge,
        deletion or erasure that named the contact first: those go through the guarded update)."""
        try:
            self.collection.insert_one(_document(account_id, contact_id, fields))
            return True
        except DuplicateKeyError:
            return False

    def email_hash(self, account_id: str, email: str) -> str:
        """HMAC-SHA256 (hex) of the address, trimmed and case-folded, under the account's lookup secret."""
        return self._lookup_hash(account_id, email.strip().casefold())

    def phone_hash(self, account_id: str, e164: str) -> str:
        """HMAC-SHA256 (hex) of the number in E.164 (+33612345678), under the account's lookup secret."""
        return self._lookup_hash(account_id, f"phone:{e164}")

    def name_hash(self, account_id: str, name: str) -> str:
        """HMAC-SHA256 (hex) of the full name, case-folded and spaced once, under the account's lookup secret."""
        return self._lookup_hash(account_id, f"name:{' '.join(name.casefold().split())}")

    def _lookup_hash(self, account_id: str, message: str) -> str:
        secret = self._cipher.secret(LOOKUP_SECRET.format(account_id=account_id))
        return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()

    def known_values(self, account_id: str, contact_ids: list[str], email: str | None = None,
                     phone: str | None = None) -> list[str]:
        """The values that identify these contacts (a family: one person) and no other live contact of the account:
        what the scan after their erasure looks for. A name, address or number another contact holds too (a
        namesake, a shared switchboard) is left out: finding it in that contact's data would prove nothing. Those
        erased already, or never seen, give none."""
        family, found, theirs = list(dict.fromkeys(contact_ids)), [], {}

        def theirs_alone(field: str, hashed: str) -> bool:  # one read per hash, however often it comes up
            if (field, hashed) not in theirs:
                theirs[field, hashed] = set(self._live_holders(account_id, field, hashed)) <= set(family)
            return theirs[field, hashed]

        if email and theirs_alone("email_hashes", self.email_hash(account_id, email)):
            found += [email, email.casefold()]  # named by the request: looked for if no other contact holds it
        if phone and theirs_alone("phone_hashes", self.phone_hash(account_id, phone)):
            found.append(phone)
        for contact_id in family:  # one indexed read each: a family is a handful of contacts
            doc = self.collection.find_one({"_id": _key(account_id, contact_id)}, {"values": 1, "erased": 1})
            if doc is None or doc.get("erased") or not doc.get("values"):
                continue
            try:
                identity = self._cipher.open(doc["values"])
            except SubjectErased:
                continue
            if identity.get("name") and theirs_alone("name_hashes", self.name_hash(account_id, identity["name"])):
                found += [identity["name"], identity.get("name_last_first", "")]
            for address in identity.get("emails", []):
                if theirs_alone("email_hashes", self.email_hash(account_id, address)):
                    found += [address, address.casefold()]
            for number in identity.get("phones", []):
                if theirs_alone("phone_hashes", self.phone_hash(account_id, number["e164"])):
                    found += [number["number"], number["e164"], "".join(filter(str.isdigit, number["number"]))]
        return list(dict.fromkeys(value for value in found if len(value) >= MIN_VALUE_LENGTH))

    def knows(self, account_id: str, contact_id: str, wait_s: float = 0.0, poll_s: float = 0.25) -> bool:
        """Whether the account has (or had: deleted, merged, erased) this contact; while it does not, asked again
        until `wait_s` passed, for contacts' events reach this directory a moment after the contact is created."""
        deadline = time.monotonic() + wait_s
        while True:
            if self.collection.find_one({"_id": _key(account_id, contact_id)}, {"_id": 1}) is not None:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)

    def family(self, account_id: str, contact_id: str) -> list[str]:
        """The contact, the one it was merged into (and so on up), and every contact merged into any of them."""
        root, seen = contact_id, {contact_id}
        while len(seen) < MAX_FAMILY:
            doc = self.collection.find_one({"_id": _key(account_id, root)}, {"merged_into": 1})
            parent = doc and doc.get("merged_into")
            if not parent or parent in seen:
                break
            root = parent
            seen.add(root)
        frontier, members = [root], {root}
        while frontier and len(members) < MAX_FAMILY:
            docs = self.collection.find({"account_id": account_id, "$or": [
                {"merged_into": {"$in": frontier}}, {"_id": {"$in": [_key(account_id, c) for c in frontier]}}]},
                {"contact_id": 1, "source_ids": 1})
            found = []
            for doc in docs:
                for member in [doc["contact_id"], *doc.get("source_ids", [])]:
                    if member not in members:
                        members.add(member)
                        found.append(member)
            frontier = found
        return [contact_id, *sorted(m for m in members | seen if m != contact_id)]

    def _set(self, account_id: str, contact_id: str, fields: dict) -> None:
        self.collection.update_one({"_id": _key(account_id, contact_id)},
                                   {"$set": {"account_id": account_id, "contact_id": contact_id, **fields}},
                                   upsert=True)


MIN_VALUE_LENGTH = 5  # shorter values ("Li", "Ana") would be found in anyone's data


def identity_of(details: dict) -> dict:
    """What identifies the person rather than anyone: the full name, each email address of theirs, each phone
    number (as typed and in E.164). Not a first or last name alone, a company, a city, the company's VAT number or
    general address (`info_email`): other people share them, and finding them elsewhere would prove nothing."""
    def text(value) -> str:
        return value.strip() if isinstance(value, str) else ""

    first, last = text(details.get("first_name")), text(details.get("last_name"))
    emails = [text(email.get("address")) for email in details.get("emails") or [] if isinstance(email, dict)]
    phones = [{"number": text(phone.get("number")), "e164": text(phone.get("e164"))}
              for phone in details.get("phones") or [] if isinstance(phone, dict)]
    return {"name": f"{first} {last}" if first and last else "",
            "name_last_first": f"{last} {first}" if first and last else "",  # as lists and documents print it
            "emails": list(dict.fromkeys(filter(None, emails))),
            "phones": [phone for phone in phones if phone["e164"]]}


def _document(account_id: str, contact_id: str, fields: dict) -> dict:
    return {"_id": _key(account_id, contact_id), "account_id": account_id, "contact_id": contact_id, **fields}


def _key(account_id: str, contact_id: str) -> str:
    return f"{account_id}:{contact_id}"
