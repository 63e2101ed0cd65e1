"""Exporting contacts of the read model, streamed: standard, Google and Outlook CSV, or vCard.

Contacts are read from a cursor in batches and written in chunks, so an
export of 100,000 contacts never holds them all. The standard and Google
formats need to know how many email/phone/address/website columns to write:
a first pass reads only those lists to size the layout.
"""
from __future__ import annotations

from typing import Iterator

from pymongo.collection import Collection

from contacts import views
from contacts.contact_pages import and_also
from contacts.contact_query import ContactQuery, build_filter
from contacts.entrypoints.representation import contact_from_view
from contacts.importing import ExportLayout, write_google_csv, write_outlook_csv, write_standard_csv, write_vcards

FORMATS = {"standard": ("text/csv", "csv"), "google": ("text/csv", "csv"), "outlook": ("text/csv", "csv"),
           "vcard": ("text/vcard", "vcf")}
BATCH = 500
SIZED_LISTS = ("emails", "phones", "addresses", "websites")


class ExportSource:
    """The account's contacts matching a query, as the writers want them (names instead of keys)."""

    def __init__(self, contacts: Collection, names: dict, custom_fields: list[dict], account_id: str,
                 query: ContactQuery, ids: list[str] | None = None) -> None:
        self._contacts = contacts
        self._names = names
        self.custom_fields = custom_fields
        self._filter = build_filter(account_id, query)
        if ids:
            self._filter = and_also(self._filter, {"_id": {"$in": list(ids)}})

    def layout(self) -> ExportLayout:
        sizes = self._contacts.find(self._filter, {name: 1 for name in SIZED_LISTS}, batch_size=BATCH)
        return ExportLayout.fitting(sizes, self.custom_fields)

    def contacts(self) -> Iterator[dict]:
        for doc in self._contacts.find(self._filter, batch_size=BATCH):
            contact = {k: v for k, v in contact_from_view(doc).items() if v is not None}
            contact["labels"] = [self._names["labels"].get(key, key) for key in contact.get("labels", [])]
            for field in ("function", "department"):
                if contact.get(field):
                    contact[field] = self._names[field].get(contact[field], contact[field])
            yield contact


def export_chunks(source: ExportSource, file_format: str, excel_fr: bool) -> Iterator[bytes]:
    if file_format == "vcard":
        return write_vcards(source.contacts())
    if file_format == "outlook":
        return write_outlook_csv(source.contacts(), excel_fr)
    layout = source.layout()
    writer = write_google_csv if file_format == "google" else write_standard_csv
    return writer(source.contacts(), layout, excel_fr)


def display_names(labels: Collection, label_orders: Collection, option_lists: Collection, account_id: str) -> dict:
    """key -> name of the account's labels, functions and departments."""
    return {
        "labels": {l["key"]: l["name"] for l in views.list_labels(labels, label_orders, account_id)},
        "function": {o["key"]: o["name"] for o in views.list_options(option_lists, account_id, "functions")},
        "department": {o["key"]: o["name"] for o in views.list_options(option_lists, account_id, "departments")},
    }
