"""An erasure's subject values between its request and the scan after it (`erasure_values`): one document per
request, sealed under the request's verification key (privacy.domain.requests.VERIFICATION_SUBJECT), so that
shredding that key once the scan is done leaves nothing of them readable, whatever copy a backup keeps.

Kept in the database, not in memory: the scan runs in the worker, seconds or (a service down) hours after the
API received the request, and must survive the worker's restart.
"""
from __future__ import annotations

from pymongo.collection import Collection

from crm_platform.personal_data import PersonalDataCipher, SubjectErased

from privacy.domain.requests import VERIFICATION_SUBJECT


class SealedSubjectValues:
    def __init__(self, collection: Collection, cipher: PersonalDataCipher) -> None:
        self.collection = collection
        self._cipher = cipher

    def keep(self, request_id: str, values: list[str]) -> None:
        sealed = self._cipher.seal(VERIFICATION_SUBJECT.format(request_id=request_id), {"values": list(values)})
        self.collection.replace_one({"_id": request_id}, {"_id": request_id, "values": sealed}, upsert=True)

    def read(self, request_id: str) -> list[str] | None:
        doc = self.collection.find_one({"_id": request_id})
        if doc is None:
            return None
        try:
            return list(self._cipher.open(doc["values"])["values"])
        except SubjectErased:
            return None

    def shred(self, request_id: str) -> None:
        self._cipher.shred(VERIFICATION_SUBJECT.format(request_id=request_id))  # first: then the copy is noise
        self.collection.delete_one({"_id": request_id})
