"""ContactsDirectory in MongoDB (`contacts`): one document per contact workflows heard of, gone or not, with
the contact it was merged into (`merged_into`) when it was."""
from __future__ import annotations

import contextlib
import threading

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform import merges
from crm_platform.mongo import find_by_ids, find_each, insert_all_new
from crm_platform.query_plans import server_scans_for

from workflows.service_layer.ports import ContactsDirectory


class MongoContactsDirectory(ContactsDirectory):
    def __init__(self, contacts: Collection) -> None:
        self._contacts = contacts
        self._batch = threading.local()  # per consumer thread: the contacts recorded with the polled batch

    def ensure_indexes(self) -> None:
        self._contacts.create_index([("account_id", ASCENDING), ("merged_into", ASCENDING)], name="merged_into")

    def unknown(self, account_id: str, contact_ids: list[str]) -> set[str]:
        """Each contact read by its `_id` (find_by_ids): one `$in` made FerretDB read every contact workflows
        ever heard of, on the path of every card and task written with a contact."""
        found = find_by_ids(self._contacts, list(dict.fromkeys(contact_ids)), {"account_id": 1, "gone": 1})
        return set(contact_ids) - {doc["_id"] for doc in found
                                   if doc.get("account_id") == account_id and doc.get("gone") is False}

    def record_existing(self, account_id: str, contact_id: str) -> None:
        if (account_id, contact_id) in getattr(self._batch, "recorded", ()):
            return  # recorded with its polled batch (recording_created)
        self._upsert(account_id, contact_id, {"$setOnInsert": {"gone": False}})

    @contextlib.contextmanager
    def recording_created(self, created: list[tuple[str, str]]):
        """Record these (account id, contact id), a polled batch's new contacts, in one insert; within the block,
        record_existing of one of them does nothing more. As record_existing: one known already (this account's,
        gone or merged, or another account's id) stays as it is. An import's 500 ContactCreated were 500 upserts,
        each a read and a write on FerretDB."""
        created = list(dict.fromkeys(created))
        insert_all_new(self._contacts, [{"_id": contact_id, "account_id": account_id, "gone": False}
                                        for account_id, contact_id in created])
        self._batch.recorded = set(created)
        try:
            yield
        finally:
            self._batch.recorded = set()

    def record_gone(self, account_id: str, contact_id: str) -> None:
        self._upsert(account_id, contact_id, {"$set": {"gone": True}})

    def record_merged(self, account_id: str, source_id: str, survivor_id: str) -> None:
        self._upsert(account_id, source_id, {"$set": {"gone": True, "merged_into": survivor_id}})

    def survivor(self, account_id: str, contact_id: str) -> str:
        return merges.survivor(self._contacts, account_id, contact_id)

    def merge_family(self, account_id: str, contact_ids: list[str]) -> list[str]:
        """These contacts known in the account, with every contact merged into one of them or they into it, both
        ways and transitively (a contact merged into one of the account's counts even when never seen created)."""
        family: list[str] = []
        waiting, vouched = list(dict.fromkeys(contact_ids)), set()  # vouched: a contact of the account merged into it
        while waiting:  # equalities (by `_id`, by account and `merged_into`), never an `$in`: see `unknown`
            known = {doc["_id"]: doc.get("merged_into") for doc in find_by_ids(
                self._contacts, waiting, {"account_id": 1, "merged_into": 1}) if doc.get("account_id") == account_id}
            merged_in = self._merged_into(account_id, waiting)
            family += [contact_id for contact_id in waiting if contact_id in known or contact_id in vouched]
            vouched |= {into for into in known.values() if into}
            waiting = [contact_id for contact_id in dict.fromkeys([*filter(None, known.values()), *merged_in])
                       if contact_id not in family]
        return family

    def _merged_into(self, account_id: str, contact_ids: list[str]) -> list[str]:
        """The account's contacts merged into one of these: an equality of (account, survivor) each, which the
        `merged_into` index serves; where the server scans for it (FerretDB over SQLite), one read of the account's
        merged contacts instead of a scan per id."""
        if server_scans_for(self._contacts, {"account_id": account_id, "merged_into": contact_ids[0]}):
            wanted = set(contact_ids)
            return [doc["_id"] for doc in self._contacts.find({"account_id": account_id, "merged_into": {"$ne": None}},
                                                              {"merged_into": 1}) if doc.get("merged_into") in wanted]
        return [doc["_id"] for doc in find_each(self._contacts, "merged_into", contact_ids, {"_id": 1},
                                                where={"account_id": account_id})]

    def _upsert(self, account_id: str, contact_id: str, update: dict) -> None:
        # the account in the filter: news of the same id from another account changes nothing here
        query = {"_id": contact_id, "account_id": account_id}
        try:
            self._contacts.update_one(query, update, upsert=True)
        except DuplicateKeyError:  # two upserts of a new id raced (it exists now), or it is another account's id
            self._contacts.update_one(query, update)
