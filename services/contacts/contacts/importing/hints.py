"""What a header tells about its column, before slots are numbered (see suggest.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable


@dataclass(frozen=True)
class ColumnHint:
    """A column's target, and the group of columns its slot is shared with (numbered by suggest.py)."""

    target: str
    group: Hashable = None  # slot targets: columns with the same kind and group share one slot
    tag: str | None = None
    key: str | None = None  # custom_field


IGNORED = ColumnHint("skip")
