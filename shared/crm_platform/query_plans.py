"""Whether the database server answers an equality from an index or by decoding every document of a collection.

FerretDB's explain says so: `filterPushdown` is false where it evaluates the filter itself after reading the whole
collection (over SQLite it pushes down nothing but `_id`), true where PostgreSQL gets it (and devinfra's indexes
serve it). MongoDB's explain has no such field: MongoDB indexes what the services declare. Code that has a cheaper
shape for a scanning server (reads by `_id`) asks here, never guesses from timings: a busy machine's slow answer
is no scan, and such a guess once turned every event store load of a CI run on PostgreSQL into chains of reads.

Asked once per process, server and filter shape (its top-level fields: FerretDB's pushdown depends on the backend
and the shape, not on the collection; over PostgreSQL also on the value's type: callers pass strings and integers,
which it pushes down). A field's operators are not part of the shape: `{_id, version: {$lt: n}}` and
`{_id, version: n}` share a verdict, which holds on both FerretDB backends (over SQLite neither is pushed down,
over PostgreSQL the string `_id` is; crm_platform.id_guards asks with such guards). Not remembered while the
collection does not exist (FerretDB then answers with no plan and `filterPushdown: false`) or the server does not
answer (an outage). A server that refuses explain counts as one that does not scan.
"""
from __future__ import annotations

from pymongo.collection import Collection
from pymongo.errors import OperationFailure, PyMongoError

_VERDICTS: dict[tuple, bool] = {}  # (servers, fields) -> whether the server scans for an equality on those


def server_scans_for(collection: Collection, sample: dict) -> bool:
    """Whether the server reads every document of `collection` to answer a filter of `sample`'s shape (its
    top-level fields); False where it cannot tell (nothing to scan yet, or no answer)."""
    key = (_servers(collection), tuple(sorted(sample)))
    verdict = _VERDICTS.get(key)
    if verdict is None:
        try:
            plan = collection.database.command(
                "explain", {"find": collection.name, "filter": sample}, verbosity="queryPlanner")
        except OperationFailure:  # the server refuses explain (its user may not run it): it will refuse again
            plan = None
        except PyMongoError:  # no answer (an outage): ask again next time
            return False
        if plan is not None and not plan.get("queryPlanner"):  # FerretDB, for a collection not created yet
            return False
        verdict = _VERDICTS[key] = plan is not None and plan.get("filterPushdown") is False
    return verdict


def _servers(collection: Collection) -> frozenset:
    """The servers the client knows (its seeds before it connects): stable for one server, as FerretDB is."""
    return frozenset(collection.database.client.topology_description.server_descriptions())
