"""Creating many contacts at once (imports): one context read per batch, one bulk append, duplicates handled per row.

What happens to a row whose normalized email (then phone) belongs to a live
contact of the account is the caller's choice: `skip` it, `update` that
contact with it, or `create` a new contact anyway (on purpose: duplicates are
then what the caller asked for). With `skip` or `update`, rows are also
matched against each other: a row sharing an email or phone with an earlier
row of the batch is that row's person, and follows the contact the earlier
row created or matched; across batches, the claims of the contacts created
before do the same. An update never gives the matched contact an email or
phone another live contact holds: that row fails, naming the holder, and
nothing of it is applied (one identity, one live contact). A new contact's id is
derived from the row's content keyed with a secret of the account (in the key
vault), so re-running a batch (a resumed job) or importing the same file again
stores nothing twice, yet the id is no hash of personal data that anyone could
recompute from a guess; a row whose contact was deleted since is imported
again, under a new id, and one whose contact was erased is skipped.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Callable

from crm_platform.errors import CrmError
from crm_platform.outages import is_transient
from crm_platform.personal_data import SubjectErased
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, ProcessingRestricted, RestrictionCheck

from contacts.domain.custom_fields import field_set_id
from contacts.domain.errors import ContactNotFound, DuplicateContact
from contacts.domain.events import data_subject
from contacts.domain.merging import SINGLE_FIELDS, merge_details
from contacts.domain.model import EDITABLE_FIELDS, Contact, normalize_details
from contacts.service_layer import duplicates
from contacts.service_layer.handlers import change_contact, custom_fields_for, option_keys_for, phone_region_for
from contacts.service_layer.label_handlers import label_generations
from contacts.service_layer.unit_of_work import UnitOfWork

ON_MATCH = ("skip", "update", "create")
SAME_AS_EARLIER_ROW = "same email or phone as an earlier row"
IMPORTED_BEFORE = "imported before"  # this very row is stored already (a batch run again, or the same file again)
NOTHING_NEW = "nothing new"  # matched and updated with values the contact had already
ERASED = "this person was erased"
ROW_IDS_SECRET = "import-row-ids:{account_id}"  # the key-vault subject of the account's secret for row ids


@dataclass
class RowOutcome:
    status: str  # created | updated | skipped | failed
    contact_id: str | None = None
    reason: str | None = None
    errors: dict = field(default_factory=dict)  # field path -> messages, for failed rows


DeletedSince = Callable[[str, list[str]], set[str]]  # (account, contact ids) -> those deleted (read model tombstones)


def create_many(uow: UnitOfWork, account_id: str, rows: list[dict], *, on_match: str = "skip",
                labels: list[str] = (), row_labels: list[list[str]] | None = None,
                default_region: str = "FR", deleted_since: DeletedSince = lambda account, ids: set(),
                restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> list[RowOutcome]:
    """One outcome per row, in order. `labels` are keys of live labels given to every new or updated contact,
    `row_labels` (one list per row) those given to that row's contact only. A row stored before whose contact
    `deleted_since` says was deleted is imported again under a new id. A row that would update a contact whose
    processing is restricted (Art. 18) fails naming it, and nothing of it is applied."""
    if on_match not in ON_MATCH:
        raise ValueError(f"on_match must be one of {ON_MATCH}")
    merged_sources = {"custom_fields": any(r.get("custom_fields") for r in rows),
                      "function": next((r["function"] for r in rows if r.get("function")), None),
                      "department": next((r["department"] for r in rows if r.get("department")), None),
                      "addresses": [a for r in rows for a in r.get("addresses") or [] if a.get("country")][:1],
                      "phones": [p for r in rows for p in r.get("phones") or []
                                 if not (p.get("number") or "").strip().startswith("+")][:1]}
    outcomes: list[RowOutcome] = []
    fresh: list[tuple[int, Contact, list[str]]] = []  # (row index, new contact, claimed identities)
    label_keys = lambda index: [*labels, *(row_labels[index] if row_labels else [])]  # noqa: E731
    current_labels = label_generations(uow, account_id, [key for index in range(len(rows)) for key in label_keys(index)])
    with uow:
        # an update re-checks the matched contact's own custom values too
        fields = uow.custom_fields.find_or_blank(account_id, field_set_id(account_id)) if on_match == "update" else \
            custom_fields_for(uow, account_id, merged_sources)
        types = fields.types
        options = option_keys_for(uow, account_id, merged_sources)
        region = phone_region_for(uow, account_id, merged_sources, default_region)
        generations = {**options, "custom_fields": fields.generations, "labels": current_labels}
        made: list[tuple[int, Contact]] = []
        earlier = EarlierRows()
        follows: dict[int, int] = {}  # row index -> index of the earlier row of the batch that is the same person
        row_secret = uow.cipher.secret(ROW_IDS_SECRET.format(account_id=account_id))
        for index, details in enumerate(rows):
            try:
                contact = Contact.create(account_id, details, contact_id=_row_id(row_secret, details),
                                         phone_region=region, custom_field_types=types, options=options,
                                         labels=label_keys(index), generations=generations)
            except CrmError as exc:
                if is_transient(exc):
                    raise  # an outage is no fault of the row (see crm_platform.jobs)
                outcomes.append(RowOutcome("failed", reason=exc.detail, errors=getattr(exc, "errors", {})))
                continue
            outcomes.append(RowOutcome("created", contact.id))
            if on_match != "create" and (first := earlier.same_person(index, contact)) is not None:
                follows[index] = first  # not claimed: it matches whatever that row's contact turns out to be
                continue
            made.append((index, contact))
        claims = duplicates.claim_identities_of_many(uow, [c for _, c in made], allow_duplicates=on_match == "create")
        for (index, contact), claimed in zip(made, claims):
            if isinstance(claimed, DuplicateContact):
                outcomes[index] = RowOutcome("matched", claimed.extra["existing_contact_id"], reason=claimed.detail)
            else:
                fresh.append((index, contact, claimed))
        while True:
            try:
                refused = set(uow.contacts.add_new_in_bulk([contact for _, contact, _ in fresh]))
                break
            except SubjectErased as erased:  # a batch run again after an erasure: no key is made again
                fresh = _without_erased(uow, fresh, outcomes, set(erased.subjects))
        gone = deleted_since(account_id, [fresh[position][1].id for position in refused]) if refused else set()
        again: list[tuple[int, Contact]] = []
        for position, (index, contact, claimed) in enumerate(fresh):
            if position in refused and contact.id in gone:  # imported before, then deleted: import it anew
                duplicates.release(uow, claimed, contact.id)
                again.append((index, Contact.create(account_id, rows[index], phone_region=region,
                                                    custom_field_types=types, options=options,
                                                    labels=contact.details["labels"], generations=generations)))
            elif position in refused:  # this very row is stored: a re-run, or the same file again
                outcomes[index] = RowOutcome("skipped", contact.id, reason=IMPORTED_BEFORE)
        claims = duplicates.claim_identities_of_many(uow, [c for _, c in again], allow_duplicates=on_match == "create")
        stored: list[tuple[int, Contact]] = []
        for (index, contact), claimed in zip(again, claims):
            if isinstance(claimed, DuplicateContact):  # someone else has it now: a match like any other
                outcomes[index] = RowOutcome("matched", claimed.extra["existing_contact_id"], reason=claimed.detail)
            else:
                stored.append((index, contact))
        uow.contacts.add_new_in_bulk([contact for _, contact in stored])
        for index, contact in stored:
            outcomes[index] = RowOutcome("created", contact.id)
    for index, first in follows.items():  # rows are in order: the earlier row's outcome is settled
        outcomes[index] = RowOutcome("matched", outcomes[first].contact_id, reason=SAME_AS_EARLIER_ROW)
    matched = {outcome.contact_id for outcome in outcomes if outcome.status == "matched"}
    restricted = restrictions.restricted(account_id, matched) if on_match == "update" and matched else set()
    for index, outcome in enumerate(outcomes):
        if outcome.status == "matched" and outcome.contact_id in restricted:
            outcomes[index] = RowOutcome("failed", outcome.contact_id,
                                         reason=ProcessingRestricted([outcome.contact_id]).detail)
        elif outcome.status == "matched":
            outcomes[index] = _on_match(uow, account_id, outcome, rows[index], on_match, label_keys(index), region,
                                        types, options, generations)
    return outcomes


def _without_erased(uow: UnitOfWork, fresh: list, outcomes: list[RowOutcome], erased: set[str]) -> list:
    """The new contacts but those of erased subjects: those rows are skipped and their claims released."""
    kept = []
    for index, contact, claimed in fresh:
        if data_subject(contact.id) in erased:
            duplicates.release(uow, claimed, contact.id)
            outcomes[index] = RowOutcome("skipped", reason=ERASED)
        else:
            kept.append((index, contact, claimed))
    return kept


def _on_match(uow, account_id, outcome, details, on_match, labels, region, types, options, generations) -> RowOutcome:
    if on_match != "update":
        return RowOutcome("skipped", outcome.contact_id, reason=outcome.reason)

    def fill(contact: Contact) -> bool:
        """The row's single values win; list entries are added, never dropped; labels are added."""
        before = contact.revision
        row = normalize_details(details, region, types, options)
        merged = merge_details(contact.details, [row])
        merged.update({name: row[name] for name in SINGLE_FIELDS if row.get(name)})
        merged["custom_fields"] = {**contact.details.get("custom_fields", {}), **row["custom_fields"]}
        contact.update(contact.revision, {name: merged.get(name) for name in EDITABLE_FIELDS},
                       phone_region=region, custom_field_types=types, generations=generations)
        for key in labels:
            contact.assign_label(key, generations["labels"][key])
        return contact.revision != before

    def fill_and_claim(contact: Contact) -> bool:
        """The emails and phones the row adds are claimed before the commit, as an API update does.

        Claims of a commit that then fails are left: stale, the next claimer takes them over
        (duplicates._holds), whereas releasing them could free what a stored commit holds.
        """
        before = duplicates.identity_ids(contact)
        changed = fill(contact)
        duplicates.claim_identities(uow, contact, allow_duplicates=False, skip=before)
        return changed

    try:
        contact, changed = change_contact(uow, account_id, outcome.contact_id, fill_and_claim)
    except ContactNotFound:  # matched a contact another writer is still creating: nothing stored to update yet
        return RowOutcome("skipped", outcome.contact_id, reason=SAME_AS_EARLIER_ROW)
    except DuplicateContact as exc:  # one identity, one live contact: the row is left whole for the user to settle
        return _held_by_another(outcome.contact_id, exc)
    except CrmError as exc:
        if is_transient(exc):
            raise  # an outage is no fault of the row (see crm_platform.jobs)
        return RowOutcome("failed", outcome.contact_id, reason=exc.detail, errors=getattr(exc, "errors", {}))
    return RowOutcome("updated" if changed else "skipped", contact.id, reason=None if changed else NOTHING_NEW)


