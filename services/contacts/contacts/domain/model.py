"""The contact aggregate: the rules a contact obeys, and the events that record its changes."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone

from contacts.domain.contact_fields import (
    MAX_ENTRIES,
    MAX_STREET_LINES,
    TEXT_FIELDS,
    FieldProblems,
    check_country,
    check_url,
    normalize_email_address,
    normalize_vat,
    phone_e164,
)
from contacts.domain.custom_fields import normalize_values
from contacts.domain.generations import Generations, combined, generation, given_by_then, restamp
from contacts.domain.merging import MAX_SOURCES, merge_details
from contacts.domain.errors import ContactNotFound, InvalidContact, StaleContactRevision
from crm_platform.aggregates import Aggregate
from crm_platform.input_guard import json_problems

from contacts.domain.events import (
    CONTACT_EVENTS,
    ContactCreated,
    ContactDeleted,
    ContactErased,
    ContactEvent,
    ContactsMerged,
    ContactUpdated,
    LabelAssigned,
    LabelUnassigned,
)

OPTION_FIELDS = ("function", "department")  # keys of options of the account's lists (option_lists.py)
EDITABLE_FIELDS = (
    *TEXT_FIELDS, *OPTION_FIELDS, "vat_number", "info_email", "websites", "emails", "phones", "addresses", "custom_fields",
)
IDENTIFYING_FIELDS = ("first_name", "last_name", "company", "emails", "phones")
DEFAULT_PHONE_REGION = "FR"
# contact field ("function", "department", "country") -> allowed keys, each with its generation (generations.py)
OptionKeys = Mapping[str, Mapping[str, int]]
Current = Mapping[str, Mapping[str, int]]  # kind (generations.KINDS) -> key -> the key's current generation


class Contact(Aggregate):
    """A person or organisation an account works with, rebuilt from its events."""

    aggregate_type = "Contact"
    event_classes = CONTACT_EVENTS
    not_found_error = ContactNotFound

    def __init__(self, contact_id: str, account_id: str) -> None:
        super().__init__(contact_id, account_id)
        self.details: dict = {}
        self.generations: Generations = {}  # what each label, custom value and option was given under
        self.created_at = ""
        self.updated_at = ""
        self.absorbed: dict[str, int] = {}  # contacts merged into this one -> the revision whose details it took in
        self.merged_into_id: str | None = None  # where a merged contact went

    @classmethod
    def create(
        cls,
        account_id: str,
        details: dict,
        contact_id: str | None = None,
        phone_region: str = DEFAULT_PHONE_REGION,
        custom_field_types: dict[str, str] | None = None,
        options: OptionKeys | None = None,
        labels: list[str] = (),
        generations: Current | None = None,
    ) -> "Contact":
        """A new contact; `labels` are keys of live labels (the caller checks them), `generations` the current
        generation of the labels, custom fields and options it is given (generations.py)."""
        contact = cls(contact_id or str(uuid.uuid4()), account_id)
        normalized = {**normalize_details(details, phone_region, custom_field_types, options),
                      "labels": list(dict.fromkeys(labels))}
        stamps = restamp(normalized, {}, {}, generations or {})
        contact._record(ContactCreated(contact.id, account_id, normalized, _now(), stamps))
        return contact

    def update(
        self,
        revision: int,
        changes: dict,
        phone_region: str = DEFAULT_PHONE_REGION,
        custom_field_types: dict[str, str] | None = None,
        options: OptionKeys | None = None,
        generations: Current | None = None,
    ) -> None:
        """Replace the given fields (lists whole); `custom_fields` merges by key, a null value removes one.

        A new or changed value takes its key's current generation (from `generations`); an unchanged one
        keeps its own.
        """
        self._check_current(revision)
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise InvalidContact("unknown fields", errors={name: ["unknown field"] for name in sorted(unknown)})
        types, current = custom_field_types or {}, generations or {}
        # values of fields the account has removed (or removed and added again) since are dropped, not reported
        values = {k: v for k, v in self.details.get("custom_fields", {}).items()
                  if k in types and not self._of_an_earlier_field(k, current.get("custom_fields") or {})}
        values = {k: v for k, v in {**values, **changes.get("custom_fields", {})}.items() if v is not None}
        merged = normalize_details({**self.details, **changes, "custom_fields": values}, phone_region, types, options)
        merged["labels"] = list(self.details.get("labels", []))
        stamps = restamp(merged, self.details, self.generations, current)
        changed = [name for name in EDITABLE_FIELDS if merged.get(name) != self.details.get(name)]
        if changed:
            self._record(ContactUpdated(self.id, self.account_id, merged, changed, self.created_at, stamps))

    def _of_an_earlier_field(self, key: str, current: Mapping[str, int]) -> bool:
        """Whether the value was given under an earlier generation of the field than the live one."""
        given = generation(self.generations, "custom_fields", key)
        return given != 0 and key in current and given != current[key]

    def assign_label(self, key: str, label_generation: int = 0) -> bool:
        """Give the contact this generation of a label; False (and no event) if it has it already.

        A contact that still holds an earlier generation (its clean-up has not run yet) is given this one.
        """
        self._check_live()
        labels = self.details.get("labels", [])
        if key in labels and generation(self.generations, "labels", key) >= label_generation:
            return False
        details = {**self.details, "labels": labels if key in labels else [*labels, key]}
        stamps = restamp(details, self.details, self.generations, {})
        stamps.setdefault("labels", {})[key] = label_generation
        self._record(LabelAssigned(self.id, self.account_id, key, details, self.created_at, stamps))
        return True

    def unassign_label(self, key: str, ended: int | None = None) -> bool:
        """Take a label off the contact; False (and no event) if it does not have it.

        The clean-up after a deletion gives the generation it `ended`: a label given after that stays.
        """
        self._check_live()
        labels = self.details.get("labels", [])
        if key not in labels or not self._given_by_then("labels", key, ended):
            return False
        details = {**self.details, "labels": [k for k in labels if k != key]}
        self._record(LabelUnassigned(self.id, self.account_id, key, details, self.created_at,
                                     restamp(details, self.details, self.generations, {})))
        return True

    def remove_custom_field_value(self, key: str, ended: int | None = None) -> bool:
        """Drop the value of a custom field the account removed (the generation it `ended`, or any);
        False (no event) if there is none, or it was given after that generation."""
        self._check_live()
        values = self.details.get("custom_fields", {})
        if key not in values or not self._given_by_then("custom_fields", key, ended):
            return False
        details = {**self.details, "custom_fields": {k: v for k, v in values.items() if k != key}}
        self._record(ContactUpdated(self.id, self.account_id, details, ["custom_fields"], self.created_at,
                                    restamp(details, self.details, self.generations, {})))
        return True

    def remove_option(self, field: str, key: str, ended: int | None = None) -> bool:
        """Forget an option the account deleted (function, department, or an address country; the generation
        it `ended`, or any); False if unused, or given after that generation.

        Only the country goes from an address: the rest stays. An address that held nothing but the country
        is left empty, and goes, as it could not be saved that way.
        """
        self._check_live()
        if not self._given_by_then(field, key, ended):
            return False
        details = dict(self.details)
        if field in OPTION_FIELDS:
            if details.get(field) != key:
                return False
            del details[field]
        else:
            addresses = details.get("addresses", [])
            if not any(a.get("country") == key for a in addresses):
                return False
            kept = [{k: v for k, v in a.items() if not (k == "country" and v == key)} for a in addresses]
            details["addresses"] = [a for a in kept if any(v for k, v in a.items() if k != "tag")]
        self._record(ContactUpdated(self.id, self.account_id, details, [field if field in OPTION_FIELDS else "addresses"],
                                    self.created_at, restamp(details, self.details, self.generations, {})))
        return True

    def _given_by_then(self, kind: str, key: str, ended: int | None) -> bool:
        return ended is None or given_by_then(self.generations, kind, key, ended)

    def absorb(self, sources: list["Contact"], revision: int | None = None) -> None:
        """Merge up to five other contacts of the account into this one (see merging.py), noting the revision of
        each source taken in (a source changed since is taken in again before it is deleted)."""
        if revision is not None:
            self._check_current(revision)
        self._check_live()
        ids = [source.id for source in sources]
        check_sources(self.id, ids)
        for source in sources:
            if source.deleted or source.account_id != self.account_id:
                raise ContactNotFound(source.id)
        details = merge_details(self.details, [source.details for source in sources])
        stamps = combined(details, [(contact.details, contact.generations) for contact in (self, *sources)])
        self._record(ContactsMerged(self.id, self.account_id, ids, details, self.created_at, generations=stamps,
                                    source_revisions=[source.revision for source in sources]))

    def merged_into(self, target_id: str) -> None:
        """This contact now lives on in `target_id`: it is deleted, saying where it went."""
        self._check_live()
        self._record(ContactDeleted(self.id, self.account_id, merged_into=target_id))

    def delete(self, revision: int | None) -> None:
        if revision is not None:
            self._check_current(revision)
        elif self.deleted:
            raise ContactNotFound(self.id)
        self._record(ContactDeleted(self.id, self.account_id))

    @classmethod
    def to_erase(cls, contact_id: str, account_id: str, revision: int) -> "Contact":
        """The contact at `revision`, to record its erasure: its details are not needed (nor, once shredded, readable)."""
        contact = cls(contact_id, account_id)
        contact.revision = revision
        return contact

    def erase(self) -> None:
        """The person is erased (live or deleted, the contact is gone for good). An erased contact never loads
        again (its key is shredded): erasure.py checks the stored events for an earlier ContactErased."""
        self._record(ContactErased(self.id, self.account_id))

    def _check_live(self) -> None:
        if self.deleted:
            raise ContactNotFound(self.id)

    def _check_current(self, revision: int) -> None:
        self._check_live()
        if revision != self.revision:
            raise StaleContactRevision(self.id, revision, self.revision)

    def _record(self, event: ContactEvent) -> None:
        super()._record(event)
        self.updated_at = self.created_at if isinstance(event, ContactCreated) else _now()

    def _apply(self, event: ContactEvent) -> None:
        if isinstance(event, ContactCreated):
            self.details, self.created_at = dict(event.details), event.created_at
            self.generations = dict(event.generations or {})
        elif isinstance(event, (ContactUpdated, LabelAssigned, LabelUnassigned, ContactsMerged)):
            self.details, self.generations = dict(event.details), dict(event.generations or {})
        elif isinstance(event, ContactDeleted):
            self.deleted, self.merged_into_id = True, event.merged_into
        elif isinstance(event, ContactErased):
            self.deleted = True
        if isinstance(event, ContactsMerged):  # older events did not note the revisions: 0 is none of them
            self.absorbed.update(zip(event.source_ids, event.source_revisions or [0] * len(event.source_ids)))


def check_sources(target_id: str, source_ids: list[str]) -> None:
    """1 to 5 distinct contacts other than the target; InvalidContact otherwise."""
    if not 1 <= len(source_ids) <= MAX_SOURCES or len(set(source_ids)) != len(source_ids) or target_id in source_ids:
        raise InvalidContact("give 1 to 5 distinct contacts other than the target", errors={
            "source_ids": [f"1 to {MAX_SOURCES} distinct contact ids, not the target's"]})


def normalize_details(
    details: dict,
    phone_region: str = DEFAULT_PHONE_REGION,
    custom_field_types: dict[str, str] | None = None,
    options: OptionKeys | None = None,
) -> dict:
    """Trim and normalise every field, settle the primary email/phone, and enforce the contact rules.

    `options` gives the keys a function, department or country may take in the
    account; a field it leaves out is not checked against a list (replays and
    values that did not change need no lookup). Raises InvalidContact listing
    every problem by field path.
    """
    problems = FieldProblems()
    for path, messages in json_problems(details).items():  # what an imported file may hold as well as a request
        for message in messages:
            problems.add(tuple(int(part) if part.isdigit() else part for part in path.split(".")), message)
    if problems:
        raise InvalidContact("the contact has text that cannot be stored; see `errors`", errors=problems.errors)
    out: dict = {}
    for name in (*TEXT_FIELDS, *OPTION_FIELDS):
        value = (details.get(name) or "").strip()
        if value:
            out[name] = value
    for name in OPTION_FIELDS:
        _check_option(out.get(name), name, options, problems, (name,))
    if (vat := (details.get("vat_number") or "").strip()):
        out["vat_number"] = normalize_vat(vat, problems)
    if (info := (details.get("info_email") or "").strip()):
        out["info_email"] = normalize_email_address(info, problems, ("info_email",))
    out["websites"] = [check_url(u, problems, ("websites", i)) for i, u in enumerate(details.get("websites") or [])]
    out["emails"] = [
        {
            "address": normalize_email_address(e["address"], problems, ("emails", i, "address")),
            "tag": e.get("tag") or "main",
            "primary": bool(e.get("primary")),
            "subscription_status": e.get("subscription_status") or "not_set",
            "deliverability": e.get("deliverability") or "not_set",
        }
        for i, e in enumerate(details.get("emails") or [])
    ]
    out["phones"] = [
        {
            "number": p["number"].strip(),
            # a stored entry keeps the E.164 it was read as (clients never send `e164`): a later change of
            # the account's region must not re-read numbers typed without their country code
            "e164": p.get("e164") or phone_e164(p["number"], phone_region, problems, ("phones", i, "number")),
            "tag": p.get("tag") or "main",
            "primary": bool(p.get("primary")),
        }
        for i, p in enumerate(details.get("phones") or [])
    ]
    out["addresses"] = [_address(a, problems, ("addresses", i)) for i, a in enumerate(details.get("addresses") or [])]
    for i, address in enumerate(out["addresses"]):
        _check_option(address.get("country"), "country", options, problems, ("addresses", i, "country"))
    out["custom_fields"] = normalize_values(details.get("custom_fields") or {}, custom_field_types or {}, problems)
    for field in ("websites", "emails", "phones", "addresses"):
        if len(out[field]) > MAX_ENTRIES:
            problems.add((field,), f"at most {MAX_ENTRIES} entries")
    _check_unique(out["emails"], lambda e: e["address"].casefold(), "emails", "address", problems)
    _check_unique(out["phones"], lambda p: p["e164"] or p["number"], "phones", "number", problems)
    for field in ("emails", "phones"):
        _settle_primary(out[field], field, problems)
    if not any(out.get(name) for name in IDENTIFYING_FIELDS):
        problems.add(("_schema",), "give at least one of first_name, last_name, company, emails, phones")
    if problems:
        raise InvalidContact("the contact has invalid fields; see `errors`", errors=problems.errors)
    return out


def _address(address: dict, problems: FieldProblems, path: tuple) -> dict:
    street = [line.strip() for line in address.get("street") or [] if line and line.strip()]
    if len(street) > MAX_STREET_LINES:
        problems.add((*path, "street"), f"at most {MAX_STREET_LINES} lines")
    out = {"tag": address.get("tag") or "home", "street": street}
    for name in ("postal_code", "city", "region"):
        if (value := (address.get(name) or "").strip()):
            out[name] = value
    if (country := (address.get("country") or "").strip()):
        out["country"] = check_country(country, problems, (*path, "country"))
    if len(out) == 2 and not street:
        problems.add(path, "an address needs at least a street, postal code, city, region or country")
    return out


def _check_option(value: str | None, field: str, options: OptionKeys | None, problems: FieldProblems, path: tuple) -> None:
    if value and options is not None and field in options and value not in options[field]:
        problems.add(path, f"not an option of the account's {field} list; add it there first")


def _check_unique(items: list[dict], key, field: str, part: str, problems: FieldProblems) -> None:
    seen: dict = {}
    for i, item in enumerate(items):
        folded = key(item)
        if folded in seen:
            problems.add((field, i, part), f"same as entry {seen[folded]}")
        seen.setdefault(folded, i)


def _settle_primary(items: list[dict], field: str, problems: FieldProblems) -> None:
    """Exactly one primary entry when there are any: the flagged one, else the first."""
    flagged = [i for i, item in enumerate(items) if item["primary"]]
    if len(flagged) > 1:
        problems.add((field,), "only one entry can be primary")
    chosen = flagged[0] if flagged else 0
    for i, item in enumerate(items):
        item["primary"] = i == chosen


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
