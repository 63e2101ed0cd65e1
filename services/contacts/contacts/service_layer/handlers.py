"""One handler per command: load, ask the domain, commit."""
from __future__ import annotations

from typing import Callable, Iterable

from crm_platform.event_store import ConcurrencyConflict
from crm_platform.liveness import still_working
from crm_platform.outages import is_transient
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound
from contacts.domain.model import Contact, OptionKeys
from contacts.domain.contact_settings import settings_id
from contacts.domain.custom_fields import CustomFieldSet, field_set_id
from contacts.domain.option_lists import KIND_OF_FIELD, option_list_id
from contacts.service_layer import duplicates
from contacts.service_layer.unit_of_work import UnitOfWork


def create_contact(cmd: commands.CreateContact, uow: UnitOfWork) -> Contact:
    with uow:
        fields = custom_fields_for(uow, cmd.account_id, cmd.details)
        options = option_keys_for(uow, cmd.account_id, cmd.details)
        region = phone_region_for(uow, cmd.account_id, cmd.details, cmd.phone_region)
        contact = Contact.create(cmd.account_id, cmd.details, phone_region=region, custom_field_types=fields.types,
                                 options=options, generations={**options, "custom_fields": fields.generations})
        claimed = duplicates.claim_identities(uow, contact, cmd.allow_duplicates)
        uow.contacts.add(contact)
        commit_or_release(uow, claimed, contact.id)
    return contact


def update_contact(cmd: commands.UpdateContact, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Contact:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    with uow:
        contact = uow.contacts.get(cmd.account_id, cmd.contact_id)
        before = duplicates.identity_ids(contact)
        fields = custom_fields_for(uow, cmd.account_id, cmd.changes, contact.details)
        options = option_keys_for(uow, cmd.account_id, cmd.changes)  # only what changes is checked
        # every number is read again on a change, so the region matters whenever the contact has one
        region = phone_region_for(uow, cmd.account_id, {**contact.details, **cmd.changes}, cmd.phone_region)
        contact.update(cmd.revision, cmd.changes, phone_region=region, custom_field_types=fields.types, options=options,
                       generations={**options, "custom_fields": fields.generations})
        claimed = duplicates.claim_identities(uow, contact, cmd.allow_duplicates, skip=before)
        commit_or_release(uow, claimed, contact.id)
        duplicates.release(uow, sorted(before - duplicates.identity_ids(contact)), contact.id)
    return contact


def delete_contact(cmd: commands.DeleteContact, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> None:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    with uow:
        contact = uow.contacts.get(cmd.account_id, cmd.contact_id)
        held = sorted(duplicates.identity_ids(contact))
        contact.delete(cmd.revision)
        uow.commit()
        duplicates.release(uow, held, contact.id)


def phone_region_for(uow: UnitOfWork, account_id: str, details: dict, default: str) -> str:
    """The account's phone region, read only when a number is typed without its +country code."""
    if not any(not (p.get("number") or "").strip().startswith("+") for p in details.get("phones") or []):
        return default
    return uow.settings.find_or_blank(account_id, settings_id(account_id)).phone_region or default


def option_keys_for(uow: UnitOfWork, account_id: str, details: dict) -> OptionKeys:
    """The allowed keys, with their generations, of each option list these details use (others are not read)."""
    used = {"function": bool(details.get("function")), "department": bool(details.get("department")),
            "country": any(a.get("country") for a in details.get("addresses") or [])}
    return {field: uow.option_lists.find_or_blank(account_id, option_list_id(account_id, KIND_OF_FIELD[field]))
            .generations for field, is_used in used.items() if is_used}


def custom_fields_for(uow: UnitOfWork, account_id: str, *sources: dict) -> CustomFieldSet:
    """The account's custom field definitions (types, generations), read only when a custom value is involved.

    Most commands carry none, and skipping the read keeps them off a lookup
    that misses (a scan on FerretDB) for accounts that defined no field: they get an empty set.
    """
    if not any(source.get("custom_fields") for source in sources):
        return CustomFieldSet(account_id)
    return uow.custom_fields.find_or_blank(account_id, field_set_id(account_id))


def commit_or_release(uow: UnitOfWork, claimed: list[str], contact_id: str) -> None:
    """Commit; free what the contact claimed only if the commit surely failed. After an outage the commit may
    be stored even so (the event store says so when it can tell): its claims are kept, and if it was not
    stored they go stale and are taken over (duplicates.IN_FLIGHT), so no retry ever makes a duplicate."""
    try:
        uow.commit()
    except Exception as exc:
        if not is_transient(exc):
            duplicates.release(uow, claimed, contact_id)
        raise


def change_contact(
    uow: UnitOfWork, account_id: str, contact_id: str, change: Callable[[Contact], bool], attempts: int = 3
) -> tuple[Contact, bool]:
    """Apply a change that needs no revision from the caller; (the contact, whether it changed).

    For changes that commute (labels, clean-ups after a definition is removed):
    on a concurrent write we simply reload and apply again.
    """
    for attempt in range(attempts):
        try:
            with uow:
                contact = uow.contacts.get(account_id, contact_id)
                changed = change(contact)
                uow.commit()
            return contact, changed
        except ConcurrencyConflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def change_each(uow: UnitOfWork, account_id: str, contact_ids: Iterable[str], change: Callable[[Contact], bool]) -> int:
    """Apply a revision-free change to each contact (skipping those deleted meanwhile); return how many changed.

    A clean-up may change 100,000 contacts in one event: it says it is still working after each, so
    that its worker neither takes it for stuck nor loses its place in the consumer group.
    """
    changed = 0
    for contact_id in contact_ids:
        try:
            changed += change_contact(uow, account_id, contact_id, change)[1]
        except ContactNotFound:
            pass  # deleted meanwhile: nothing to clean up
        still_working()  # not while an error unwinds: a failing keep-alive poll would hide it
    return changed


def set_phone_region(cmd: commands.SetPhoneRegion, uow: UnitOfWork) -> str:
    with uow:
        settings = uow.settings.find_or_blank(cmd.account_id, settings_id(cmd.account_id))
        settings.set_phone_region(cmd.region)
        uow.commit()
    return settings.phone_region


def account_phone_region(account_id: str, uow: UnitOfWork) -> str | None:
    """The region the account chose, None if it kept the deployment's default."""
    with uow:
        return uow.settings.find_or_blank(account_id, settings_id(account_id)).phone_region
