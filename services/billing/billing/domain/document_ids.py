"""Aggregate ids made from a client's key, or from another document's id: always scoped to the account.

One event store holds every account's aggregates under their ids, so an id a client chooses (or can
learn, as a quote's id) must never be an aggregate id as it is: another account could take it first
(its owner then gets a 409, which also tells that the id exists), or write into the stream of an
aggregate of another type ("billing-settings:acct-2"), locking it. A uuid5 of (account, key) gives each
account its own ids, the same on every retry, and nothing another account can name.
"""
from __future__ import annotations

import json
import uuid

NAMESPACE = uuid.UUID("6f1f2c1e-3f7a-5b8e-9c1d-2a4b6c8d0e1f")  # billing's; never change it (ids would change)


def scoped_id(kind: str, account_id: str, *key: object) -> str:
    """`kind:<uuid5>` of the account and the key's parts (JSON, so no two keys write the same text)."""
    return f"{kind}:{uuid.uuid5(NAMESPACE, json.dumps([account_id, *key]))}"
