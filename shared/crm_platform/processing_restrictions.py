"""Restriction of processing (GDPR Art. 18; issue 13): the contacts a service must not edit for now.

Each service holding personal data keeps this projection in its own database (collection
`processing_restrictions`), applied from privacy.events by its privacy consumer
(crm_platform.privacy_participation): `ProcessingRestrictionApplied` restricts the request's contacts,
`ProcessingRestrictionLifted` lifts that request's restriction, and an erasure of the contacts ends them all.

One document per contact (`<account>:<contact>`) lists the requests restricting it: a contact is restricted
while the list is not empty, so two requests about one person are lifted one by one, and every write is
idempotent ($addToSet, $pull): a redelivered event changes nothing.

A command handler refuses an edit with one call, `refuse_edits(account_id, contact_ids)`, which raises
`ProcessingRestricted` (409 `/problems/processing-restricted`, naming the contact ids).
"""
from __future__ import annotations

from typing import Iterable, Protocol

from crm_platform.errors import Conflict
from crm_platform.mongo import delete_by_ids, find_by_ids, update_by_ids


class ProcessingRestricted(Conflict):
    """An edit refused: the subject asked that their data be kept but not processed (Art. 18)."""

    title = "Processing restricted"
    slug = "processing-restricted"

    def __init__(self, contact_ids: Iterable[str]) -> None:
        ids = sorted(contact_ids)
        super().__init__(f"processing of contact {', '.join(ids)} is restricted (GDPR Art. 18): it is kept, "
                         "read and erased, but not edited, until the restriction is lifted", contact_ids=ids)


class RestrictionCheck(Protocol):
    def refuse_edits(self, account_id: str, contact_ids: Iterable[str]) -> None:
        """ProcessingRestricted if any of these contacts is restricted."""

    def restricted(self, account_id: str, contact_ids: Iterable[str]) -> set[str]:
        """Those of these contacts restricted now (one read for a batch that skips them row by row)."""


class NothingRestricted:
    """The check of a handler called without the projection (a unit test of something else): refuses nothing."""

    def refuse_edits(self, account_id: str, contact_ids: Iterable[str]) -> None:
        return None

    def restricted(self, account_id: str, contact_ids: Iterable[str]) -> set[str]:
        return set()


NOTHING_RESTRICTED = NothingRestricted()


class ProcessingRestrictions:
    """The projection, on a collection of the service's own database."""

    def __init__(self, collection) -> None:
        self.collection = collection

    def ensure_indexes(self) -> None:
        """Nothing beyond `_id`: every read and write names the contacts' keys, one `_id` equality each."""

    def restrict(self, account_id: str, contact_ids: Iterable[str], request_id: str) -> None:
        for contact_id in dict.fromkeys(contact_ids):
            self.collection.update_one({"_id": _key(account_id, contact_id)},
                                       {"$set": {"account_id": account_id, "contact_id": contact_id},
                                        "$addToSet": {"request_ids": request_id}}, upsert=True)

    def lift(self, account_id: str, contact_ids: Iterable[str], request_id: str) -> None:
        """That request's restriction lifted; another request's on the same contacts stays."""
        keys = [_key(account_id, contact_id) for contact_id in dict.fromkeys(contact_ids)]
        update_by_ids(self.collection, keys, {"$pull": {"request_ids": request_id}})

    def forget(self, account_id: str, contact_ids: Iterable[str]) -> None:
        """Every restriction of these contacts ended: they were erased, nothing of them is left to restrict."""
        delete_by_ids(self.collection, [_key(account_id, contact_id) for contact_id in dict.fromkeys(contact_ids)])

    def restricted(self, account_id: str, contact_ids: Iterable[str]) -> set[str]:
        """Those of these contacts restricted now: an `_id` equality each (every change of a contact asks), never
        an `$in`, which FerretDB answers by reading every restriction of every account."""
        keys = [_key(account_id, contact_id) for contact_id in dict.fromkeys(contact_ids) if contact_id]
        docs = find_by_ids(self.collection, keys, {"contact_id": 1, "request_ids": 1})
        return {doc["contact_id"] for doc in docs if doc.get("request_ids")}

    def refuse_edits(self, account_id: str, contact_ids: Iterable[str]) -> None:
        """ProcessingRestricted (409) if any of these contacts is restricted."""
        restricted = self.restricted(account_id, contact_ids)
        if restricted:
            raise ProcessingRestricted(restricted)


def _key(account_id: str, contact_id: str) -> str:
    return f"{account_id}:{contact_id}"
