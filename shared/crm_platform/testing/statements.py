"""Counting the statements a piece of code sends to the database server (pymongo's command monitoring), for
tests that hold code to one query per batch rather than one per item."""
from __future__ import annotations

from collections import Counter

from pymongo import monitoring


class Statements(monitoring.CommandListener):
    """The names of the commands sent, in order; on one collection only when `collection` is given. Not an
    `explain`: that is crm_platform.query_plans asking the server, once per process, how it answers a shape.

    Pass it in `event_listeners=[...]` of the MongoClient (or MongoConnection) under test."""

    def __init__(self, collection: str | None = None) -> None:
        self.collection, self.names, self.commands = collection, [], []
        self.returned: dict[str, int] = {}  # collection -> documents the server returned from it (finds, getMores)
        self._reading: dict[int, str] = {}

    def started(self, event) -> None:
        if event.command_name == "explain":  # the kernel asking the server how it would answer (query_plans)
            return
        target = event.command.get("collection") if event.command_name == "getMore" else \
            event.command.get(event.command_name)
        if event.command_name in ("find", "getMore", "aggregate") and isinstance(target, str):
            self._reading[event.request_id] = target
        if self.collection is None or event.command.get(event.command_name) == self.collection:
            self.names.append(event.command_name)
            self.commands.append(dict(event.command))

    def using(self, operator: str) -> list[dict]:
        """The commands that use `operator` (such as "$in", which FerretDB answers with a scan) as a key: "$in" is
        not "$inc", which every event store append's position counter uses."""
        return [command for command in self.commands if repr(operator) in repr(command)]

    def succeeded(self, event) -> None:
        target = self._reading.pop(event.request_id, None)
        cursor = event.reply.get("cursor") if target is not None else None
        if cursor is not None:
            batch = cursor.get("firstBatch", cursor.get("nextBatch", []))
            self.returned[target] = self.returned.get(target, 0) + len(batch)

    def failed(self, event) -> None:
        self._reading.pop(event.request_id, None)


class TimedStatements(Statements):
    """Statements, and the server's time answering them by command and collection (several overlap when a bulk
    read goes on threads: their sum may exceed the wall time); for the benchmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[int, str] = {}
        self.micros: Counter = Counter()

    def clear(self) -> None:
        self.names.clear()
        self.commands.clear()
        self.micros.clear()
        self.returned.clear()

    def started(self, event) -> None:
        super().started(event)
        self.pending[event.request_id] = f"{event.command_name} {event.command.get(event.command_name)}"

    def succeeded(self, event) -> None:
        super().succeeded(event)
        self.micros[self.pending.pop(event.request_id, event.command_name)] += event.duration_micros

    def failed(self, event) -> None:
        super().failed(event)
        self.micros[self.pending.pop(event.request_id, event.command_name)] += event.duration_micros
