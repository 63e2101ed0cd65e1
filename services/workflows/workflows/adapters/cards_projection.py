"""The read model of cards (`cards`): one document per card, its whole state (title opened) at its version.

An event sealed under a shredded key (its main contact erased) is read with its
personal fields blank: the rest of the card stays in the read model, and
neither the consumer nor `rebuild-projection` stops on it.
"""
from __future__ import annotations

from dataclasses import asdict

from pymongo import ASCENDING

from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import SubjectErased
from crm_platform.projections import Projection, versioned_upsert

from workflows.domain.cards import Card, CardState, CardMoved


def card_state(codec: EventCodec, envelope: EventEnvelope) -> CardState:
    """The card's state an event carries; its personal fields blank once their key was shredded."""
    try:
        return codec.from_envelope(envelope)
    except SubjectErased:
        clear = {name: envelope.payload.get(name) for name in CardState.__dataclass_fields__}
        return CardState(**{**clear, "card_id": envelope.aggregate_id, "account_id": envelope.account_id,
                            "title": "", "description": "", "lost_reason": None})


class CardsProjection(Projection):
    aggregate_type = Card.aggregate_type

    def event_of(self, envelope: EventEnvelope) -> CardState:
        return card_state(self.codec, envelope)

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("stage_id", ASCENDING), ("status", ASCENDING),
                                      ("position", ASCENDING)], name="stage_order")
        self.collection.create_index([("account_id", ASCENDING), ("board_id", ASCENDING), ("status", ASCENDING)],
                                     name="board_cards")  # a board's columns, read at once
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
