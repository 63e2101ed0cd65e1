"""The mail outbox on the real MongoDB server (FerretDB locally): the contract the in-memory one keeps too."""
from __future__ import annotations

import os

import pytest

from crm_platform.mail import MailOutbox
from crm_platform.personal_data import MongoSubjectKeyStore, PersonalDataCipher
from crm_platform.testing.mail_outbox_contract import STALE_AFTER, MailOutboxContract, SteppingClock


class TestMongoMailOutbox(MailOutboxContract):
    @pytest.fixture
    def clock(self):
        return SteppingClock()

    @pytest.fixture
    def cipher(self, mongo_db):
        return PersonalDataCipher(MongoSubjectKeyStore(mongo_db["subject_keys"], os.urandom(32)))

    @pytest.fixture
    def outbox(self, mongo_db, cipher, clock):
        outbox = MailOutbox(mongo_db["mail_outbox"], cipher, clock, stale_after=STALE_AFTER)
        outbox.ensure_indexes()
        return outbox

    @pytest.fixture
    def stored(self, mongo_db):
        return lambda mail_id: mongo_db["mail_outbox"].find_one({"_id": mail_id})
