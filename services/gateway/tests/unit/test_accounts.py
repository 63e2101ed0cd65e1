from crm_platform.contracts.accounts import ACCOUNTS_EVENTS
from crm_platform.testing.in_memory_event_store import InMemoryEventStore

from gateway.domain.accounts import Account
from gateway.service_layer.unit_of_work import UnitOfWork


def test_a_new_account_publishes_account_created_as_its_contract_says():
    store = InMemoryEventStore()
    account = Account.open("Agence Dupont")
    with UnitOfWork(store) as uow:
        uow.accounts.add(account)
        uow.commit()
    [envelope] = store.load(account.id)
    assert (envelope.event_type, envelope.aggregate_type, envelope.account_id) == ("AccountCreated", "Account", account.id)
    assert envelope.payload == {"account_id": account.id, "name": "Agence Dupont"}
    assert ACCOUNTS_EVENTS.contract(envelope.event_type).validate(envelope.payload) == {}
    with UnitOfWork(store) as uow:
        assert uow.accounts.get(account.id, account.id).name == "Agence Dupont"
