"""`accounts.events`, produced by the gateway: the accounts (tenants) that exist."""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields

from crm_platform.aggregates import DomainEvent
from crm_platform.contracts import EventContract, PayloadSchema, Topic, required_id


@dataclass(frozen=True)
class AccountCreated(DomainEvent):
    """A new account; services set up what an account starts with (default labels, boards...)."""

    account_id: str
    name: str
    account_id_in_payload = True


class AccountCreatedPayload(PayloadSchema):
    account_id = required_id()
    name = fields.String(required=True)


ACCOUNTS_EVENTS = Topic("accounts.events", producer="gateway", events=(
    EventContract(AccountCreated.event_type(), AccountCreatedPayload),
))

ACCOUNTS_EVENTS_CLASSES = (AccountCreated,)  # the typed events a consumer decodes this topic into
