"""The mail outbox on the in-memory collection (the contract), as the dispatcher's unit tests use it."""
from __future__ import annotations

import pytest

from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_mail_outbox import in_memory_mail_outbox
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore
from crm_platform.testing.mail_outbox_contract import STALE_AFTER, MailOutboxContract, SteppingClock


class TestInMemoryMailOutbox(MailOutboxContract):
    @pytest.fixture
    def clock(self):
        return SteppingClock()

    @pytest.fixture
    def cipher(self):
        return PersonalDataCipher(InMemorySubjectKeyStore())

    @pytest.fixture
    def outbox(self, cipher, clock):
        return in_memory_mail_outbox(cipher, clock, stale_after=STALE_AFTER)

    @pytest.fixture
    def stored(self, outbox):
        return lambda mail_id: outbox.collection.documents[mail_id]
