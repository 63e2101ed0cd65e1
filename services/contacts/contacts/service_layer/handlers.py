"""One handler per command: load, ask the domain, commit."""
from __future__ import annotations

from typing import Callable

from crm_platform.event_store import ConcurrencyConflict

from contacts.domain import commands
from contacts.domain.model import Contact
from contacts.service_layer.unit_of_work import UnitOfWork


def create_contact(cmd: commands.CreateContact, uow: UnitOfWork) -> Contact:
    with uow:
        types = uow.custom_fields.get(cmd.account_id).types
        contact = Contact.create(cmd.account_id, cmd.details, phone_region=cmd.phone_region, custom_field_types=types)
        uow.contacts.add(contact)
        uow.commit()
    return contact


def update_contact(cmd: commands.UpdateContact, uow: UnitOfWork) -> Contact:
    with uow:
        contact = uow.contacts.get(cmd.account_id, cmd.contact_id)
        types = uow.custom_fields.get(cmd.account_id).types
        contact.update(cmd.revision, cmd.changes, phone_region=cmd.phone_region, custom_field_types=types)
        uow.commit()
    return contact


def delete_contact(cmd: commands.DeleteContact, uow: UnitOfWork) -> None:
    with uow:
        contact = uow.contacts.get(cmd.account_id, cmd.contact_id)
        contact.delete(cmd.revision)
        uow.commit()


def change_contact(
    uow: UnitOfWork, account_id: str, contact_id: str, change: Callable[[Contact], bool], attempts: int = 3
) -> tuple[Contact, bool]:
    """Apply a change that needs no revision from the caller; (the contact, whether it changed).

    For changes that commute (labels, clean-ups after a definition is removed):
    on a concurrent write we simply reload and apply again.
    """
    for attempt in range(attempts):
        try:
            with uow:
                contact = uow.contacts.get(account_id, contact_id)
                changed = change(contact)
                uow.commit()
            return contact, changed
        except ConcurrencyConflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
