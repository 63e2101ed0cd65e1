"""Events of the contact aggregate (past tense). They carry the contact's full state after the change,
so that a consumer can build its view from the latest event alone, in any order."""
from __future__ import annotations

from dataclasses import dataclass, field

from crm_platform.aggregates import DomainEvent

# Every field of a contact can identify its person, so all of them are sealed with the contact's key
# (`labels`, `function` and `department` are keys of the account's lists, not personal: they travel in clear).
PERSONAL_FIELDS = (
    "first_name", "last_name", "company", "job_title", "code", "vat_number", "info_email",
    "websites", "emails", "phones", "addresses", "custom_fields",
)


# The key a contact's personal data is sealed (and shredded) under; its notes and files use it too.
CONTACT_SUBJECT = "contact:{contact_id}"


def data_subject(contact_id: str) -> str:
    """The key name under which a contact's personal data is encrypted (and shredded)."""
    return CONTACT_SUBJECT.format(contact_id=contact_id)


class ContactEvent(DomainEvent):
    """Events of the contact aggregate; `details` holds the contact's state after the change, `generations`
    the generation each of its labels, custom values and options was given under (generations.py)."""

    # generations name the contact's address countries: sealed too
    personal_fields = (*(f"details.{name}" for name in PERSONAL_FIELDS), "generations")
    data_subject = CONTACT_SUBJECT


@dataclass(frozen=True)
class ContactCreated(ContactEvent):
    contact_id: str
    account_id: str
    details: dict
    created_at: str
    generations: dict | None = None  # None in events stored before generations were recorded


@dataclass(frozen=True)
class ContactUpdated(ContactEvent):
    contact_id: str
    account_id: str
    details: dict
    changed: list[str] = field(default_factory=list)
    created_at: str = ""
    generations: dict | None = None  # None in events stored before generations were recorded


@dataclass(frozen=True)
class LabelAssigned(ContactEvent):
    contact_id: str
    account_id: str
    label_key: str
    details: dict
    created_at: str = ""
    generations: dict | None = None  # None in events stored before generations were recorded


@dataclass(frozen=True)
class LabelUnassigned(ContactEvent):
    contact_id: str
    account_id: str
    label_key: str
    details: dict
    created_at: str = ""
    generations: dict | None = None  # None in events stored before generations were recorded


@dataclass(frozen=True)
class ContactsMerged(ContactEvent):
    """The sources' emails, phones, addresses, websites, labels and custom values now live on this contact;
    the sources are deleted (`ContactDeleted.merged_into`). Other services re-point source ids to this one."""

    contact_id: str
    account_id: str
    source_ids: list
    details: dict
    created_at: str = ""
    generations: dict | None = None  # None in events stored before generations were recorded
    # each source's revision whose details were taken in (same order as source_ids); None in older events
    source_revisions: list | None = None


@dataclass(frozen=True)
class ContactDeleted(ContactEvent):
    contact_id: str
    account_id: str
    merged_into: str | None = None  # set when the contact was merged into another one


@dataclass(frozen=True)
class ContactErased(ContactEvent):
    """The person was erased: the contact is gone for good, its key (`contact:<id>`) is shredded, and every
    consumer drops what it kept of it, its notes and files. Carries no personal data."""

    contact_id: str
    account_id: str


# Events after which the contact exists, carrying its whole state in `details`.
STATEFUL_EVENTS = (ContactCreated, ContactUpdated, LabelAssigned, LabelUnassigned, ContactsMerged)
CONTACT_EVENTS = (*STATEFUL_EVENTS, ContactDeleted, ContactErased)
