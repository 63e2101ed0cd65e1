"""Events of the contact aggregate (past tense). They carry the contact's full state after the change,
so that a consumer can build its view from the latest event alone, in any order."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ContactCreated:
    contact_id: str
    account_id: str
    details: dict
    created_at: str


@dataclass(frozen=True)
class ContactUpdated:
    contact_id: str
    account_id: str
    details: dict
    changed: list[str] = field(default_factory=list)
    created_at: str = ""


@dataclass(frozen=True)
class LabelAssigned:
    contact_id: str
    account_id: str
    label_key: str
    details: dict
    created_at: str = ""


@dataclass(frozen=True)
class LabelUnassigned:
    contact_id: str
    account_id: str
    label_key: str
    details: dict
    created_at: str = ""


@dataclass(frozen=True)
class ContactsMerged:
    """The sources' emails, phones, addresses, websites, labels and custom values now live on this contact;
    the sources are deleted (`ContactDeleted.merged_into`). Other services re-point source ids to this one."""

    contact_id: str
    account_id: str
    source_ids: list
    details: dict
    created_at: str = ""


@dataclass(frozen=True)
class ContactDeleted:
    contact_id: str
    account_id: str
    merged_into: str | None = None  # set when the contact was merged into another one


ContactEvent = ContactCreated | ContactUpdated | LabelAssigned | LabelUnassigned | ContactsMerged | ContactDeleted
# Events after which the contact exists, carrying its whole state in `details`.
STATEFUL_EVENTS = (ContactCreated, ContactUpdated, LabelAssigned, LabelUnassigned, ContactsMerged)

# `details` also holds `labels` (label keys): not personal, so it travels in clear.
# Fields of `details` that identify a person: they travel sealed with the contact's key.
# Every field of a contact can identify its person, so all of them are sealed.
PERSONAL_FIELDS = (
    "first_name", "last_name", "company", "job_title", "code", "vat_number", "info_email",
    "websites", "emails", "phones", "addresses", "custom_fields",
)
