"""What a contact's merge, deletion or erasure does to the tasks about them (called from contact_reactions)."""
from __future__ import annotations

from crm_platform.personal_data import SubjectErased
from crm_platform.unit_of_work import retried

from workflows.service_layer.ports import TasksIndex
from workflows.service_layer.unit_of_work import UnitOfWork

RELINK_ATTEMPTS = 5


def relink_tasks(account_id: str, gone_id: str, survivor_id: str | None, uow: UnitOfWork, tasks: TasksIndex,
                 erased: bool = False) -> set[str]:
    """Tasks about `gone_id` now about `survivor_id` (merged), or about nobody (deleted, erased: a task linked to
    the contact loses the link; one linked to a card keeps it). Erased: their title and notes are blanked first,
    under the contact's key, which the caller shreds next. The ids of the tasks changed; each is its own commit,
    and one written meanwhile is read again and the step applied again."""
    changed = set()
    for task_id in tasks.of_contact(account_id, gone_id):
        if retried(lambda: _relink_task(account_id, task_id, gone_id, survivor_id, uow, erased), RELINK_ATTEMPTS):
            changed.add(task_id)
    return changed


def _relink_task(account_id: str, task_id: str, gone_id: str, survivor_id: str | None, uow: UnitOfWork,
                 erased: bool) -> bool:
    with uow:
        task = uow.tasks.find(account_id, task_id)
        if task is None or task.state is None or task.contact_id != gone_id:
            return False  # erased already, or the read model lagged behind a relink
        if erased:
            task.erase_personal_data()
        task.relink_contact(survivor_id)
        if not task.pending:
            return False
        try:
            uow.commit()
        except SubjectErased:  # the contact's key was shredded meanwhile (the other erasure path)
            return False
        return True
