"""Handlers of task commands and of the account's workflows settings."""
from __future__ import annotations

from typing import Callable

from crm_platform.errors import InvalidInput
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from workflows.domain.task_commands import (ChangeWorkflowSettings, CompleteTask, CreateTask, DeleteTask, ReopenTask,
                                            RescheduleTask, UpdateTask)
from workflows.domain.tasks import Task
from workflows.domain.workflow_settings import WorkflowSettings, settings_id
from workflows.service_layer.ports import ContactsDirectory
from workflows.service_layer.unit_of_work import UnitOfWork


def account_settings(account_id: str, uow: UnitOfWork) -> WorkflowSettings:
    """The account's settings as stored (the defaults, at revision 0, when never set)."""
    with uow:
        return uow.settings.find_or_blank(account_id, settings_id(account_id))


def change_workflow_settings(cmd: ChangeWorkflowSettings, uow: UnitOfWork) -> WorkflowSettings:
    with uow:
        settings = uow.settings.find_or_blank(cmd.account_id, settings_id(cmd.account_id))
        settings.change(cmd.revision, cmd.time_zone, cmd.notification_email)
        uow.commit()
    return settings


def create_task(cmd: CreateTask, uow: UnitOfWork, contacts: ContactsDirectory, clock: Callable[[], str],
                restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Task:
    with uow:
        contact_id = _linked_contact(cmd.account_id, cmd.link_kind, cmd.link_id, uow, contacts)
        restrictions.refuse_edits(cmd.account_id, [contact_id])  # Art. 18: kept, not edited
        task = Task.create(cmd.account_id, clock(), _account_zone(cmd.account_id, uow), title=cmd.title,
                           due_at=cmd.due_at, notes=cmd.notes, time_zone=cmd.time_zone, link_kind=cmd.link_kind,
                           link_id=cmd.link_id, contact_id=contact_id, assignee=cmd.assignee,
                           reminders=cmd.reminders)
        uow.tasks.add(task)
        uow.commit()
    return task


def update_task(cmd: UpdateTask, uow: UnitOfWork, contacts: ContactsDirectory, clock: Callable[[], str],
                restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Task:
    with uow:
        task = _task_to_change(cmd, uow, restrictions)
        changes = dict(cmd.changes)
        if "link_kind" in changes:
            changes["contact_id"] = _linked_contact(cmd.account_id, changes["link_kind"], changes.get("link_id"),
                                                    uow, contacts)
            restrictions.refuse_edits(cmd.account_id, [changes["contact_id"]])  # nor is a task handed to them
        task.update(changes, _account_zone(cmd.account_id, uow), clock())
        uow.commit()
    return task


def reschedule_task(cmd: RescheduleTask, uow: UnitOfWork, clock: Callable[[], str],
                    restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Task:
    with uow:
        task = _task_to_change(cmd, uow, restrictions)
        task.reschedule(cmd.due_at, _account_zone(cmd.account_id, uow), clock(), cmd.time_zone)
        uow.commit()
    return task


def complete_task(cmd: CompleteTask, uow: UnitOfWork, clock: Callable[[], str],
                  restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Task:
    with uow:
        task = _task_to_change(cmd, uow, restrictions)
        task.complete(clock())
        uow.commit()
    return task


def reopen_task(cmd: ReopenTask, uow: UnitOfWork, clock: Callable[[], str],
                restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Task:
    with uow:
        task = _task_to_change(cmd, uow, restrictions)
        task.reopen(clock())
        uow.commit()
    return task


def delete_task(cmd: DeleteTask, uow: UnitOfWork,
                restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Task:
    with uow:
        task = _task_to_change(cmd, uow, restrictions)
        task.delete()
        uow.commit()
    return task


def _task_to_change(cmd, uow: UnitOfWork, restrictions: RestrictionCheck) -> Task:
    """The task the command names, at the revision it names; refused while the contact it is about is restricted."""
    task = uow.tasks.get(cmd.account_id, cmd.task_id)
    restrictions.refuse_edits(cmd.account_id, [task.contact_id])  # Art. 18: kept, not edited
    task.check_revision(cmd.revision)
    return task


def _account_zone(account_id: str, uow: UnitOfWork) -> str:
    return uow.settings.find_or_blank(account_id, settings_id(account_id)).time_zone


def _linked_contact(account_id: str, kind: str | None, link_id: str | None, uow: UnitOfWork,
                    contacts: ContactsDirectory) -> str | None:
    """The contact a task linked so is about (its title and notes are sealed under that contact's key); a 422
    naming the field when the contact or card is not the account's."""
    if kind == "contact":
        if contacts.unknown(account_id, [link_id]):
            raise InvalidInput("contact_id is not a contact of this account",
                               errors={"contact_id": ["no such contact in this account"]})
        return link_id
    if kind == "card":
        card = uow.cards.find(account_id, link_id)
        if card is None or card.state is None:
            raise InvalidInput("card_id is not a card of this account", errors={"card_id": ["no such card"]})
        return card.contact_id
    return None
