"""One handler per command: load, ask the domain, commit."""
from __future__ import annotations

from contacts.domain import commands
from contacts.domain.model import Contact
from contacts.service_layer.unit_of_work import UnitOfWork


def create_contact(cmd: commands.CreateContact, uow: UnitOfWork) -> Contact:
    with uow:
        contact = Contact.create(cmd.account_id, cmd.details, phone_region=cmd.phone_region)
        uow.contacts.add(contact)
        uow.commit()
    return contact


def update_contact(cmd: commands.UpdateContact, uow: UnitOfWork) -> Contact:
    with uow:
        contact = uow.contacts.get(cmd.account_id, cmd.contact_id)
        contact.update(cmd.revision, cmd.changes, phone_region=cmd.phone_region)
        uow.commit()
    return contact


def delete_contact(cmd: commands.DeleteContact, uow: UnitOfWork) -> None:
    with uow:
        contact = uow.contacts.get(cmd.account_id, cmd.contact_id)
        contact.delete(cmd.revision)
        uow.commit()
