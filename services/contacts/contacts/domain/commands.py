"""Commands to the contacts service (imperative): what a caller asks for."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CreateContact:
    account_id: str
    details: dict
    phone_region: str = "FR"


@dataclass(frozen=True)
class UpdateContact:
    account_id: str
    contact_id: str
    revision: int
    changes: dict
    phone_region: str = "FR"


@dataclass(frozen=True)
class DeleteContact:
    account_id: str
    contact_id: str
    revision: int | None = None
