"""Reads that reflect every write acknowledged before them (see crm_platform.read_your_writes).

A contact read by id and the account's settings lists (labels, custom fields,
options, saved views) wait, bounded, for the worker to have projected every
stored event they show; lists and searches of contacts stay eventually
consistent (docs/api.md).
"""
from __future__ import annotations

from pymongo.collection import Collection

from crm_platform.read_your_writes import document_caught_up, versions_caught_up
from crm_platform.web import current_container

from contacts import views
from contacts.domain.custom_fields import CustomFieldSet, field_set_id
from contacts.domain.labels import Label, label_order_id
from contacts.domain.option_lists import option_list_id
from contacts.domain.saved_views import SavedView


def _wait() -> float:
    return current_container().settings["READ_YOUR_WRITES_SECONDS"]


def contact(account_id: str, contact_id: str) -> dict:
    """The live contact's read-model document, once it reflects every acknowledged write; ContactNotFound if
    it is missing, deleted or another account's."""
    container = current_container()
    doc = document_caught_up(container.projection.collection, container.event_store, account_id, contact_id, _wait())
    return views.visible_contact(doc, account_id, contact_id)


def labels(account_id: str) -> None:
    container = current_container()
    _every_aggregate_of(container.labels_projection.collection, account_id, Label.aggregate_type)
    document_caught_up(container.label_order_projection.collection, container.event_store, account_id,
                       label_order_id(account_id), _wait())


def saved_views(account_id: str) -> None:
    _every_aggregate_of(current_container().saved_views_projection.collection, account_id, SavedView.aggregate_type)


def custom_fields(account_id: str) -> None:
    """The field set is one aggregate projected as one document per field, each at the set's version."""
    container = current_container()
    head = container.event_store.head(field_set_id(account_id))
    if head is None or head.account_id != account_id or head.aggregate_type != CustomFieldSet.aggregate_type:
        return
    definitions = container.custom_fields_projection.collection

    def newest() -> dict[str, int]:
        return {"set": max((d["version"] for d in definitions.find({"account_id": account_id}, {"version": 1})),
                           default=0)}

    versions_caught_up(newest, {"set": head.version}, _wait())


def option_list(account_id: str, kind: str) -> dict | None:
    """The list's read-model document once it reflects every acknowledged write (None: never changed)."""
    container = current_container()
    return document_caught_up(container.option_lists_projection.collection, container.event_store, account_id,
                       option_list_id(account_id, kind), _wait())


def _every_aggregate_of(collection: Collection, account_id: str, aggregate_type: str) -> None:
    heads = current_container().event_store.heads_of_type(account_id, aggregate_type)
    if heads:
        versions_caught_up(lambda: {d["_id"]: d["version"] for d in collection.find({"account_id": account_id},
                                                                                    {"version": 1})},
                           heads, _wait())
