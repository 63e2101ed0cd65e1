"""Files attached to a contact, its profile picture among them: added, moved to another contact, deleted.

A contact's profile picture is the attachment with the id `picture_id(contact)`,
so it is found without a query and two pictures of one contact cannot both be
current; a new picture replaces the old one in the same commit.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import NotFound

from contacts.domain.events import CONTACT_SUBJECT

FILE, PROFILE_PICTURE = KINDS = ("file", "profile_picture")


class AttachmentNotFound(NotFound):
    def __init__(self, attachment_id: str) -> None:
        super().__init__(f"attachment {attachment_id} does not exist on this contact", attachment_id=attachment_id)


class NoProfilePicture(NotFound):
    def __init__(self, contact_id: str) -> None:
        super().__init__(f"contact {contact_id} has no profile picture", contact_id=contact_id)


@dataclass(frozen=True)
class StoredFile:
    """A file's content as the blob store holds it, and what the client was told about it."""

    file_name: str
    content_type: str
    size: int
    sha256: str
    blob_id: str
    thumbnail_blob_id: str | None = None

    @property
    def blob_ids(self) -> tuple[str, ...]:
        return tuple(b for b in (self.blob_id, self.thumbnail_blob_id) if b)


class AttachmentEvent(DomainEvent):
    """The file name and digest are sealed with the contact's key, as the content is (attachment_files.py)."""

    aggregate_id_field = "attachment_id"
    personal_fields = ("file_name", "sha256")
    data_subject = CONTACT_SUBJECT


@dataclass(frozen=True)
class AttachmentState(AttachmentEvent):
    """What every attachment event but the deletion carries: the whole attachment (its file's fields flat)."""

    attachment_id: str
    account_id: str
    contact_id: str
    kind: str
    created_at: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    blob_id: str
    thumbnail_blob_id: str | None

    @classmethod
    def of(cls, attachment_id: str, account_id: str, contact_id: str, kind: str, file: StoredFile, created_at: str,
           **more: str) -> "AttachmentState":
        return cls(attachment_id, account_id, contact_id, kind, created_at, *dataclasses.astuple(file), **more)

    @property
    def file(self) -> StoredFile:
        return StoredFile(self.file_name, self.content_type, self.size, self.sha256, self.blob_id,
                          self.thumbnail_blob_id)


@dataclass(frozen=True)
class AttachmentAdded(AttachmentState):
    """A file attached, or a profile picture set."""


@dataclass(frozen=True)
class AttachmentMoved(AttachmentState):
    """Now on another contact (a merge), its content copied and sealed with that contact's key."""

    from_contact_id: str


@dataclass(frozen=True)
class AttachmentDeleted(AttachmentEvent):
    attachment_id: str
    account_id: str
    contact_id: str


PICTURE_PREFIX = "picture-"


def picture_id(contact_id: str) -> str:
    return f"{PICTURE_PREFIX}{contact_id}"


class Attachment(Aggregate):
    aggregate_type = "Attachment"
    event_classes = (AttachmentAdded, AttachmentMoved, AttachmentDeleted)
    latest_event_is_state = True
    not_found_error = AttachmentNotFound

    def __init__(self, attachment_id: str, account_id: str, contact_id: str = "") -> None:
        super().__init__(attachment_id, account_id)
        self.contact_id = contact_id
        self.kind = FILE
        self.file: StoredFile | None = None
        self.created_at = ""

    @property
    def gone(self) -> bool:
        return not self.live


    @classmethod
    def add_file(cls, account_id: str, contact_id: str, file: StoredFile) -> "Attachment":
        attachment = cls(str(uuid.uuid4()), account_id, contact_id)
        attachment._record(AttachmentAdded.of(attachment.id, account_id, contact_id, FILE, file, _now()))
        return attachment

    @classmethod
    def blank(cls, aggregate_id: str, account_id: str) -> "Attachment":
        """Before its first event; a picture's contact is in its id (see picture_id)."""
        return cls(aggregate_id, account_id, aggregate_id.removeprefix(PICTURE_PREFIX))

    @property
    def live(self) -> bool:
        return self.file is not None and not self.deleted

    def set_as_picture(self, file: StoredFile) -> StoredFile | None:
        """Make `file` the contact's picture (self is `picture_id(contact)`); the file it replaces, if any."""
        replaced = self.file if self.live else None
        if replaced is not None:
            self._record(AttachmentDeleted(self.id, self.account_id, self.contact_id))
        self._record(AttachmentAdded.of(self.id, self.account_id, self.contact_id, PROFILE_PICTURE, file, _now()))
        return replaced

    def move_to(self, contact_id: str, file: StoredFile) -> None:
        """Move to another contact, with `file` the copy of the content sealed for that contact."""
        self._check_live()
        self._record(AttachmentMoved.of(self.id, self.account_id, contact_id, self.kind, file, self.created_at,
                                        from_contact_id=self.contact_id))

    def delete(self) -> None:
        self._check_live()
        self._record(AttachmentDeleted(self.id, self.account_id, self.contact_id))

    def _check_live(self) -> None:
        if not self.live:
            raise AttachmentNotFound(self.id)

    def _apply(self, event: AttachmentEvent) -> None:
        self.contact_id = event.contact_id
        self.deleted = isinstance(event, AttachmentDeleted)
        if not self.deleted:
            self.kind, self.file, self.created_at = event.kind, event.file, event.created_at


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
