"""The account's names for the keys a contact holds (labels, custom fields, options), for a person's export."""
from __future__ import annotations

from contacts.domain.custom_fields import field_set_id
from contacts.domain.labels import label_id
from contacts.domain.model import OPTION_FIELDS
from contacts.domain.option_lists import KIND_OF_FIELD, option_list_id
from contacts.service_layer.unit_of_work import UnitOfWork


class AccountNames:
    """The account's names of label, custom field and option keys, each list read once."""

    def __init__(self, uow: UnitOfWork, account_id: str) -> None:
        self._uow, self._account_id = uow, account_id
        self._labels: dict[str, str] = {}
        self._custom_fields: dict | None = None
        self._options: dict[str, dict[str, str]] = {}

    def label(self, key: str) -> str:
        if key not in self._labels:
            with self._uow as uow:
                label = uow.labels.find(self._account_id, label_id(self._account_id, key))
            self._labels[key] = label.name if label is not None and label.name else key
        return self._labels[key]

    def custom_field(self, key: str) -> str:
        if self._custom_fields is None:
            with self._uow as uow:
                self._custom_fields = uow.custom_fields.find_or_blank(
                    self._account_id, field_set_id(self._account_id)).fields
        return self._custom_fields.get(key, {}).get("name", key)

    def of_value(self, contact_field: str, value):
        """A field's value as the export shows it: label, custom field and option keys by name."""
        if contact_field == "labels" and value:
            return [self.label(key) for key in value]
        if contact_field == "custom_fields" and value:
            return {self.custom_field(key): item for key, item in value.items()}
        if contact_field in OPTION_FIELDS and value:
            return self.option(contact_field, value)
        return value

    def option(self, contact_field: str, key: str) -> str:
        kind = KIND_OF_FIELD[contact_field]
        if kind not in self._options:
            with self._uow as uow:
                self._options[kind] = uow.option_lists.find_or_blank(
                    self._account_id, option_list_id(self._account_id, kind)).options
        return self._options[kind].get(key, key)
