"""Which handler takes which message: one per command, any number per event (the message bus reads these)."""
from __future__ import annotations

from billing.domain import commands
from billing.domain.settings import ChangeBillingSettings
from billing.service_layer import handlers, settings_handlers

COMMAND_HANDLERS = {
    ChangeBillingSettings: settings_handlers.change_billing_settings,
    commands.CreateInvoiceDraft: handlers.create_invoice_draft,
    commands.UpdateInvoiceDraft: handlers.update_invoice_draft,
    commands.DeleteInvoiceDraft: handlers.delete_invoice_draft,
    commands.IssueInvoice: handlers.issue_invoice,
    commands.RecordPayment: handlers.record_payment,
    commands.RemovePayment: handlers.remove_payment,
    commands.VoidInvoice: handlers.void_invoice,
    commands.IssueCreditNote: handlers.issue_credit_note,
    commands.FinishCreditNote: handlers.finish_credit_note,
}

EVENT_HANDLERS: dict = {}
