"""Column mappings: what each column of an uploaded table feeds, as JSON-friendly dataclasses.

One `ColumnMapping` per column, in column order. Emails, phones, addresses
and websites are grouped in numbered *slots*: the columns `email` slot 2 and
`email.subscription_status` slot 2 describe the same email; `address.city`
and `address.country` with slot 1 form one address. A column's `tag` is the
default tag of its slot's entry (a `*.tag` column can still give one per row).

JSON shape: [{"target": "first_name"}, {"target": "email", "slot": 1, "tag": "work"},
{"target": "custom_field", "key": "budget"}, {"target": "new_custom_field", "name": "Budget",
"type": "number"}, {"target": "skip"}, ...]
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from contacts.domain.contact_fields import ADDRESS_TAGS, EMAIL_TAGS, MAX_ENTRIES, PHONE_TAGS
from contacts.domain.custom_fields import TYPES as CUSTOM_FIELD_TYPES
from contacts.importing.errors import InvalidMapping
from contacts.importing.folding import fold

TEXT_TARGETS = (
    "first_name", "last_name", "company", "job_title", "function", "department", "code", "vat_number", "info_email",
)
EMAIL_TARGETS = ("email", "email.tag", "email.primary", "email.subscription_status", "email.deliverability")
PHONE_TARGETS = ("phone", "phone.tag", "phone.primary")
ADDRESS_PARTS = ("street", "street2", "street3", "postal_code", "city", "region", "country")
ADDRESS_TARGETS = ("address.tag", *(f"address.{part}" for part in ADDRESS_PARTS))
SLOT_TARGETS = (*EMAIL_TARGETS, *PHONE_TARGETS, *ADDRESS_TARGETS, "website")
TARGETS = (*TEXT_TARGETS, *SLOT_TARGETS, "labels", "note", "custom_field", "new_custom_field", "skip")
TAGS = {"email": EMAIL_TAGS, "phone": PHONE_TAGS, "address": ADDRESS_TAGS}
_FIELDS = ("target", "slot", "tag", "key", "name", "type")


@dataclass(frozen=True)
class ColumnMapping:
    """What one column feeds. `ColumnMapping()` skips the column."""

    target: str = "skip"
    slot: int | None = None  # slot targets only: which entry, 1-based
    tag: str | None = None  # email/phone/address targets: the entry's tag when no tag cell says otherwise
    key: str | None = None  # custom_field: the existing field's key
    name: str | None = None  # new_custom_field: the name the caller creates it with
    type: str | None = None  # new_custom_field: text, number, date or url

    @property
    def kind(self) -> str:
        """'email', 'phone', 'address' or 'website' for slot targets; the target itself otherwise."""
        return self.target.partition(".")[0]

    def to_json(self) -> dict:
        return {name: value for name, value in asdict(self).items() if value is not None}


SKIP = ColumnMapping()


def mapping_to_json(mapping: list[ColumnMapping]) -> list[dict]:
    """The mapping as JSON-ready dicts, without unset properties."""
    return [column.to_json() for column in mapping]


def mapping_from_json(
    data: object, column_count: int, custom_field_types: dict[str, str] | None = None
) -> list[ColumnMapping]:
    """Columns from their JSON form, checked by `check_mapping`; raises InvalidMapping."""
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InvalidMapping("the mapping must be a list of objects, one per column",
                             errors={"columns": ["a list of objects, one per column"]})
    problems: dict[str, list[str]] = {}
    for index, item in enumerate(data):
        found = [f"unknown properties: {', '.join(sorted(set(item) - set(_FIELDS)))}"] if set(item) - set(_FIELDS) else []
        slot = item.get("slot")
        if slot is not None and (isinstance(slot, bool) or not isinstance(slot, int)):
            found.append("slot must be a whole number")
        found += [f"{name} must be a string" for name in _FIELDS
                  if name != "slot" and item.get(name) is not None and not isinstance(item[name], str)]
        if found:
            problems[str(index)] = found
    if problems:
        raise InvalidMapping("the mapping has problems; see `errors`", errors={"columns": problems})
    mapping = [ColumnMapping(**{"target": "", **item}) for item in data]
    check_mapping(mapping, column_count, custom_field_types)
    return mapping


def check_mapping(mapping: list[ColumnMapping], column_count: int | None = None,
                  custom_field_types: dict[str, str] | None = None) -> None:
    """Raise InvalidMapping listing every problem by column index (0-based), e.g. {"columns": {"3": [...]}}.

    A wrong number of columns is reported as {"_schema": [...]}. With
    `custom_field_types`, `custom_field` keys must be among them.
    """
    problems: dict[str, list[str]] = {}
    errors: dict = {}
    if column_count is not None and len(mapping) != column_count:
        errors["_schema"] = [f"give one mapping per column: {column_count} expected, {len(mapping)} given"]
    taken: dict[tuple, int] = {}
    slot_tags: dict[tuple, str] = {}
    for index, column in enumerate(mapping):
        found = _column_problems(column, custom_field_types)
        identity = feeds(column)
        if not found and identity is not None:
            if identity in taken:
                found.append(f"column {taken[identity]} already feeds this")
            taken.setdefault(identity, index)
        if not found and column.tag and column.slot is not None:
            slot_id = (column.kind, column.slot)
            if slot_tags.setdefault(slot_id, column.tag) != column.tag:
                found.append(f"another column gives {column.kind} {column.slot} the tag {slot_tags[slot_id]!r}")
        if found:
            problems[str(index)] = found
    if problems:
        errors["columns"] = problems
    if errors:
        raise InvalidMapping("the mapping has problems; see `errors`", errors=errors)


def new_custom_fields(mapping: list[ColumnMapping]) -> list[tuple[str, str]]:
    """(name, type) of every field the caller must create before converting rows."""
    return [(column.name, column.type) for column in mapping if column.target == "new_custom_field"]


def resolve_new_custom_fields(mapping: list[ColumnMapping], keys_by_name: dict[str, str]) -> list[ColumnMapping]:
    """The mapping with each `new_custom_field` turned into a `custom_field` with the key it was created with."""
    return [
        ColumnMapping("custom_field", key=keys_by_name[column.name]) if column.target == "new_custom_field" else column
        for column in mapping
    ]


def _column_problems(column: ColumnMapping, custom_field_types: dict[str, str] | None) -> list[str]:
    if column.target not in TARGETS:
        return [f"unknown target {column.target!r}"]
    found = []
    is_slot = column.target in SLOT_TARGETS
    if is_slot and not (column.slot is not None and 1 <= column.slot <= MAX_ENTRIES):
        found.append(f"give a slot from 1 to {MAX_ENTRIES}")
    if not is_slot and column.slot is not None:
        found.append("only email, phone, address and website columns have a slot")
    if column.tag is not None and column.tag not in TAGS.get(column.kind, ()):
        allowed = TAGS.get(column.kind)
        found.append(f"tag must be one of {', '.join(allowed)}" if allowed else "this target has no tag")
    if column.target == "custom_field":
        if not column.key:
            found.append("give the custom field's key")
        elif custom_field_types is not None and column.key not in custom_field_types:
            found.append(f"no custom field with key {column.key!r}")
    if column.target == "new_custom_field":
        if not (column.name or "").strip():
            found.append("give the new custom field's name")
        if column.type not in CUSTOM_FIELD_TYPES:
            found.append(f"type must be one of {', '.join(CUSTOM_FIELD_TYPES)}")
    return found


def feeds(column: ColumnMapping) -> tuple | None:
    """What a column feeds, when only one column may feed it."""
    if column.target in ("skip", "labels"):
        return None
    if column.target == "custom_field":
        return ("custom_field", column.key)
    if column.target == "new_custom_field":
        return ("new_custom_field", fold(column.name or ""))
    return (column.target, column.slot)
