"""The read model of cards (`cards`): one document per card, its whole state (title opened) at its version."""
from __future__ import annotations

from dataclasses import asdict

from pymongo import ASCENDING

from crm_platform.envelope import EventEnvelope
from crm_platform.projections import Projection, versioned_upsert

from workflows.domain.cards import Card, CardState, CardMoved


class CardsProjection(Projection):
    aggregate_type = Card.aggregate_type

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("stage_id", ASCENDING), ("status", ASCENDING),
                                      ("position", ASCENDING)], name="stage_order")
        self.collection.create_index([("account_id", ASCENDING), ("contact_ids", ASCENDING)], name="contact_cards")
        self.collection.create_index([("account_id", ASCENDING), ("created_at", ASCENDING)], name="account_cards")

    def project(self, envelope: EventEnvelope, event: CardState, rebuilding: bool) -> bool:
        fields = asdict(event)
        fields.pop("card_id")
        if isinstance(event, CardMoved):
            fields.pop("from_stage_id")
        fields["contact_ids"] = [event.contact_id, *event.other_contact_ids]  # one index finds a contact's cards
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, fields,
                                replace_same_version=rebuilding)
