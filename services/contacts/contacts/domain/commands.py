"""Commands to the contacts service (imperative): what a caller asks for."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CreateContact:
    account_id: str
    details: dict
    phone_region: str = "FR"  # the deployment's default, for accounts that set none
    allow_duplicates: bool = False


@dataclass(frozen=True)
class UpdateContact:
    account_id: str
    contact_id: str
    revision: int
    changes: dict
    phone_region: str = "FR"  # the deployment's default, for accounts that set none
    allow_duplicates: bool = False


@dataclass(frozen=True)
class DeleteContact:
    account_id: str
    contact_id: str
    revision: int | None = None


@dataclass(frozen=True)
class EraseContact:
    """Forget a person: this contact and every contact merged with it (see service_layer/erasure.py)."""

    account_id: str
    contact_id: str


@dataclass(frozen=True)
class CreateLabel:
    account_id: str
    name: str
    key: str | None = None


@dataclass(frozen=True)
class FindOrCreateLabel:
    account_id: str
    name: str


@dataclass(frozen=True)
class RenameLabel:
    account_id: str
    key: str
    name: str


@dataclass(frozen=True)
class DeleteLabel:
    account_id: str
    key: str


@dataclass(frozen=True)
class AssignLabel:
    account_id: str
    contact_id: str
    key: str


@dataclass(frozen=True)
class UnassignLabel:
    account_id: str
    contact_id: str
    key: str


@dataclass(frozen=True)
class AddCustomField:
    account_id: str
    name: str
    type: str
    key: str | None = None


@dataclass(frozen=True)
class RenameCustomField:
    account_id: str
    key: str
    name: str


@dataclass(frozen=True)
class RemoveCustomField:
    account_id: str
    key: str


@dataclass(frozen=True)
class AddNote:
    account_id: str
    contact_id: str
    kind: str
    text: str


@dataclass(frozen=True)
class AddImportedNote:
    """A note brought by row `row_number` of an import (Google's "Notes" column)."""

    account_id: str
    contact_id: str
    import_id: str
    row_number: int
    text: str


@dataclass(frozen=True)
class EditNote:
    account_id: str
    contact_id: str
    note_id: str
    revision: int
    kind: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class DeleteNote:
    account_id: str
    contact_id: str
    note_id: str
    revision: int | None = None


@dataclass(frozen=True)
class CreateSavedView:
    account_id: str
    name: str
    query: dict


@dataclass(frozen=True)
class ChangeSavedView:
    account_id: str
    view_id: str
    name: str | None = None
    query: dict | None = None


@dataclass(frozen=True)
class DeleteSavedView:
    account_id: str
    view_id: str


@dataclass(frozen=True)
class AddOption:
    account_id: str
    kind: str
    name: str
    key: str | None = None


@dataclass(frozen=True)
class RenameOption:
    account_id: str
    kind: str
    key: str
    name: str


@dataclass(frozen=True)
class ReorderOptions:
    account_id: str
    kind: str
    keys: list


@dataclass(frozen=True)
class RemoveOption:
    account_id: str
    kind: str
    key: str


@dataclass(frozen=True)
class SetPhoneRegion:
    account_id: str
    region: str


@dataclass(frozen=True)
class MergeContacts:
    account_id: str
    target_id: str
    source_ids: list
    revision: int | None = None  # the target's, when the caller wants the merge based on what it saw


@dataclass(frozen=True)
class ReorderLabels:
    account_id: str
    keys: list


@dataclass(frozen=True)
class AddAttachment:
    account_id: str
    contact_id: str
    file_name: str
    content_type: str  # as declared by the client
    data: bytes
    max_bytes: int


@dataclass(frozen=True)
class DeleteAttachment:
    account_id: str
    contact_id: str
    attachment_id: str


@dataclass(frozen=True)
class SetProfilePicture:
    account_id: str
    contact_id: str
    file_name: str
    content_type: str
    data: bytes
    max_bytes: int


@dataclass(frozen=True)
class DeleteProfilePicture:
    account_id: str
    contact_id: str


@dataclass(frozen=True)
class MoveAttachments:
    """Re-point a contact's attachments to another contact of the account (a merge)."""

    account_id: str
    from_contact_id: str
    to_contact_id: str
    attachment_ids: tuple  # the file attachments (views.attachment_ids_of); the picture is found by itself


@dataclass(frozen=True)
class ImportSettings:
    mapping: list | None = None  # JSON form, one entry per column; None: the suggested mapping (CSV only)
    encoding: str | None = None
    delimiter: str | None = None
    labels: tuple[str, ...] = ()  # label names given to every imported contact (created when missing)
    mark_subscribed: bool = False
    on_match: str = "skip"  # a row whose email (then phone) is a contact's: skip, update or create


@dataclass(frozen=True)
class StartImport:
    account_id: str
    import_id: str
    settings: ImportSettings
    custom_fields: list  # the account's definitions, as the preview showed them


@dataclass(frozen=True)
class SendMessage:
    """An e-mail to the contact: `to` one of its addresses (None: the primary one), files among its attachments."""

    account_id: str
    contact_id: str
    subject: str
    body: str
    to: str | None = None
    marketing: bool = False
    attachment_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordMessageOutcome:
    """What the mail outbox reports of a message: `sent` or `failed` (with its reason); safe to repeat."""

    account_id: str
    contact_id: str
    message_id: str
    status: str
    reason: str | None
    attempts: int
    at: datetime


@dataclass(frozen=True)
class RequeueMessage:
    """Hand a queued message to the mail outbox again if the outbox never got it (the API stopped in between)."""

    account_id: str
    contact_id: str
    message_id: str
