"""Which published events reach webhooks, under which public type, with which fields: the one table.

Payloads are thin: the event's id, type and time, the account, the resource's ids and a few fields that say
nothing about a person (numbers, dates, amounts, keys, statuses). Names, emails, notes and every other personal
field travel sealed in the published events; the gateway cannot open them and never sends them. A receiver
that needs more reads the resource through the API, which answers 404 once the person is erased: erasure
reaches webhook receivers with nothing to do here.

Each row names a contract event (topic, event type, from crm_platform.contracts) and the payload fields copied
as they are; `id_field` names the resource's id in the public payload (the envelope's aggregate id), unless the
payload's own id field is the resource's. A test checks every row against the published contracts.

GATEWAY_EVENTS are the gateway's own: no service publishes them, the gateway makes them itself (the notice that an
endpoint was disabled, domain.webhook_endpoint_notices); they are subscribed to and sent as the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crm_platform.contracts.billing import BILLING_EVENTS
from crm_platform.contracts.contacts import CONTACTS_EVENTS
from crm_platform.contracts.privacy import PRIVACY_TOPIC
from crm_platform.contracts.workflows import WORKFLOWS_EVENTS

WILDCARD = "*"


@dataclass(frozen=True)
class PublicEvent:
    type: str  # what endpoints subscribe to: `contact.created`
    topic: str  # the published topic it comes from
    event_type: str  # the contract's event type
    id_field: str | None  # the public name of the envelope's aggregate id, None when a copied field names it
    fields: tuple[str, ...] = ()  # payload fields copied as they are (never a sealed one)


_CONTACTS, _BILLING, _WORKFLOWS = CONTACTS_EVENTS.name, BILLING_EVENTS.name, WORKFLOWS_EVENTS.name
_CARD = ("board_id", "stage_id", "contact_id", "status", "moved_at")

PUBLIC_EVENTS: tuple[PublicEvent, ...] = (
    PublicEvent("contact.created", _CONTACTS, "ContactCreated", None, ("contact_id", "created_at")),
    PublicEvent("contact.updated", _CONTACTS, "ContactUpdated", None, ("contact_id", "changed")),
    PublicEvent("contact.deleted", _CONTACTS, "ContactDeleted", None, ("contact_id", "merged_into")),
    PublicEvent("contact.erased", _CONTACTS, "ContactErased", None, ("contact_id",)),
    PublicEvent("contacts.merged", _CONTACTS, "ContactsMerged", None, ("contact_id", "source_ids")),
    PublicEvent("label.assigned", _CONTACTS, "LabelAssigned", None, ("contact_id", "label_key")),
    PublicEvent("label.unassigned", _CONTACTS, "LabelUnassigned", None, ("contact_id", "label_key")),
    PublicEvent("note.added", _CONTACTS, "NoteAdded", "note_id", ("contact_id", "kind", "created_at")),
    PublicEvent("note.deleted", _CONTACTS, "NoteDeleted", "note_id", ("contact_id",)),
    PublicEvent("attachment.added", _CONTACTS, "AttachmentAdded", "attachment_id",
                ("contact_id", "kind", "content_type", "size", "created_at")),
    PublicEvent("invoice.issued", _BILLING, "InvoiceIssued", "invoice_id",
                ("contact_id", "number", "issued_on", "due_on", "currency", "total")),
    PublicEvent("invoice.payment_recorded", _BILLING, "InvoicePaymentRecorded", "invoice_id",
                ("contact_id", "payment_id", "amount", "paid_on", "method", "amount_due")),
    PublicEvent("invoice.paid", _BILLING, "InvoicePaid", "invoice_id", ("contact_id", "paid_on")),
    PublicEvent("invoice.voided", _BILLING, "InvoiceVoided", "invoice_id", ("contact_id",)),
    PublicEvent("credit_note.issued", _BILLING, "CreditNoteIssued", "credit_note_id",
                ("contact_id", "invoice_id", "number", "issued_on", "currency", "total")),
    PublicEvent("quote.sent", _BILLING, "QuoteSent", "quote_id",
                ("contact_id", "number", "sent_on", "valid_until", "currency", "total")),
    PublicEvent("quote.accepted", _BILLING, "QuoteAccepted", "quote_id", ("contact_id", "accepted_on")),
    PublicEvent("quote.declined", _BILLING, "QuoteDeclined", "quote_id", ("contact_id", "declined_on")),
    PublicEvent("quote.converted", _BILLING, "QuoteConverted", "quote_id",
                ("contact_id", "invoice_id", "converted_on")),
    PublicEvent("card.created", _WORKFLOWS, "CardCreated", "card_id", _CARD),
    PublicEvent("card.moved", _WORKFLOWS, "CardMoved", "card_id", (*_CARD, "from_stage_id")),
    PublicEvent("card.won", _WORKFLOWS, "CardWon", "card_id", _CARD),
    PublicEvent("card.lost", _WORKFLOWS, "CardLost", "card_id", _CARD),
    PublicEvent("card.archived", _WORKFLOWS, "CardArchived", "card_id", _CARD),
    # a reminder's time and which it is; its title and notes are sealed, its assignee is a name: neither is sent
    PublicEvent("task.reminder_due", _WORKFLOWS, "TaskReminderDue", "task_id",
                ("contact_id", "link_kind", "link_id", "due_at", "reminder", "remind_at", "late")),
    PublicEvent("privacy.erasure_requested", PRIVACY_TOPIC, "ErasureRequested", "request_id",
                ("contact_ids", "requested_at")),
    # privacy.events says which request completed, not of which kind: the kind comes from the request's first
    # event, remembered by the consumer (service_layer.webhook_fan_out)
    PublicEvent("privacy.erasure_completed", PRIVACY_TOPIC, "PrivacyRequestCompleted", "request_id",
                ("status", "completed_at")),
)



@dataclass(frozen=True)
class GatewayEvent:
    type: str  # what endpoints subscribe to
    fields: tuple[str, ...]  # its payload's `data` (never a personal field)


ENDPOINT_DISABLED = "webhook_endpoint.disabled"
GATEWAY_EVENTS: tuple[GatewayEvent, ...] = (
    GatewayEvent(ENDPOINT_DISABLED, ("endpoint_id", "reason", "disabled_at", "failing_since", "failed_deliveries")),
)

PUBLIC_TYPES = frozenset(event.type for event in PUBLIC_EVENTS) | {event.type for event in GATEWAY_EVENTS}
# The contract events that start a privacy request, and the kind each starts: only erasures are published.
PRIVACY_REQUEST_KINDS = {"ErasureRequested": "erasure", "SubjectExportRequested": "export"}
ERASURE_COMPLETED = "privacy.erasure_completed"
# by event type alone: each mapped type is declared on one topic only (tests/unit/test_webhook_events.py)
_BY_EVENT_TYPE = {event.event_type: event for event in PUBLIC_EVENTS}


def public_event_of(event_type: str) -> PublicEvent | None:
    """The public event a published one becomes, if any."""
    return _BY_EVENT_TYPE.get(event_type)


def thin_payload(event: PublicEvent, *, event_id: str, occurred_at: datetime, account_id: str, aggregate_id: str,
                 payload: dict) -> dict:
    """The body sent to receivers: `{id, type, timestamp, account_id, data}` (see docs/webhooks.md)."""
    data = {event.id_field: aggregate_id} if event.id_field else {}
    data.update({name: payload.get(name) for name in event.fields})
    return {"id": event_id, "type": event.type, "timestamp": occurred_at.isoformat().replace("+00:00", "Z"),
            "account_id": account_id, "data": data}


def unknown_types(requested: list[str]) -> list[str]:
    """The requested event types that are neither a public type nor the wildcard, in the order given."""
    return [name for name in requested if name != WILDCARD and name not in PUBLIC_TYPES]


def subscribed(events: list[str], public_type: str) -> bool:
    return WILDCARD in events or public_type in events
