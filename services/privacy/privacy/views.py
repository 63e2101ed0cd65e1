"""Read-side queries on the privacy requests read model."""
from __future__ import annotations

from pymongo.collection import Collection

from crm_platform.pagination import keyset_page


def requests_page(requests: Collection, account_id: str, type: str | None, status: str | None, limit: int,
                  cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of the account's requests, newest first, of a type and status if given, and the next cursor."""
    query = {"account_id": account_id, **({"type": type} if type else {}), **({"status": status} if status else {})}
    return keyset_page(requests, query, sort="-received_at", field="received_at", limit=limit, cursor=cursor,
                       dated=True)
