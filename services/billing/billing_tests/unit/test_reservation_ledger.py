import pytest

from ..reservation_ledger_contract import ReservationLedgerContract
from .fakes import InMemoryReservationLedger


class TestInMemoryReservationLedger(ReservationLedgerContract):
    @pytest.fixture
    def ledger(self):
        return InMemoryReservationLedger()
