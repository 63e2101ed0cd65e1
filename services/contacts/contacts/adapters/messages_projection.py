"""The read model of messages to contacts (`messages`); what a message says is sealed with its contact's key."""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING

from contacts.adapters.contact_items import ContactItemsProjection
from contacts.domain.messages import Message, MessageState


class MessagesProjection(ContactItemsProjection):
    aggregate_type = Message.aggregate_type
    personal_columns = ("to", "subject", "body", "attachments")

    def ensure_indexes(self) -> None:
        super().ensure_indexes()
        self.collection.create_index([("status", ASCENDING), ("created_at", ASCENDING)], name="status_oldest")

    def live_columns(self, event: MessageState) -> dict | None:
        return {"to": event.to, "subject": event.subject_line, "body": event.body, "attachments": event.attachments,
                "marketing": event.marketing, "status": event.status, "reason": event.reason,
                "attempts": event.attempts, "created_at": datetime.fromisoformat(event.created_at),
                "finished_at": datetime.fromisoformat(event.finished_at) if event.finished_at else None}
