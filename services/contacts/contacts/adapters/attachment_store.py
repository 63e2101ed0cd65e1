"""Attachments in the event store (aggregate type `Attachment`) and their read model `attachments`.

The file name and digest are sealed with the contact's key, as the content is
(attachment_files.py): erasing the contact makes all three unreadable.
"""
from __future__ import annotations

from datetime import datetime

from crm_platform.aggregates import save_pending
from crm_platform.envelope import EventEnvelope, new_envelope
from crm_platform.event_store import EventStore
from crm_platform.personal_data import PersonalDataCipher, SubjectErased

from contacts.adapters.contact_items import ContactItemsProjection
from contacts.adapters.event_codec import data_subject
from contacts.domain.attachments import (
    Attachment,
    AttachmentAdded,
    AttachmentDeleted,
    AttachmentEvent,
    AttachmentMoved,
    AttachmentNotFound,
    StoredFile,
    picture_id,
)

AGGREGATE_TYPE = "Attachment"


def to_envelope(event: AttachmentEvent, version: int, cipher: PersonalDataCipher) -> EventEnvelope:
    payload: dict = {"contact_id": event.contact_id}
    if not isinstance(event, AttachmentDeleted):
        file = event.file
        payload.update(kind=event.kind, created_at=event.created_at, content_type=file.content_type, size=file.size,
                       blob_id=file.blob_id, thumbnail_blob_id=file.thumbnail_blob_id,
                       personal=cipher.seal(data_subject(event.contact_id),
                                            {"file_name": file.file_name, "sha256": file.sha256}))
    if isinstance(event, AttachmentMoved):
        payload["from_contact_id"] = event.from_contact_id
    return new_envelope(event_type=type(event).__name__, aggregate_type=AGGREGATE_TYPE, aggregate_id=event.attachment_id,
                        aggregate_version=version, account_id=event.account_id, payload=payload)


def from_envelope(envelope: EventEnvelope, cipher: PersonalDataCipher) -> AttachmentEvent:
    """The attachment event; SubjectErased if its contact was erased."""
    p, ids = envelope.payload, (envelope.aggregate_id, envelope.account_id, envelope.payload["contact_id"])
    if envelope.event_type == "AttachmentDeleted":
        return AttachmentDeleted(*ids)
    personal = cipher.open(p["personal"])
    file = StoredFile(personal["file_name"], p["content_type"], p["size"], personal["sha256"], p["blob_id"],
                      p.get("thumbnail_blob_id"))
    if envelope.event_type == "AttachmentAdded":
        return AttachmentAdded(*ids, p["kind"], file, p["created_at"])
    return AttachmentMoved(*ids, p["kind"], file, p["created_at"], p["from_contact_id"])


class AttachmentRepository:
    def __init__(self, store: EventStore, cipher: PersonalDataCipher) -> None:
        self._store = store
        self._cipher = cipher
        self.seen: dict[str, Attachment] = {}

    def add(self, attachment: Attachment) -> None:
        self.seen[attachment.id] = attachment

    def get(self, account_id: str, contact_id: str, attachment_id: str) -> Attachment:
        """The live attachment of this contact; AttachmentNotFound for another's, a deleted or an erased one."""
        attachment = self._load(account_id, attachment_id)
        if attachment is None or not attachment.live or attachment.contact_id != contact_id:
            raise AttachmentNotFound(attachment_id)
        self.seen[attachment.id] = attachment
        return attachment

    def picture(self, account_id: str, contact_id: str) -> Attachment:
        """The attachment that is (or was, or will be) the contact's profile picture; `live` says if it is one now."""
        attachment_id = picture_id(contact_id)
        attachment = self._load(account_id, attachment_id) or Attachment(attachment_id, account_id, contact_id)
        self.seen[attachment.id] = attachment
        return attachment

    def _load(self, account_id: str, attachment_id: str) -> Attachment | None:
        # Every event but a deletion holds the whole attachment, so the newest is enough; the older ones may be
        # sealed for a contact it was moved away from, and since erased.
        history = self._store.load(attachment_id)
        if not history or history[0].account_id != account_id:
            return None
        try:
            return Attachment.restore(from_envelope(history[-1], self._cipher), history[-1].aggregate_version)
        except SubjectErased:
            return None

    def save_pending(self) -> None:
        save_pending(self._store, self.seen.values(), lambda event, version: to_envelope(event, version, self._cipher))


class AttachmentsProjection(ContactItemsProjection):
    aggregate_type = AGGREGATE_TYPE
    personal_columns = ("file_name", "sha256")

    def live_columns(self, envelope: EventEnvelope) -> dict | None:
        event = from_envelope(envelope, self._cipher)
        if isinstance(event, AttachmentDeleted):
            return None
        file = event.file
        return {"kind": event.kind, "file_name": file.file_name, "content_type": file.content_type, "size": file.size,
                "sha256": file.sha256, "blob_id": file.blob_id, "thumbnail_blob_id": file.thumbnail_blob_id,
                "created_at": datetime.fromisoformat(event.created_at)}
