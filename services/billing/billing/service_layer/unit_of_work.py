"""The billing service's unit of work: its aggregate types, listed once, and the ports its handlers read.

Besides a repository per aggregate type, a unit of work holds what the invoice handlers need
(billing/service_layer/handlers.py, and the quote and recurring-invoice ones): `number_series`
(gapless numbers), `customers` (billing's projection of contacts) and `account_defaults` (read from
the account's BillingSettings, in the same unit of work).
"""
from __future__ import annotations

from crm_platform.event_store import EventStore
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.repository import Repository
from crm_platform.unit_of_work import UnitOfWork as KernelUnitOfWork

from billing.domain.account_defaults import AccountDefaults, AccountDefaultsSource
from billing.domain.credit_notes import CreditNote
from billing.domain.customers import CustomerDirectory
from billing.domain.invoices import Invoice
from billing.domain.number_series import NumberSeries
from billing.domain.quotes import Quote
from billing.domain.recurring_invoices import RecurringInvoice
from billing.domain.settings import BillingSettings, settings_id


class UnitOfWork(KernelUnitOfWork):
    aggregates = {"settings": BillingSettings, "invoices": Invoice, "credit_notes": CreditNote, "quotes": Quote,
                  "recurring_invoices": RecurringInvoice}
    settings: Repository[BillingSettings]
    invoices: Repository[Invoice]
    credit_notes: Repository[CreditNote]
    quotes: Repository[Quote]
    recurring_invoices: Repository[RecurringInvoice]

    def __init__(self, store: EventStore, cipher: PersonalDataCipher | None = None,
                 number_series: NumberSeries | None = None, customers: CustomerDirectory | None = None) -> None:
        super().__init__(store, cipher)
        self.number_series = number_series
        self.customers = customers
        self.account_defaults = SettingsDefaults(self)


class SettingsDefaults(AccountDefaultsSource):
    """The account's defaults, read from its BillingSettings in the unit of work they are used in."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def for_account(self, account_id: str) -> AccountDefaults:
        return self._uow.settings.find_or_blank(account_id, settings_id(account_id)).account_defaults()
