"""The read model of attachments (`attachments`); file names and digests are sealed with the contact's key."""
from __future__ import annotations

from datetime import datetime

from contacts.adapters.contact_items import ContactItemsProjection
from contacts.domain.attachments import Attachment, AttachmentDeleted, AttachmentEvent


class AttachmentsProjection(ContactItemsProjection):
    aggregate_type = Attachment.aggregate_type
    personal_columns = ("file_name", "sha256")

    def live_columns(self, event: AttachmentEvent) -> dict | None:
        if isinstance(event, AttachmentDeleted):
            return None
        file = event.file
        return {"kind": event.kind, "file_name": file.file_name, "content_type": file.content_type, "size": file.size,
                "sha256": file.sha256, "blob_id": file.blob_id, "thumbnail_blob_id": file.thumbnail_blob_id,
                "created_at": datetime.fromisoformat(event.created_at)}
