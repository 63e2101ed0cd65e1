"""What a contact's merge, deletion or erasure does to the tasks about them (called from contact_reactions)."""
from __future__ import annotations

from crm_platform.personal_data import SubjectErased
from crm_platform.unit_of_work import retried

from workflows.domain.cards import CARD_SUBJECT
from workflows.service_layer.ports import TasksIndex
from workflows.service_layer.unit_of_work import UnitOfWork

RELINK_ATTEMPTS = 5


def relink_tasks(account_id: str, gone_id: str, survivor_id: str | None, uow: UnitOfWork, tasks: TasksIndex,
                 erased: bool = False) -> set[str]:
    """Tasks about `gone_id` now about `survivor_id` (merged), or about nobody (deleted, erased: a task linked to
    the contact loses the link; one linked to a card keeps it). Erased: their title and notes are blanked first,
    under the contact's key, which the caller shreds next. The ids of the tasks changed: all of them read and stepped
    in one unit of work and written with one bulk append (a commit each, no atomicity across them; one after the
    other, a person's 50 tasks were 50 commits of three statements, issue 13); one written meanwhile (its commit
    refused) is then read again and the step applied again, on its own."""
    stepped, lost = _relink_in_bulk(account_id, tasks.of_contact(account_id, gone_id), gone_id, survivor_id, uow,
                                    erased)
    changed = {task_id for task_id in stepped if task_id not in lost}
    for task_id in lost:
        if retried(lambda: _relink_task(account_id, task_id, gone_id, survivor_id, uow, erased), RELINK_ATTEMPTS):
            changed.add(task_id)
    return changed


def _relink_in_bulk(account_id: str, task_ids: list[str], gone_id: str, survivor_id: str | None, uow: UnitOfWork,
                    erased: bool) -> tuple[list[str], list[str]]:
    """(The tasks stepped, those of them whose write lost a race or could not be sealed: to do one by one.)"""
    stepped = []
    # a task about the contact is sealed under the contact's workflows key (task_events): read once, not per task
    with uow, uow.cipher.keys_ready([CARD_SUBJECT.format(contact_id=gone_id)]):
        for task_id, task in uow.tasks.find_each(account_id, list(task_ids)).items():  # one bulk read
            if _step(task, gone_id, survivor_id, erased):
                stepped.append(task_id)
        try:
            return stepped, uow.commit_in_bulk()
        except SubjectErased:  # a key shredded meanwhile (the other erasure path): nothing stored, each on its own
            return stepped, stepped


def _relink_task(account_id: str, task_id: str, gone_id: str, survivor_id: str | None, uow: UnitOfWork,
                 erased: bool) -> bool:
    with uow:
        task = uow.tasks.find(account_id, task_id)
        if task is None or not _step(task, gone_id, survivor_id, erased):
            return False
        try:
            uow.commit()
        except SubjectErased:  # the contact's key was shredded meanwhile (the other erasure path)
            return False
        return True


def _step(task, gone_id: str, survivor_id: str | None, erased: bool) -> bool:
    """Whether the task had events to write: none if erased already, or the read model lagged behind a relink."""
    if task.state is None or task.contact_id != gone_id:
        return False
    if erased:
        task.erase_personal_data()
    task.relink_contact(survivor_id)
    return bool(task.pending)
