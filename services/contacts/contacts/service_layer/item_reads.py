"""One label, note, custom field, option or saved view read from its aggregate: what a write just answered,
readable at once at its own URL (a create answers `Location`, a change `Content-Location`, and the gateway
replays a retried idempotent write by reading that URL back)."""
from __future__ import annotations

from datetime import datetime

from crm_platform.event_store import EventStore

from contacts.domain.custom_fields import CustomFieldNotFound, CustomFieldSet, field_set_id
from contacts.domain.labels import Label, label_id
from contacts.domain.notes import Note
from contacts.domain.option_lists import OptionList, OptionNotFound, option_list_id
from contacts.domain.saved_views import SavedView
from contacts.service_layer.note_handlers import note_of
from contacts.service_layer.unit_of_work import UnitOfWork


def label(uow: UnitOfWork, account_id: str, key: str) -> Label:
    with uow:
        return uow.labels.get(account_id, label_id(account_id, key))


def note(uow: UnitOfWork, account_id: str, contact_id: str, note_id: str) -> Note:
    """A live note of a live contact (a deleted contact's notes are not shown, as its list of notes is not)."""
    with uow:
        uow.contacts.get(account_id, contact_id)
        return note_of(uow, account_id, contact_id, note_id)


def last_changed_at(store: EventStore, aggregate_id: str) -> datetime | None:
    """When the aggregate's latest event happened (what a read model's `updated_at` holds)."""
    history = store.load(aggregate_id)
    return history[-1].occurred_at if history else None


def saved_view(uow: UnitOfWork, account_id: str, view_id: str) -> SavedView:
    with uow:
        return uow.saved_views.get(account_id, view_id)


def custom_field(uow: UnitOfWork, account_id: str, key: str) -> CustomFieldSet:
    """The account's field set, which holds a live field `key` (CustomFieldNotFound otherwise)."""
    with uow:
        field_set = uow.custom_fields.find_or_blank(account_id, field_set_id(account_id))
    if key not in field_set.fields:
        raise CustomFieldNotFound(key)
    return field_set


def option(uow: UnitOfWork, account_id: str, kind: str, key: str) -> dict:
    """The live option `key` of the account's `kind` list (OptionNotFound otherwise)."""
    with uow:
        option_list: OptionList = uow.option_lists.find_or_blank(account_id, option_list_id(account_id, kind))
    found = next((o for o in option_list.as_list() if o["key"] == key), None)
    if found is None:
        raise OptionNotFound(kind, key)
    return found
