"""A SubjectKeyStore in a dict, for unit tests: real AES keys, nothing wrapped, nothing stored."""
from __future__ import annotations

import threading

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crm_platform.personal_data import SubjectErased, SubjectKeyStore


class InMemorySubjectKeyStore(SubjectKeyStore):
    """A fake for unit tests; the subject key store contract keeps it honest."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self._erased: set[str] = set()
        self._lock = threading.Lock()

    def find(self, subject: str) -> bytes | None:
        return self._keys.get(subject)

    def find_or_create(self, subject: str) -> bytes:
        with self._lock:
            if subject in self._erased:
                raise SubjectErased(subject)
            return self._keys.setdefault(subject, AESGCM.generate_key(bit_length=256))

    def delete(self, subject: str) -> bool:
        with self._lock:
            self._erased.add(subject)
            return self._keys.pop(subject, None) is not None

    def is_erased(self, subject: str) -> bool:
        return subject in self._erased
