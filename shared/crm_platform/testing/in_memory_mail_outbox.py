"""A MailOutbox on a collection in a dict, for unit tests: the real outbox's code, sealing with real keys.

The collection knows the few queries the outbox makes (equality, `$lte`, `$set`, `$unset`, a limit); the
mail outbox contract (shared/tests) runs the same tests on it and on the real database to keep it honest.
"""
from __future__ import annotations

import copy
from datetime import datetime
from types import SimpleNamespace
from typing import Callable

from crm_platform.mail.outbox import MailOutbox, utc_now
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore


def in_memory_mail_outbox(cipher: PersonalDataCipher | None = None,
                          clock: Callable[[], datetime] = utc_now, **options) -> MailOutbox:
    """A MailOutbox on an InMemoryMailCollection (`.collection` on the result), sealing with `cipher`."""
    collection = InMemoryMailCollection()
    outbox = MailOutbox(collection, cipher or PersonalDataCipher(InMemorySubjectKeyStore()), clock, **options)
    outbox.collection = collection
    return outbox


class InMemoryMailCollection(InMemoryCollection):
    """The kernel's in-memory collection (insert by `_id`), with the outbox's few other queries."""

    def create_index(self, keys, **options) -> None:
        pass

    def find_one(self, filter: dict, projection: dict | None = None) -> dict | None:
        return next(iter(self.find(filter).limit(1)), None)

    def find(self, filter: dict, projection: dict | None = None) -> "_Cursor":
        return _Cursor([copy.deepcopy(d) for d in self.documents.values() if _matches(d, filter)])

    def update_one(self, filter: dict, update: dict) -> SimpleNamespace:
        for document in self.documents.values():
            if _matches(document, filter):
                document.update(copy.deepcopy(update.get("$set", {})))
                for name in update.get("$unset", {}):
                    document.pop(name, None)
                return SimpleNamespace(matched_count=1, modified_count=1)
        return SimpleNamespace(matched_count=0, modified_count=0)


class _Cursor(list):
    def limit(self, count: int) -> "_Cursor":
        return _Cursor(self[:count])


def _matches(document: dict, filter: dict) -> bool:
    for name, wanted in filter.items():
        if isinstance(wanted, dict):
            if set(wanted) != {"$lte"}:
                raise AssertionError(f"only equality and $lte are served here, not {wanted!r}")
            if name not in document or not document[name] <= wanted["$lte"]:
                return False
        elif document.get(name) != wanted:
            return False
    return True
