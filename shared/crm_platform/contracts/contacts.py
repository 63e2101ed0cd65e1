"""`contacts.events`, produced by the contacts service: contacts, labels, custom fields, option lists,
notes, attachments, messages (e-mails to a contact and their delivery), saved views and the account's contact
settings.

A contact's fields that identify a person travel in `personal`, sealed with
the key `contact:<id>` (crm_platform.personal_data): a consumer that needs
them asks the contacts service; once the person is erased nobody can open them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import fields, validate

from crm_platform.aggregates import DomainEvent
from crm_platform.contracts import EventContract, PayloadSchema, SealedField, Topic, id_list, optional_id, required_id
from crm_platform.contracts.privacy import PRIVACY_REPLY_CONTRACTS


def _text() -> fields.String:
    return fields.String(required=True)


def _keys() -> fields.List:
    return fields.List(fields.String(), required=True)


class _OptionSchema(PayloadSchema):
    key = _text()
    name = _text()


def _options() -> fields.List:
    return fields.List(fields.Nested(_OptionSchema), required=True)


class ContactStatePayload(PayloadSchema):
    """The contact's whole state after the change: `details` in clear (label keys, option keys), the rest sealed."""

    contact_id = required_id()
    # only keys travel in clear: a personal field here would be published unsealed
    details = fields.Dict(keys=fields.String(validate=validate.OneOf(("labels", "function", "department"))),
                          required=True, metadata={"description": "labels, function, department: keys, no personal data"})
    personal = SealedField(required=True)
    created_at = _text()


class ContactUpdatedPayload(ContactStatePayload):
    changed = _keys()


class LabelAssignmentPayload(ContactStatePayload):
    label_key = _text()


class ContactsMergedPayload(ContactStatePayload):
    source_ids = id_list()
    source_revisions = fields.List(fields.Integer(), load_default=None, allow_none=True, metadata={
        "description": "each source's revision taken in, in the order of source_ids; absent from older events"})


class ContactDeletedPayload(PayloadSchema):
    contact_id = required_id()
    merged_into = optional_id()


class ContactErasedPayload(PayloadSchema):
    """The person was erased: drop whatever you kept of this contact (its key is shredded)."""

    contact_id = required_id()


class LabelPayload(PayloadSchema):
    key = _text()
    name = _text()


def _generation() -> fields.Integer:
    return fields.Integer(load_default=0, validate=validate.Range(min=0), metadata={
        "description": "the life of the key this removal ended (each creation of the key starts a new one); "
                       "a consumer's clean-up takes off only what was given under it or before. Absent (read as 0) "
                       "in events stored before generations were recorded; 0 for a built-in option"})


class LabelDeletedPayload(PayloadSchema):
    key = _text()
    generation = _generation()


class LabelsReorderedPayload(PayloadSchema):
    keys = _keys()


class CustomFieldAddedPayload(PayloadSchema):
    key = _text()
    name = _text()
    type = _text()


class CustomFieldRemovedPayload(PayloadSchema):
    key = _text()
    generation = _generation()


class OptionListStartedPayload(PayloadSchema):
    kind = _text()
    options = _options()


class OptionPayload(OptionListStartedPayload):
    key = _text()
    name = _text()


class OptionRemovedPayload(OptionListStartedPayload):
    key = _text()
    generation = _generation()


class OptionsReorderedPayload(OptionListStartedPayload):
    keys = _keys()


class DefaultPhoneRegionSetPayload(PayloadSchema):
    region = fields.String(required=True, validate=validate.Length(equal=2))


class ContactItemDeletedPayload(PayloadSchema):
    contact_id = required_id()


class NotePayload(ContactItemDeletedPayload):
    kind = _text()
    created_at = _text()
    personal = SealedField(required=True, metadata={"description": "the text"})


class NoteMovedPayload(NotePayload):
    from_contact_id = required_id()


class AttachmentPayload(ContactItemDeletedPayload):
    kind = _text()
    created_at = _text()
    content_type = _text()
    size = fields.Integer(required=True)
    blob_id = _text()
    thumbnail_blob_id = fields.String(load_default=None, allow_none=True)
    personal = SealedField(required=True, metadata={"description": "file name and SHA-256"})


class AttachmentMovedPayload(AttachmentPayload):
    from_contact_id = required_id()


class MessagePayload(ContactItemDeletedPayload):
    """A message to the contact, whole, after each change: its status in clear, what it says sealed."""

    marketing = fields.Boolean(required=True)
    created_at = _text()
    status = fields.String(required=True, validate=validate.OneOf(("queued", "sent", "failed")))
    reason = fields.String(load_default=None, allow_none=True, metadata={
        "description": "why it failed: rejected (the address bounced), undeliverable (given up after retries), "
                       "subject_erased (the person was erased first), invalid (the stored mail did not open), "
                       "attachment_deleted (a file was deleted before the mail was handed over), processing_restricted "
                       "(a marketing mail to a person who restricted processing before it went)"})
    attempts = fields.Integer(required=True, validate=validate.Range(min=0))
    finished_at = fields.String(load_default=None, allow_none=True, metadata={"description": "when sent or failed"})
    personal = SealedField(required=True, metadata={"description": "to, subject_line, body, attachments (ids, file "
                                                                   "names, types, sizes)"})


class ItemsFiledPayload(PayloadSchema):
    contact_id = required_id()
    note_ids = id_list()
    attachment_ids = id_list()


class HoldingsHandedOverPayload(PayloadSchema):
    contact_id = required_id()
    to_contact_id = required_id()


class _QueryPairSchema(PayloadSchema):
    name = _text()
    value = fields.Raw(required=True)


class SavedViewPayload(PayloadSchema):
    name = fields.String(required=True, allow_none=True)
    query = fields.List(fields.Nested(_QueryPairSchema), required=True, allow_none=True)


