"""Handlers of the custom field commands, and the clean-up that follows a removal."""
from __future__ import annotations

from typing import Callable

from contacts.domain import commands
from contacts.domain.custom_fields import CustomFieldRemoved, CustomFieldSet, field_set_id
from contacts.service_layer.handlers import change_each
from contacts.service_layer.unit_of_work import UnitOfWork


def add_custom_field(cmd: commands.AddCustomField, uow: UnitOfWork) -> tuple[CustomFieldSet, str]:
    with uow:
        field_set = uow.custom_fields.find_or_blank(cmd.account_id, field_set_id(cmd.account_id))
        key = field_set.add(cmd.name, cmd.type, cmd.key)
        uow.commit()
    return field_set, key


def rename_custom_field(cmd: commands.RenameCustomField, uow: UnitOfWork) -> CustomFieldSet:
    with uow:
        field_set = uow.custom_fields.find_or_blank(cmd.account_id, field_set_id(cmd.account_id))
        field_set.rename(cmd.key, cmd.name)
        uow.commit()
    return field_set


def remove_custom_field(cmd: commands.RemoveCustomField, uow: UnitOfWork) -> None:
    """Remove the definition; the worker then drops its values from every contact."""
    with uow:
        uow.custom_fields.find_or_blank(cmd.account_id, field_set_id(cmd.account_id)).remove(cmd.key)
        uow.commit()


def remove_values_of_removed_field(event: CustomFieldRemoved, uow: UnitOfWork,
                                   contacts_with_value: Callable[[str, str], list[str]]) -> int:
    """On CustomFieldRemoved: drop the field's value from every contact given one under the generation the
    removal ended (or before); return how many changed. A value given after the field was added again stays,
    so a late, repeated or replayed clean-up is harmless."""
    key, account, ended = event.key, event.account_id, event.generation or 0  # None: stored before generations
    return change_each(uow, account, contacts_with_value(account, key),
                       lambda contact: contact.remove_custom_field_value(key, ended))
