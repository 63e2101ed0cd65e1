"""Accounts (tenants): the aggregate whose creation other services learn of through `accounts.events`."""
from __future__ import annotations

import uuid

from crm_platform.aggregates import Aggregate
from crm_platform.contracts.accounts import AccountCreated


class Account(Aggregate):
    aggregate_type = "Account"
    event_classes = (AccountCreated,)

    def __init__(self, account_id: str, owner_account_id: str | None = None) -> None:
        super().__init__(account_id, owner_account_id or account_id)  # an account is its own tenant
        self.name = ""

    @classmethod
    def open(cls, name: str) -> "Account":
        """A new account with this display name."""
        account = cls(str(uuid.uuid4()))
        account._record(AccountCreated(account.id, name))
        return account

    def _apply(self, event: AccountCreated) -> None:
        self.name = event.name
