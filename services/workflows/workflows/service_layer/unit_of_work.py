"""The workflows service's unit of work: its aggregate types, listed once."""
from __future__ import annotations

from crm_platform.aggregates import Aggregate
from crm_platform.event_store import EventStore
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.repository import Repository
from crm_platform.unit_of_work import UnitOfWork as KernelUnitOfWork

from workflows.domain.boards import Board
from workflows.domain.cards import Card
from workflows.domain.tasks import Task
from workflows.domain.workflow_settings import WorkflowSettings


class UnitOfWork(KernelUnitOfWork):
    aggregates = {"boards": Board, "cards": Card, "tasks": Task, "settings": WorkflowSettings}
    boards: Repository[Board]
    cards: Repository[Card]
    tasks: Repository[Task]
    settings: Repository[WorkflowSettings]

    def __init__(self, store: EventStore, cipher: PersonalDataCipher | None = None) -> None:
        super().__init__(store, cipher)
        self.cipher = cipher  # erasure shreds keys


def save_in_order(repository: Repository, aggregate_ids: list[str]) -> None:
    """Have the commit save these tracked aggregates last, in this order (each is its own commit, so the order
    decides what a failure part way leaves)."""
    tracked: dict[str, Aggregate] = repository.seen
    for aggregate_id in aggregate_ids:
        if aggregate_id in tracked:
            tracked[aggregate_id] = tracked.pop(aggregate_id)