class NoPayload(PayloadSchema):
    pass


CONTACTS_EVENTS = Topic("contacts.events", producer="contacts", events=(
    EventContract("ContactCreated", ContactStatePayload),
    EventContract("ContactUpdated", ContactUpdatedPayload),
    EventContract("LabelAssigned", LabelAssignmentPayload),
    EventContract("LabelUnassigned", LabelAssignmentPayload),
    EventContract("ContactsMerged", ContactsMergedPayload),
    EventContract("ContactDeleted", ContactDeletedPayload),
    EventContract("ContactErased", ContactErasedPayload),
    EventContract("LabelCreated", LabelPayload),
    EventContract("LabelRenamed", LabelPayload),
    EventContract("LabelDeleted", LabelDeletedPayload),
    EventContract("LabelsReordered", LabelsReorderedPayload),
    EventContract("CustomFieldAdded", CustomFieldAddedPayload),
    EventContract("CustomFieldRenamed", LabelPayload),
    EventContract("CustomFieldRemoved", CustomFieldRemovedPayload),
    EventContract("OptionListStarted", OptionListStartedPayload),
    EventContract("OptionAdded", OptionPayload),
    EventContract("OptionRenamed", OptionPayload),
    EventContract("OptionsReordered", OptionsReorderedPayload),
    EventContract("OptionRemoved", OptionRemovedPayload),
    EventContract("DefaultPhoneRegionSet", DefaultPhoneRegionSetPayload),
    EventContract("NoteAdded", NotePayload),
    EventContract("NoteEdited", NotePayload),
    EventContract("NoteMoved", NoteMovedPayload),
    EventContract("NoteDeleted", ContactItemDeletedPayload),
    EventContract("AttachmentAdded", AttachmentPayload),
    EventContract("AttachmentMoved", AttachmentMovedPayload),
    EventContract("AttachmentDeleted", ContactItemDeletedPayload),
    EventContract("MessageQueued", MessagePayload),
    EventContract("MessageSent", MessagePayload),
    EventContract("MessageFailed", MessagePayload),
    EventContract("ItemsFiled", ItemsFiledPayload),
    EventContract("HoldingsHandedOver", HoldingsHandedOverPayload),
    EventContract("SavedViewCreated", SavedViewPayload),
    EventContract("SavedViewChanged", SavedViewPayload),
    EventContract("SavedViewDeleted", NoPayload),
    *PRIVACY_REPLY_CONTRACTS,  # contacts' answers to the privacy service's requests (privacy_participation.py)
))


# What another service decodes of a contact's life (EventCodec(CONTACT_LIFECYCLE_CLASSES, cipher)): the contact's
# state after each change, its deletion (merged or not) and its erasure. Opening `personal` needs the key vault;
# only the personal fields named here land in `details`, the others are dropped as they are opened.
CONTACT_SUBJECT = "contact:{contact_id}"
CONTACT_AGGREGATE_TYPE = "Contact"


class ContactLifecycleEvent(DomainEvent):
    personal_fields = tuple(f"details.{name}" for name in (
        "first_name", "last_name", "company", "vat_number", "info_email", "emails", "addresses"))
    data_subject = CONTACT_SUBJECT


@dataclass(frozen=True)
class ContactCreated(ContactLifecycleEvent):
    contact_id: str
    account_id: str
    details: dict
    created_at: str = ""


@dataclass(frozen=True)
class ContactUpdated(ContactCreated):
    changed: list = field(default_factory=list)


@dataclass(frozen=True)
class LabelAssigned(ContactCreated):
    label_key: str = ""


@dataclass(frozen=True)
class LabelUnassigned(ContactCreated):
    label_key: str = ""


@dataclass(frozen=True)
class ContactsMerged(ContactCreated):
    """The sources are deleted (ContactDeleted.merged_into): what pointed at them now points here."""

    source_ids: list = field(default_factory=list)


@dataclass(frozen=True)
class ContactDeleted(ContactLifecycleEvent):
    contact_id: str
    account_id: str
    merged_into: str | None = None


@dataclass(frozen=True)
class ContactErased(ContactLifecycleEvent):
    """The person was erased: drop whatever you kept of this contact."""

    contact_id: str
    account_id: str


CONTACT_STATE_CLASSES = (ContactCreated, ContactUpdated, LabelAssigned, LabelUnassigned, ContactsMerged)
CONTACT_LIFECYCLE_CLASSES = (*CONTACT_STATE_CLASSES, ContactDeleted, ContactErased)


# What a consumer that keeps no personal data decodes (workflows): that a contact exists, was merged, deleted or
# erased. These name no personal field, so decoding them never opens `personal` and needs no key: it works for
# an erased contact's old events too. Each is the published event type of the same name without "Fact".
class ContactFact(DomainEvent):
    aggregate_id_field = "contact_id"

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__.removesuffix("Fact")


@dataclass(frozen=True)
class ContactCreatedFact(ContactFact):
    contact_id: str
    account_id: str


@dataclass(frozen=True)
class ContactsMergedFact(ContactFact):
    """`source_ids` were merged into `contact_id`, which survives; the sources are deleted."""

    contact_id: str
    account_id: str
    source_ids: list = field(default_factory=list)  # as ContactsMerged: read the same way by every consumer


@dataclass(frozen=True)
class ContactDeletedFact(ContactFact):
    contact_id: str
    account_id: str
    merged_into: str | None = None  # set when it was merged into that contact


@dataclass(frozen=True)
class ContactErasedFact(ContactFact):
    contact_id: str
    account_id: str


CONTACT_FACT_CLASSES = (ContactCreatedFact, ContactsMergedFact, ContactDeletedFact, ContactErasedFact)
