"""Saved views: a named filter with its sort and columns ("Personnaliser les colonnes"), applied by id.

The domain keeps the query as the API's own query parameters, already
validated by the entrypoint; it only owns the name and the lifecycle.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import NotFound

from contacts.domain.keys import clean_name


class SavedViewNotFound(NotFound):
    def __init__(self, view_id: str) -> None:
        super().__init__(f"saved view {view_id} does not exist in this account", view_id=view_id)


def query_as_pairs(query: dict) -> list[dict]:
    """A view's query parameters as {name, value} pairs: names such as `cf.budget.gt` hold dots, which
    MongoDB does not take as field names (and FerretDB takes no nested arrays, so no [name, value])."""
    return [{"name": name, "value": value} for name, value in query.items()]


def query_from_pairs(stored) -> dict:
    if isinstance(stored, list):
        return {pair["name"]: pair["value"] for pair in stored}
    return dict(stored)  # events stored before pairs kept a document


class SavedViewEvent(DomainEvent):
    aggregate_id_field = "view_id"
    stored_as = {"query": (query_as_pairs, query_from_pairs)}


@dataclass(frozen=True)
class SavedViewCreated(SavedViewEvent):
    view_id: str
    account_id: str
    name: str
    query: dict


@dataclass(frozen=True)
class SavedViewChanged(SavedViewEvent):
    view_id: str
    account_id: str
    name: str
    query: dict


@dataclass(frozen=True)
class SavedViewDeleted(SavedViewEvent):
    view_id: str
    account_id: str


class SavedView(Aggregate):
    aggregate_type = "SavedView"
    event_classes = (SavedViewCreated, SavedViewChanged, SavedViewDeleted)
    not_found_error = SavedViewNotFound

    def __init__(self, view_id: str, account_id: str) -> None:
        super().__init__(view_id, account_id)
        self.name = ""
        self.query: dict = {}

    @classmethod
    def create(cls, account_id: str, name: str, query: dict) -> "SavedView":
        view = cls(f"view:{uuid.uuid4()}", account_id)
        view._record(SavedViewCreated(view.id, account_id, clean_name(name), dict(query)))
        return view

    def change(self, name: str | None, query: dict | None) -> None:
        """Rename it and/or replace its query."""
        self._check_live()
        name = clean_name(name) if name is not None else self.name
        query = dict(query) if query is not None else self.query
        if (name, query) != (self.name, self.query):
            self._record(SavedViewChanged(self.id, self.account_id, name, query))

    def delete(self) -> None:
        self._check_live()
        self._record(SavedViewDeleted(self.id, self.account_id))

    def _check_live(self) -> None:
        if self.deleted:
            raise SavedViewNotFound(self.id)

    def _apply(self, event: SavedViewEvent) -> None:
        if isinstance(event, SavedViewDeleted):
            self.deleted = True
        else:
            self.name, self.query = event.name, dict(event.query)


