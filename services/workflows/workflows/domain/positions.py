"""Positions of cards within a stage: fractional keys, so that a move writes only the card that moves.

A key is a string of base-36 digits (0-9, a-z) read as a fraction 0.d1d2d3...,
never ending in "0": plain string order is then numeric order (in MongoDB too,
ASCII only), and between any two keys there is always another. A key grows
about one digit per five moves into the same gap; past MAX_KEY_LENGTH the
stage is rebalanced (`spread_keys`), which rewrites every card of the stage once.
No kept Python library does this (fractional-indexing ports are unmaintained or
pull in more than these 60 lines), hence our own.
"""
from __future__ import annotations

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
MAX_KEY_LENGTH = 12


def is_key(value: str) -> bool:
    return bool(value) and value[-1] != "0" and all(c in DIGITS for c in value)


def key_between(lower: str | None, upper: str | None) -> str:
    """A key sorting strictly between `lower` and `upper` (None: the start or the end of the stage)."""
    if lower is not None and upper is not None and lower >= upper:
        raise ValueError(f"{lower!r} is not before {upper!r}")
    return _midpoint(lower or "", upper)


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
    """`count` short keys, evenly spaced and increasing (a rebalanced stage's)."""
    width = 1
    while BASE ** width < (count + 1) * BASE:  # leaves about BASE free keys between neighbours
        width += 1
    step = BASE ** width // (count + 1)
    return [_digits(step * (i + 1), width).rstrip("0") for i in range(count)]


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
