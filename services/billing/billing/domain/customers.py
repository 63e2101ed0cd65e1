"""Who a billing document is for: the port through which billing reads its own projection of contacts.

Billing never reads the contacts service's database: it keeps a projection of `contacts.events`
(billing/adapters/customers_projection.py) and the handlers read it through `CustomerDirectory`.
A draft follows its contact until it is issued; issuing freezes `Customer.buyer` on the invoice.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Customer:
    """A contact as billing knows it. `contact_id` is the surviving contact's id when the one asked for was
    merged into another (documents follow the survivor); `deleted` when the contact is gone."""

    contact_id: str
    buyer: dict = field(default_factory=dict)  # name, company, vat_number, address, emails: personal data
    deleted: bool = False
    bounced: tuple[str, ...] = ()  # its addresses whose deliverability is `bounced` (mail to them does not arrive)


class CustomerDirectory(abc.ABC):
    @abc.abstractmethod
    def find(self, account_id: str, contact_id: str) -> Customer | None:
        """The contact (or the one it was merged into) as billing's projection holds it; None if never seen."""
