"""The cipher privacy's codec opens its events with: a request whose key was shredded at the end of its
retention (`privacy-request:<id>`) still loads, its requester, reason and email read as null.

Any other subject erased still raises SubjectErased, as the kernel's cipher does.
"""
from __future__ import annotations

from crm_platform.personal_data import PersonalDataCipher, SubjectErased

from privacy.domain.requests import REQUEST_SUBJECT, PrivacyRequestReceived

REQUEST_SUBJECT_PREFIX = REQUEST_SUBJECT.split("{", 1)[0]


class ShreddedRecordsReadAsNull:
    def __init__(self, cipher: PersonalDataCipher) -> None:
        self._cipher = cipher

    def open(self, sealed: dict) -> dict:
        """The personal fields; null ones for a request record shredded, SubjectErased for any other subject."""
        try:
            return self._cipher.open(sealed)
        except SubjectErased:
            if not str(sealed.get("subject", "")).startswith(REQUEST_SUBJECT_PREFIX):
                raise
            return dict.fromkeys(PrivacyRequestReceived.personal_fields)

    def __getattr__(self, name: str):
        return getattr(self._cipher, name)  # sealing, shredding, secrets: the kernel's cipher
