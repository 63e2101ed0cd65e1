"""The read model of boards (`boards`): one document per board, its whole state at the version it reflects."""
from __future__ import annotations

from pymongo import ASCENDING

from crm_platform.envelope import EventEnvelope
from crm_platform.projections import Projection, versioned_upsert

from workflows.domain.boards import Board, BoardState


class BoardsProjection(Projection):
    aggregate_type = Board.aggregate_type

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("name", ASCENDING)], name="account_boards")

    def project(self, envelope: EventEnvelope, event: BoardState, rebuilding: bool) -> bool:
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, {
            "account_id": envelope.account_id, "name": event.name, "stages": event.stages,
            "won_label": event.won_label, "lost_label": event.lost_label,
        }, replace_same_version=rebuilding)
