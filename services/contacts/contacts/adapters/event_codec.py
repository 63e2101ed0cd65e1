"""Translation between contact domain events and platform envelopes, sealing personal fields."""
from __future__ import annotations

from crm_platform.envelope import EventEnvelope, new_envelope
from crm_platform.personal_data import PersonalDataCipher

from contacts.domain.events import (
    PERSONAL_FIELDS,
    STATEFUL_EVENTS,
    ContactCreated,
    ContactDeleted,
    ContactEvent,
    ContactsMerged,
    ContactUpdated,
    LabelAssigned,
    LabelUnassigned,
)

AGGREGATE_TYPE = "Contact"


def data_subject(contact_id: str) -> str:
    """The key name under which a contact's personal data is encrypted (and shredded)."""
    return f"contact:{contact_id}"


def to_envelope(event: ContactEvent, version: int, cipher: PersonalDataCipher) -> EventEnvelope:
    payload: dict = {"contact_id": event.contact_id}
    if isinstance(event, STATEFUL_EVENTS):
        personal = {k: v for k, v in event.details.items() if k in PERSONAL_FIELDS}
        other = {k: v for k, v in event.details.items() if k not in PERSONAL_FIELDS}
        payload.update(details=other, personal=cipher.seal(data_subject(event.contact_id), personal))
        payload["created_at"] = event.created_at
    if isinstance(event, ContactUpdated):
        payload["changed"] = list(event.changed)
    if isinstance(event, (LabelAssigned, LabelUnassigned)):
        payload["label_key"] = event.label_key
    if isinstance(event, ContactsMerged):
        payload["source_ids"] = list(event.source_ids)
    if isinstance(event, ContactDeleted) and event.merged_into:
        payload["merged_into"] = event.merged_into
    return new_envelope(
        event_type=type(event).__name__,
        aggregate_type=AGGREGATE_TYPE,
        aggregate_id=event.contact_id,
        aggregate_version=version,
        account_id=event.account_id,
        payload=payload,
    )


def from_envelope(envelope: EventEnvelope, cipher: PersonalDataCipher) -> ContactEvent:
    """The domain event; raises SubjectErased if the contact's personal data was shredded."""
    p = envelope.payload
    if envelope.event_type == "ContactDeleted":
        return ContactDeleted(p["contact_id"], envelope.account_id, p.get("merged_into"))
    details = {**p.get("details", {}), **cipher.open(p["personal"])}
    if envelope.event_type == "ContactCreated":
        return ContactCreated(p["contact_id"], envelope.account_id, details, p["created_at"])
    if envelope.event_type == "ContactUpdated":
        return ContactUpdated(p["contact_id"], envelope.account_id, details, list(p.get("changed", [])), p["created_at"])
    if envelope.event_type == "ContactsMerged":
        return ContactsMerged(p["contact_id"], envelope.account_id, list(p["source_ids"]), details, p["created_at"])
    if envelope.event_type in ("LabelAssigned", "LabelUnassigned"):
        kind = LabelAssigned if envelope.event_type == "LabelAssigned" else LabelUnassigned
        return kind(p["contact_id"], envelope.account_id, p["label_key"], details, p["created_at"])
    raise ValueError(f"unknown contact event type {envelope.event_type!r}")
