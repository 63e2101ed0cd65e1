"""Where a card goes within a stage: a key between its neighbours, or a rebalance of the stage when keys grew long.

The neighbours a caller names (`after`, `before`) are read from their aggregates;
the other side of the gap from the cards read model (CardsIndex).
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.errors import InvalidInput

from workflows.domain.cards import OPEN, Card
from workflows.domain.positions import MAX_KEY_LENGTH, key_between, spread_keys
from workflows.service_layer.ports import CardsIndex
from workflows.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Spot:
    """A place in a stage: after and/or before these cards (ids); neither is the end."""

    stage_id: str
    after: str | None = None
    before: str | None = None


def place(card: Card, spot: Spot, now: str, uow: UnitOfWork, cards: CardsIndex) -> bool:
    """Move `card` to `spot`; writes that card alone, or every card of the stage when it rebalances (True)."""
    lower, upper = _gap(card, spot, uow, cards)
    if lower is None or upper is None or lower < upper:
        key = key_between(lower, upper)
        if len(key) <= MAX_KEY_LENGTH:
            card.move(spot.stage_id, key, now)
            return False
    _rebalance(card, spot, now, uow, cards)  # keys too long, or neighbours sharing a key
    return True


def _gap(card: Card, spot: Spot, uow: UnitOfWork, cards: CardsIndex) -> tuple[str | None, str | None]:
    after = _neighbour(card, spot.after, spot.stage_id, "after", uow)
    before = _neighbour(card, spot.before, spot.stage_id, "before", uow)
    if after is not None and before is not None:
        if after.position > before.position:
            raise InvalidInput("after must come before before in the stage",
                               errors={"before": ["comes before `after` in the stage"]})
        return after.position, before.position
    if after is not None:
        return after.position, cards.position_after(card.account_id, spot.stage_id, after.position, card.id)
    if before is not None:
        return cards.position_before(card.account_id, spot.stage_id, before.position, card.id), before.position
    return cards.last_position(card.account_id, spot.stage_id, excluding=card.id), None


def _neighbour(card: Card, neighbour_id: str | None, stage_id: str, field: str, uow: UnitOfWork) -> Card | None:
    if neighbour_id is None:
        return None
    neighbour = uow.cards.find(card.account_id, neighbour_id) if neighbour_id != card.id else None
    if neighbour is None or neighbour.status != OPEN or neighbour.stage_id != stage_id:
        raise InvalidInput(f"{field} must be another open card of that stage",
                           errors={field: ["not another open card of the stage"]})
    return neighbour


def _rebalance(card: Card, spot: Spot, now: str, uow: UnitOfWork, cards: CardsIndex) -> None:
    """Give every open card of the stage a short, evenly spaced key, in order, with `card` at its spot."""
    order = [card_id for card_id in cards.ordered_ids(card.account_id, spot.stage_id) if card_id != card.id]
    if spot.after in order:
        order.insert(order.index(spot.after) + 1, card.id)
    elif spot.before in order:
        order.insert(order.index(spot.before), card.id)
    else:
        order.append(card.id)
    for card_id, key in zip(order, spread_keys(len(order))):
        if card_id == card.id:
            card.move(spot.stage_id, key, now)
            continue
        other = uow.cards.find(card.account_id, card_id)
        if other is not None and other.status == OPEN and other.stage_id == spot.stage_id:
            other.reposition(key)
