"""The duplicate check: a contact's emails and phones are claimed before its events are stored."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crm_platform.identity_claims import Claim

from contacts.adapters.identity_claims import identities
from contacts.domain.errors import ContactNotFound, DuplicateContact
from contacts.domain.model import Contact
from contacts.service_layer.unit_of_work import UnitOfWork

IN_FLIGHT = timedelta(seconds=30)  # far longer than a command takes; a claim older than this with no contact is stale


def claim_identities(uow: UnitOfWork, contact: Contact, allow_duplicates: bool, skip: set[str] = frozenset()) -> list[str]:
    """Claim the contact's identities (but `skip`); DuplicateContact if a live contact holds one.

    Returns what was claimed, for `release` if the command then fails. With
    `allow_duplicates`, an identity held by another live contact stays theirs.
    Two or more are claimed in order by one bulk insert first, which stops at the
    first one held already (a new contact's email and phone: one statement, not
    two, on every creation); that one and those after it are settled one by one,
    in order, as a single one is. In one order for every claimer (sorted: emails,
    then phones): two creations of the same contact at once cannot each take a
    part of it and both be refused, whatever order their emails came in.
    """
    wanted = [(identity, value) for identity, value in _in_claim_order(contact) if identity not in skip]
    claimed: list[str] = []
    if len(wanted) > 1:
        taken = uow.claims.claim_in_order([(identity, contact.id) for identity, _ in wanted])
        claimed, wanted = [identity for identity, _ in wanted[:taken]], wanted[taken:]
    return _claim_each(uow, contact, wanted, claimed, allow_duplicates)


def _claim_each(uow: UnitOfWork, contact: Contact, wanted: list[tuple[str, str]], claimed: list[str],
                allow_duplicates: bool) -> list[str]:
    """Claim each (identity, value) in turn, added to `claimed`; a stale claim is taken over. DuplicateContact
    (everything in `claimed` released first) at the first one a live contact holds, unless `allow_duplicates`."""
    for identity, value in wanted:
        while True:
            held = uow.claims.claim(identity, contact.id)
            if held is None:
                claimed.append(identity)
                break
            if _holds(uow, contact.account_id, held, identity):
                if allow_duplicates:
                    break  # it stays theirs
                release(uow, claimed, contact.id)
                raise DuplicateContact(held.owner, value)
            if uow.claims.take_over(identity, held.owner, contact.id):  # stale: the owner is gone or changed
                claimed.append(identity)
                break
            # another writer moved the claim meanwhile: look again
    return claimed


def claim_identities_of_many(uow: UnitOfWork, contacts: list[Contact], allow_duplicates: bool) -> list:
    """`claim_identities` for many new contacts: one bulk claim, then the usual checks only where it collided.

    Returns, per contact, what it claimed, or the DuplicateContact it ran into.
    """
    pairs = [(identity, contact.id) for contact in contacts for identity, _ in identities(contact.account_id, contact.details)]
    taken = uow.claims.claim_new(pairs)
    results: list = []
    for contact in contacts:
        mine = [identity for identity, _ in identities(contact.account_id, contact.details)]
        if not taken.intersection(mine):
            results.append(mine)
            continue
        try:  # one by one: the bulk claim above was this contact's
            results.append(_claim_each(uow, contact, _in_claim_order(contact), [], allow_duplicates))
        except DuplicateContact as exc:
            release(uow, mine, contact.id)  # the bulk claim took the others: this contact will not exist
            results.append(exc)
    return results


def _in_claim_order(contact: Contact) -> list[tuple[str, str]]:
    """The contact's (identity, value) pairs sorted by identity ("<account>|email|..." before "<account>|phone|..."):
    the one order every claimer takes them in."""
    return sorted(identities(contact.account_id, contact.details))


def release(uow: UnitOfWork, claimed: list[str], contact_id: str) -> None:
    for identity in claimed:
        uow.claims.release(identity, contact_id)


def identity_ids(contact: Contact) -> set[str]:
    return {identity for identity, _ in identities(contact.account_id, contact.details)}


def _holds(uow: UnitOfWork, account_id: str, held: Claim, identity: str) -> bool:
    """Whether the claim's owner is a live contact that still has this identity (else the claim is stale).

    A contact is stored just after it claims: an owner not stored yet whose claim
    is recent is a creation in flight (a concurrent duplicate), not a stale claim.
    """
    try:
        owner_contact = uow.contacts.get(account_id, held.owner)
    except ContactNotFound:
        if not uow.contacts.ever_existed(held.owner):
            return datetime.now(timezone.utc) - held.claimed_at < IN_FLIGHT
        try:  # deleted or erased -- or stored between our two reads: look once more
            owner_contact = uow.contacts.get(account_id, held.owner)
        except ContactNotFound:
            return False
    return identity in identity_ids(owner_contact)
