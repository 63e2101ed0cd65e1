"""The cipher privacy's codec opens its events with: a request whose key was shredded at the end of its
retention (`privacy-request:<id>`) still loads, its requester, reason and email read as null; so does an erasure
whose values were shredded after the scan that looked for them (`privacy-verification:<id>`).

Any other subject erased still raises SubjectErased, as the kernel's cipher does.
"""
from __future__ import annotations

from crm_platform.personal_data import PersonalDataCipher, SubjectErased

from privacy.domain.requests import REQUEST_SUBJECT, PrivacyRequestReceived
from privacy.domain.verification import VERIFICATION_SUBJECT, SubjectValuesKept

# the subjects read as null once shredded -> the personal fields they seal
NULL_ONCE_SHREDDED = {REQUEST_SUBJECT.split("{", 1)[0]: PrivacyRequestReceived.personal_fields,
                      VERIFICATION_SUBJECT.split("{", 1)[0]: SubjectValuesKept.personal_fields}


class ShreddedRecordsReadAsNull:
    def __init__(self, cipher: PersonalDataCipher) -> None:
        self._cipher = cipher

    def open(self, sealed: dict) -> dict:
        """The personal fields; null ones for a request record or values shredded, SubjectErased for any other
        subject."""
        try:
            return self._cipher.open(sealed)
        except SubjectErased:
            subject = str(sealed.get("subject", ""))
            for prefix, fields in NULL_ONCE_SHREDDED.items():
                if subject.startswith(prefix):
                    return dict.fromkeys(fields)
            raise

    def __getattr__(self, name: str):
        return getattr(self._cipher, name)  # sealing, shredding, secrets: the kernel's cipher
