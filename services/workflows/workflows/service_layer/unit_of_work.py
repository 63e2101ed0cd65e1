"""The workflows service's unit of work: its aggregate types, listed once."""
from __future__ import annotations

from crm_platform.repository import Repository
from crm_platform.unit_of_work import UnitOfWork as KernelUnitOfWork

from workflows.domain.boards import Board
from workflows.domain.cards import Card


class UnitOfWork(KernelUnitOfWork):
    aggregates = {"boards": Board, "cards": Card}
    boards: Repository[Board]
    cards: Repository[Card]