def _held_by_another(contact_id: str, exc: DuplicateContact) -> RowOutcome:
    held, holder = exc.extra["matched"], exc.extra["existing_contact_id"]  # a normalised email, or an E.164 number
    message = (f"{held} belongs to another contact ({holder}); nothing of this row was imported: "
               "remove it from the row, or merge the two contacts, then import the row again")
    return RowOutcome("failed", contact_id, reason=message, errors={"emails" if "@" in held else "phones": [message]})


class EarlierRows:
    """The rows of a batch by the identities (normalised emails and phones) they bring: who is the same person."""

    def __init__(self) -> None:
        self._first_with: dict[str, int] = {}  # identity -> index of the first row of that person

    def same_person(self, index: int, contact: Contact) -> int | None:
        """The first earlier row sharing an email or phone with this one (None if none); this row's are noted."""
        mine = duplicates.identity_ids(contact)
        first = min((self._first_with[identity] for identity in mine if identity in self._first_with), default=None)
        for identity in mine:
            self._first_with.setdefault(identity, index if first is None else first)
        return first


def _row_id(secret: bytes, details: dict) -> str:
    """The row's contact id: a keyed hash (HMAC-SHA256) of its content, as a UUID."""
    canonical = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)
    return str(uuid.UUID(bytes=hmac.new(secret, canonical.encode(), hashlib.sha256).digest()[:16], version=4))
