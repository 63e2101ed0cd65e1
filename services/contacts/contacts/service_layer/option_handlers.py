"""Handlers of the option list commands, and the clean-up after an option is removed."""
from __future__ import annotations

from typing import Callable

from contacts.domain import commands
from contacts.domain.option_lists import CONTACT_FIELD, OptionList, OptionRemoved, option_list_id
from contacts.service_layer.handlers import change_each
from contacts.service_layer.unit_of_work import UnitOfWork

ContactsUsingOption = Callable[[str, str, str], list[str]]  # (account id, contact field, key) -> contact ids


def add_option(cmd: commands.AddOption, uow: UnitOfWork) -> tuple[OptionList, str]:
    with uow:
        option_list = uow.option_lists.find_or_blank(cmd.account_id, option_list_id(cmd.account_id, cmd.kind))
        key = option_list.add(cmd.name, cmd.key)
        uow.commit()
    return option_list, key


def rename_option(cmd: commands.RenameOption, uow: UnitOfWork) -> OptionList:
    with uow:
        option_list = uow.option_lists.find_or_blank(cmd.account_id, option_list_id(cmd.account_id, cmd.kind))
        option_list.rename(cmd.key, cmd.name)
        uow.commit()
    return option_list


def reorder_options(cmd: commands.ReorderOptions, uow: UnitOfWork) -> OptionList:
    with uow:
        option_list = uow.option_lists.find_or_blank(cmd.account_id, option_list_id(cmd.account_id, cmd.kind))
        option_list.reorder(cmd.keys)
        uow.commit()
    return option_list


def remove_option(cmd: commands.RemoveOption, uow: UnitOfWork) -> None:
    """Remove the option; the worker then takes it off every contact (OptionRemoved -> remove_option)."""
    with uow:
        uow.option_lists.find_or_blank(cmd.account_id, option_list_id(cmd.account_id, cmd.kind)).remove(cmd.key)
        uow.commit()


def take_removed_option_off_contacts(event: OptionRemoved, uow: UnitOfWork, contacts_using: ContactsUsingOption) -> int:
    """On OptionRemoved: forget the option on every contact given it under the generation the removal ended
    (or before); return how many changed.

    A contact given the option after it was added again keeps it, and a contact without it records nothing,
    so a late, repeated or replayed clean-up is harmless.
    """
    account, key, field = event.account_id, event.key, CONTACT_FIELD[event.kind]
    ended = event.generation or 0  # None: stored before generations were recorded
    return change_each(uow, account, contacts_using(account, field, key),
                       lambda contact: contact.remove_option(field, key, ended))
