"""Positions of cards within a stage: fractional keys, so that a move writes only the card that moves.

A key is a string of base-36 digits (0-9, a-z) read as a fraction 0.d1d2d3...,
never ending in "0": plain string order is then numeric order (in MongoDB too,
ASCII only), and between any two keys there is always another. A key grows
about one digit per five moves into the same gap; a card added at an end takes
one step from its neighbour instead. Past MAX_KEY_LENGTH a few cards around
the gap get new keys (service_layer/placing.py), never the whole stage. Longer
keys cost nothing in order (plain string order, an indexed field), so the limit
is high: about 300 moves into one gap before that happens.
No kept Python library does this (fractional-indexing ports are unmaintained or
pull in more than these 60 lines), hence our own.
"""
from __future__ import annotations

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
MAX_KEY_LENGTH = 64


def is_key(value: str) -> bool:
    return bool(value) and value[-1] != "0" and all(c in DIGITS for c in value)


def key_between(lower: str | None, upper: str | None) -> str:
    """A key sorting strictly between `lower` and `upper` (None: the start or the end of the stage).

    Between two keys it is their midpoint. At an end it is one step from the last (or first) key at that key's
    length, not the midpoint to the end: cards are mostly added at the end, and halving the gap to the end
    each time would lengthen keys by a digit every five cards.
    """
    if lower is not None and upper is not None and lower >= upper:
        raise ValueError(f"{lower!r} is not before {upper!r}")
    if lower is not None and upper is None:
        return _step(lower, +1) or _midpoint(lower, None)
    if lower is None and upper is not None:
        return _step(upper, -1) or _midpoint("", upper)
    if lower is None:
        return spread_keys(1)[0]  # an empty stage's first card: in the middle, with room on both sides
    return _midpoint(lower, upper)


def _step(key: str, direction: int) -> str | None:
    """`key` plus or minus one unit of its last digit, at the same length (a key never ends in "0", so those
    are skipped); None when that leaves the keys (past "zz…z" or down to 0)."""
    number = _number(key) + direction
    if number % BASE == 0:
        number += direction
    if number <= 0 or number >= BASE ** len(key):
        return None
    return _digits(number, len(key))


def _number(key: str) -> int:
    number = 0
    for char in key:
        number = number * BASE + DIGITS.index(char)
    return number


def _midpoint(lower: str, upper: str | None) -> str:
    if upper is not None:  # keep the prefix both share (reading a shorter lower as padded with zeros)
        n = 0
        while n < len(upper) and (lower[n] if n < len(lower) else "0") == upper[n]:
            n += 1
        if n:
            return upper[:n] + _midpoint(lower[n:], upper[n:])
    low = DIGITS.index(lower[0]) if lower else 0
    high = DIGITS.index(upper[0]) if upper is not None else BASE
    if high - low > 1:
        return DIGITS[(low + high) // 2]
    if upper is not None and len(upper) > 1:
        return upper[0]
    return DIGITS[low] + _midpoint(lower[1:], None)


def spread_keys(count: int) -> list[str]:
    """`count` short keys, evenly spaced and increasing, in the middle third of the keys (a rebalanced stage's):
    about BASE free keys between neighbours, and room for about 12 x `count` cards added at either end before
    the stage needs rebalancing again."""
    width = 1
    while BASE ** width < 3 * BASE * (count + 1):
        width += 1
    third = BASE ** width // 3
    step = third // (count + 1)
    numbers = (third + step * (i + 1) for i in range(count))
    # all of the same length, so that steps from them are as fine: one ending in "0" moves up one unit
    return [_digits(number + (number % BASE == 0), width) for number in numbers]


def _digits(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, BASE)
        out.append(DIGITS[digit])
    return "".join(reversed(out))


def keys_between(lower: str | None, upper: str | None, count: int) -> list[str]:
    """`count` increasing keys between `lower` and `upper`, as short as halving the gap allows (a block of cards
    moved at once)."""
    if count <= 0:
        return []
    middle = key_between(lower, upper)
    half = count // 2
    return [*keys_between(lower, middle, half), middle, *keys_between(middle, upper, count - half - 1)]


def spaced_keys(lower: str | None, upper: str | None, count: int) -> list[str]:
    """`count` increasing keys evenly spaced between `lower` and `upper` (None: the start or the end of the
    stage), at least BASE units apart, at the shortest length that allows it (a window of cards respaced)."""
    if lower is not None and upper is not None and lower >= upper:
        raise ValueError(f"{lower!r} is not before {upper!r}")
    width = 1
    while True:  # the bounds cut to `width` digits: low <= lower and high <= upper, each less than a unit away
        low = _number(lower[:width].ljust(width, "0")) if lower else 0
        high = _number(upper[:width].ljust(width, "0")) if upper is not None else BASE ** width
        if high - low >= (count + 1) * BASE:
            break
        width += 1
    step = (high - low) // (count + 1)
    # the first is more than a unit above `lower`, the last more than a unit below `high`; a step of at least
    # BASE units leaves room to move a number ending in "0" up by one
    return [_digits(number + (number % BASE == 0), width) for number in (low + step * (i + 1) for i in range(count))]
