"""Where a card goes within a stage: a key between its neighbours, or new keys for a few of them when keys grew long.

The neighbours a caller names (`after`, `before`) are read from their aggregates;
the other side of the gap from the cards read model (CardsIndex). When the key
would pass MAX_KEY_LENGTH, only a window of neighbours around the gap is
respaced (issue 12: reordering never rewrites a whole column): at most
MAX_CARDS_RESPACED cards, whatever the length of the column; the window widens
only when its own bounds leave no room (cards sharing a key, or keys long all
over the column), and covers the column only in that case.
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.errors import InvalidInput

from workflows.domain.cards import OPEN, Card
from workflows.domain.positions import MAX_KEY_LENGTH, key_between, keys_between, spaced_keys
from workflows.service_layer.ports import CardsIndex
from workflows.service_layer.unit_of_work import UnitOfWork, save_in_order


@dataclass(frozen=True)
class Spot:
    """A place in a stage: after and/or before these cards (ids); neither is the end."""

    stage_id: str
    after: str | None = None
    before: str | None = None


MAX_CARDS_RESPACED = 16  # cards given new keys around the gap, besides the one that moves (half on each side)


def place(card: Card, spot: Spot, now: str, uow: UnitOfWork, cards: CardsIndex) -> bool:
    """Move `card` to `spot`; writes that card alone, or it and a few neighbours when keys grew long (True)."""
    lower, upper = _gap(card, spot, uow, cards)
    if lower is None or upper is None or lower < upper:
        key = key_between(lower, upper)
        if len(key) <= MAX_KEY_LENGTH:
            card.move(spot.stage_id, key, now)
            return False
    _respace(card, spot, now, uow, cards)  # keys too long, or neighbours sharing a key
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
        return after.position, cards.position_after(card.account_id, spot.stage_id, after.position, after.id, card.id)
    if before is not None:
        return (cards.position_before(card.account_id, spot.stage_id, before.position, before.id, card.id),
                before.position)
    return cards.last_position(card.account_id, spot.stage_id, excluding=card.id), None


def _neighbour(card: Card, neighbour_id: str | None, stage_id: str, field: str, uow: UnitOfWork) -> Card | None:
    if neighbour_id is None:
        return None
    neighbour = uow.cards.find(card.account_id, neighbour_id) if neighbour_id != card.id else None
    if neighbour is None or neighbour.status != OPEN or neighbour.stage_id != stage_id:
        raise InvalidInput(f"{field} must be another open card of that stage",
                           errors={field: ["not another open card of the stage"]})
    return neighbour


def _respace(card: Card, spot: Spot, now: str, uow: UnitOfWork, cards: CardsIndex) -> None:
    """Give `card` and the cards nearest its spot short, evenly spaced keys between the two cards around them."""
    order = [card_id for card_id in cards.ordered_ids(card.account_id, spot.stage_id) if card_id != card.id]
    if spot.after in order:
        order.insert(order.index(spot.after) + 1, card.id)
    elif spot.before in order:
        order.insert(order.index(spot.before), card.id)
    else:
        order.append(card.id)
    stage = _OpenCards(card.account_id, spot.stage_id, uow)
    at, half = order.index(card.id), MAX_CARDS_RESPACED // 2
    while True:
        first, last = max(0, at - half), min(len(order), at + half + 1)
        lower = stage.position(order[first - 1]) if first > 0 else None
        upper = stage.position(order[last]) if last < len(order) else None
        # a bound that left the stage (the read model lags) is no end of the stage: widen past it
        known = (first == 0 or lower is not None) and (last == len(order) or upper is not None)
        if known and (lower is None or upper is None or lower < upper):
            keys = spaced_keys(lower, upper, last - first)
            if max(map(len, keys)) <= MAX_KEY_LENGTH or (first, last) == (0, len(order)):
                break
        half *= 2  # no room between this window's bounds: a wider one (rare: dense or tied keys, lag)
    moves = [(card_id, key) for card_id, key in zip(order[first:last], keys) if card_id != card.id]
    written = []
    for card_id, key in _in_a_safe_order(moves, stage):
        stage.loaded[card_id].reposition(key)
        written.append(card_id)
    card.move(spot.stage_id, keys[at - first], now)
    save_in_order(uow.cards, [*written, card.id])


def keys_at_the_end(account_id: str, stage_id: str, count: int, uow: UnitOfWork, cards: CardsIndex) -> list[str]:
    """`count` keys after the stage's last card (a block of cards moved there), within MAX_KEY_LENGTH: when the
    keys at that end are too long, the stage's last cards (MAX_CARDS_RESPACED, more only if they are packed too
    densely) get new keys too, saved before the cards the caller moves next."""
    order = cards.ordered_ids(account_id, stage_id)
    stage = _OpenCards(account_id, stage_id, uow)
    last = (stage.position(order[-1]) or cards.last_position(account_id, stage_id)) if order else None
    keys = keys_between(last, None, count)
    if not keys or max(map(len, keys)) <= MAX_KEY_LENGTH:
        return keys
    tail = MAX_CARDS_RESPACED
    while True:
        first = max(0, len(order) - tail)
        lower = stage.position(order[first - 1]) if first > 0 else None
        if first == 0 or lower is not None:
            keys = spaced_keys(lower, None, len(order) - first + count)
            if max(map(len, keys)) <= MAX_KEY_LENGTH or first == 0:
                break
        tail *= 2
    written = []
    for card_id, key in _in_a_safe_order(list(zip(order[first:], keys)), stage):
        stage.loaded[card_id].reposition(key)
        written.append(card_id)
    save_in_order(uow.cards, written)
    return keys[len(order) - first:]


class _OpenCards:
    """The stage's cards as their aggregates hold them (the read model may lag), each loaded once."""

    def __init__(self, account_id: str, stage_id: str, uow: UnitOfWork) -> None:
        self._account_id, self._stage_id, self._uow = account_id, stage_id, uow
        self.loaded: dict[str, Card] = {}

    def position(self, card_id: str) -> str | None:
        """Its key; None if it is no longer an open card of the stage."""
        if card_id not in self.loaded:
            found = self._uow.cards.find(self._account_id, card_id)
            if found is None or found.status != OPEN or found.stage_id != self._stage_id:
                return None
            self.loaded[card_id] = found
        return self.loaded[card_id].position


def _in_a_safe_order(moves: list[tuple[str, str]], stage: _OpenCards) -> list[tuple[str, str]]:
    """The window's new keys in an order that keeps the stage in order after any of them: cards whose key goes
    down first to last, then those whose key goes up last to first (each lands between neighbours already on
    their new keys, or still on old keys on the side it leaves). A save failing part way leaves a valid order."""
    current = {card_id: stage.position(card_id) for card_id, _ in moves}
    live = [(card_id, key) for card_id, key in moves if current[card_id] is not None]
    down = [(card_id, key) for card_id, key in live if key < current[card_id]]
    up = [(card_id, key) for card_id, key in reversed(live) if key > current[card_id]]
    return down + up
