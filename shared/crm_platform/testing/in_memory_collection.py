"""A stand-in for a pymongo Collection that knows primary-key operations only.

Code tested on it may only insert, find and delete by `_id`: any other filter
fails the test, as it would be slow on FerretDB (see crm_platform.blobs).
"""
from __future__ import annotations

import copy
from types import SimpleNamespace

from pymongo.errors import DuplicateKeyError


class InMemoryCollection:
    def __init__(self) -> None:
        self.documents: dict[object, dict] = {}

    def insert_one(self, document: dict) -> SimpleNamespace:
        if document["_id"] in self.documents:
            raise DuplicateKeyError(f"duplicate _id {document['_id']!r}")
        self.documents[document["_id"]] = copy.deepcopy(document)
        return SimpleNamespace(inserted_id=document["_id"])

    def find_one(self, filter: dict, projection: dict | None = None) -> dict | None:
        found = self.documents.get(_primary_key(filter))
        return copy.deepcopy(found)

    def delete_one(self, filter: dict) -> SimpleNamespace:
        return SimpleNamespace(deleted_count=int(self.documents.pop(_primary_key(filter), None) is not None))


def _primary_key(filter: dict) -> object:
    if set(filter) != {"_id"} or isinstance(filter["_id"], dict):
        raise AssertionError(f"only {{'_id': value}} filters are served here, not {filter!r}")
    return filter["_id"]
