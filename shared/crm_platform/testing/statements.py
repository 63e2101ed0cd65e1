"""Counting the statements a piece of code sends to the database server (pymongo's command monitoring), for
tests that hold code to one query per batch rather than one per item."""
from __future__ import annotations

from pymongo import monitoring


class Statements(monitoring.CommandListener):
    """The names of the commands sent, in order; on one collection only when `collection` is given.

    Pass it in `event_listeners=[...]` of the MongoClient (or MongoConnection) under test."""

    def __init__(self, collection: str | None = None) -> None:
        self.collection, self.names, self.commands = collection, [], []

    def started(self, event) -> None:
        if self.collection is None or event.command.get(event.command_name) == self.collection:
            self.names.append(event.command_name)
            self.commands.append(dict(event.command))

    def using(self, operator: str) -> list[dict]:
        """The commands whose text holds `operator` (such as "$in", which FerretDB answers with a scan)."""
        return [command for command in self.commands if operator in repr(command)]

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass
