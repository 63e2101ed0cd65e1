"""A stand-in for crm_platform.processing_restrictions.ProcessingRestrictions, in a dict, for unit tests."""
from __future__ import annotations

from typing import Iterable

from crm_platform.processing_restrictions import ProcessingRestrictions


class InMemoryProcessingRestrictions(ProcessingRestrictions):
    def __init__(self) -> None:
        super().__init__(collection=None)
        self.requests: dict[tuple[str, str], set[str]] = {}  # (account, contact) -> the requests restricting it

    def restrict(self, account_id: str, contact_ids: Iterable[str], request_id: str) -> None:
        for contact_id in contact_ids:
            self.requests.setdefault((account_id, contact_id), set()).add(request_id)

    def lift(self, account_id: str, contact_ids: Iterable[str], request_id: str) -> None:
        for contact_id in contact_ids:
            self.requests.get((account_id, contact_id), set()).discard(request_id)

    def forget(self, account_id: str, contact_ids: Iterable[str]) -> None:
        for contact_id in contact_ids:
            self.requests.pop((account_id, contact_id), None)

    def restricted(self, account_id: str, contact_ids: Iterable[str]) -> set[str]:
        return {contact_id for contact_id in contact_ids if self.requests.get((account_id, contact_id))}
