"""Handlers of the label commands: one per command, like handlers.py."""
from __future__ import annotations

from typing import Callable

from crm_platform.contracts.accounts import AccountCreated
from crm_platform.errors import InvalidInput
from crm_platform.event_store import ConcurrencyConflict
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from contacts.domain import commands
from contacts.domain.labels import (
    Label,
    LabelDeleted,
    LabelKeyTaken,
    clean_name,
    key_from_name,
    label_id,
    label_order_id,
)
from contacts.domain.model import Contact
from contacts.service_layer.handlers import change_contact, change_each
from contacts.service_layer.unit_of_work import UnitOfWork

FindLabelByName = Callable[[str, str], str | None]  # (account id, name) -> key of a live label
ContactsWith = Callable[[str, str], list[str]]  # (account id, key) -> ids of the contacts that have it
BULK_LABEL_JOB = "bulk-labels"
MAX_KEY_SUFFIX = 50


def create_label(cmd: commands.CreateLabel, uow: UnitOfWork) -> Label:
    return _create(uow, cmd.account_id, cmd.name, cmd.key)


def find_or_create_label(cmd: commands.FindOrCreateLabel, uow: UnitOfWork, find_by_name: FindLabelByName) -> Label:
    """The live label with this name (any case), or a new one; a taken key gets a -2, -3... suffix."""
    name = clean_name(cmd.name)
    if (key := find_by_name(cmd.account_id, name)) is not None:
        with uow:
            label = uow.labels.find(cmd.account_id, label_id(cmd.account_id, key))
        if label is not None and not label.deleted:
            return label
    base = key_from_name(name)
    for attempt in range(1, MAX_KEY_SUFFIX + 1):
        try:
            return _create(uow, cmd.account_id, name, base if attempt == 1 else f"{base}-{attempt}")
        except (LabelKeyTaken, ConcurrencyConflict):
            continue
    raise LabelKeyTaken(base)


def rename_label(cmd: commands.RenameLabel, uow: UnitOfWork) -> Label:
    with uow:
        label = _live(uow, cmd.account_id, cmd.key)
        label.rename(cmd.name)
        uow.commit()
    return label


def delete_label(cmd: commands.DeleteLabel, uow: UnitOfWork) -> None:
    """Delete the label; the worker then takes it off every contact (LabelDeleted -> UnassignLabel)."""
    with uow:
        _live(uow, cmd.account_id, cmd.key).delete()
        uow.commit()


def assign_label(cmd: commands.AssignLabel, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Contact:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    def change(contact: Contact) -> bool:
        label = _live(uow, cmd.account_id, cmd.key)  # contacts may only carry labels that exist
        return contact.assign_label(cmd.key, label.generation)

    return change_contact(uow, cmd.account_id, cmd.contact_id, change)[0]


def unassign_label(cmd: commands.UnassignLabel, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Contact:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    return change_contact(uow, cmd.account_id, cmd.contact_id, lambda contact: contact.unassign_label(cmd.key))[0]


def reorder_labels(cmd: commands.ReorderLabels, uow: UnitOfWork) -> list[str]:
    """Set the order labels (categories) are listed in; every key must be a live label."""
    with uow:
        missing = [key for key in cmd.keys
                   if (label := uow.labels.find(cmd.account_id, label_id(cmd.account_id, key))) is None or label.gone]
        if missing:
            raise InvalidInput("unknown labels", errors={"keys": [f"no such label: {', '.join(missing)}"]})
        order = uow.label_order.find_or_blank(cmd.account_id, label_order_id(cmd.account_id))
        order.reorder(cmd.keys)
        uow.commit()
    return order.keys


def _live(uow: UnitOfWork, account_id: str, key: str) -> Label:
    return uow.labels.get(account_id, label_id(account_id, key))


def _create(uow: UnitOfWork, account_id: str, name: str, key: str | None = None) -> Label:
    """A new label, or a deleted one's key brought back, committed; LabelKeyTaken if that key is live."""
    with uow:
        label = _new_or_revived(uow, account_id, name, key)
        uow.commit()
    return label


def _new_or_revived(uow: UnitOfWork, account_id: str, name: str, key: str | None) -> Label:
    candidate = Label.create(account_id, name, key)  # validates the name and key
    existing = uow.labels.find(account_id, candidate.id)
    if existing is None:
        uow.labels.add(candidate)
        return candidate
    existing.recreate(name)  # LabelKeyTaken unless it was deleted
    return existing


def remove_deleted_label(event: LabelDeleted, uow: UnitOfWork, contacts_with_label: ContactsWith) -> int:
    """On LabelDeleted: take the label off every contact given it under the generation the deletion ended
    (or before); return how many changed.

    A contact given the label after its key was created again keeps it, so the clean-up may run late, twice
    or on a replay of the log: it changes nothing it should not (and nothing at all the second time).
    """
    key, account, ended = event.key, event.account_id, event.generation or 0  # None: stored before generations
    return change_each(uow, account, contacts_with_label(account, key),
                       lambda contact: contact.unassign_label(key, ended))


def label_generations(uow: UnitOfWork, account_id: str, keys: list[str]) -> dict[str, int]:
    """The current generation of each of these labels (what a contact given them now is given)."""
    with uow:
        found = {key: uow.labels.find(account_id, label_id(account_id, key)) for key in dict.fromkeys(keys)}
    return {key: label.generation if label is not None else 0 for key, label in found.items()}


def give_new_account_its_labels(event: AccountCreated, uow: UnitOfWork, default_labels: tuple[str, ...]) -> int:
    """On AccountCreated: create the default labels; return how many were created.

    A label whose key ever existed is left alone, so re-delivery neither
    duplicates nor revives a label the account has deleted since.
    """
    created = 0
    for name in default_labels:
        with uow:
            if uow.labels.find(event.account_id, label_id(event.account_id, key_from_name(name))) is not None:
                continue
        try:
            _create(uow, event.account_id, name)
            created += 1
        except (LabelKeyTaken, ConcurrencyConflict):
            continue  # created meanwhile by another delivery
    return created


def require_live_label(account_id: str, key: str, uow: UnitOfWork) -> None:
    """LabelNotFound unless the label exists in the account (checked before a bulk job is queued)."""
    with uow:
        _live(uow, account_id, key)


def bulk_label_command(job: dict, contact_id: str) -> commands.AssignLabel | commands.UnassignLabel:
    """What one contact of a bulk label job asks; idempotent, so a resumed job may safely redo it."""
    key, action = job["params"]["key"], job["params"]["action"]
    if action == "assign":
        return commands.AssignLabel(job["account_id"], contact_id, key)
    return commands.UnassignLabel(job["account_id"], contact_id, key)
