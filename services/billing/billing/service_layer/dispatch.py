"""Which handler takes which message: one per command, any number per event (the message bus reads these)."""
from __future__ import annotations

from billing.domain import commands, quote_commands, recurring_commands, send_commands
from billing.domain.settings import ChangeBillingSettings
from billing.service_layer import handlers, quote_handlers, recurring_handlers, sending, settings_handlers

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
    quote_commands.CreateQuoteDraft: quote_handlers.create_quote_draft,
    quote_commands.UpdateQuoteDraft: quote_handlers.update_quote_draft,
    quote_commands.DeleteQuoteDraft: quote_handlers.delete_quote_draft,
    quote_commands.SendQuote: quote_handlers.send_quote,
    quote_commands.AcceptQuote: quote_handlers.accept_quote,
    quote_commands.DeclineQuote: quote_handlers.decline_quote,
    quote_commands.ConvertQuote: quote_handlers.convert_quote,
    recurring_commands.CreateRecurringInvoice: recurring_handlers.create_recurring_invoice,
    recurring_commands.EditRecurringInvoice: recurring_handlers.edit_recurring_invoice,
    recurring_commands.PauseRecurringInvoice: recurring_handlers.pause_recurring_invoice,
    recurring_commands.ResumeRecurringInvoice: recurring_handlers.resume_recurring_invoice,
    recurring_commands.CancelRecurringInvoice: recurring_handlers.cancel_recurring_invoice,
    recurring_commands.GenerateDueInvoices: recurring_handlers.generate_due_invoices,
    send_commands.SendInvoice: sending.send_document,
    send_commands.MailQuote: sending.send_document,
    send_commands.SendCreditNote: sending.send_document,
    send_commands.RecordSendOutcome: sending.record_send_outcome,
}

EVENT_HANDLERS: dict = {}
# The worker's mail consumer (billing.mail) hands these to a bus of its own, with the mail outbox and the PDFs
MAIL_EVENT_HANDLERS: dict = {requested: [sending.queue_document_mails] for requested in sending.SEND_REQUESTS}
