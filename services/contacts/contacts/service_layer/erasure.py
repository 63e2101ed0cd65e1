"""Erasing a person (the right to erasure): their contact, and every contact merged with it, forgotten for good.

A merge said that its contacts are one person, so erasing any of them erases
the family: the contact it was merged into (if it was), and every contact
merged into that one, recursively. For each contact of the family:

1. `ContactErased` is recorded: the contact is gone, and every read model
   drops what it kept of it, its notes and its files when it applies that
   event (at once, not when some later event of the contact would come);
2. every identity claim it holds (stale ones too) is deleted;
3. its key is shredded and the subject marked erased: nothing sealed for it
   (events, notes, files) opens again, and nothing new is ever sealed for it;
4. its files' blobs are deleted (unreadable already: this frees the space).

Each step is safe to repeat, so running the command again finishes an
erasure that stopped midway. The merge links are read from the events' clear
fields (`merged_into`, `source_ids`), which stay readable after shredding.
"""
from __future__ import annotations

from typing import Callable

from crm_platform.envelope import EventEnvelope
from crm_platform.event_store import ConcurrencyConflict

from contacts.domain import commands
from contacts.domain.attachments import picture_id
from contacts.domain.errors import ContactNotFound
from contacts.domain.events import ContactDeleted, ContactErased, ContactsMerged, data_subject
from contacts.domain.holdings import holdings_id
from contacts.domain.model import Contact
from contacts.service_layer.unit_of_work import UnitOfWork

ItemsOf = Callable[[str, str], list[str]]  # (account id, contact id) -> ids of its live attachments (read model)


def erase_contact(cmd: commands.EraseContact, uow: UnitOfWork, attachment_ids_of: ItemsOf) -> list[str]:
    """Erase the contact and its merge family; the ids erased. ContactNotFound if it is not the account's."""
    family = merge_family(uow, cmd.account_id, cmd.contact_id)
    for contact_id in family:
        blob_ids = _blob_ids(uow, cmd.account_id, contact_id, attachment_ids_of)  # readable until shredded
        _record_erasure(uow, cmd.account_id, contact_id)
        uow.claims.release_all(contact_id)
        uow.cipher.shred(data_subject(contact_id))
        if uow.files is not None:
            uow.files.discard(blob_ids)
    return family


def _blob_ids(uow: UnitOfWork, account_id: str, contact_id: str, attachment_ids_of: ItemsOf) -> list[str]:
    """The blobs of the contact's live files and profile picture."""
    blob_ids: list[str] = []
    with uow:
        filed = uow.holdings.find_or_blank(account_id, holdings_id(contact_id)).attachment_ids  # not projected yet too
        for attachment_id in dict.fromkeys([*filed, *attachment_ids_of(account_id, contact_id), picture_id(contact_id)]):
            attachment = uow.attachments.find(account_id, attachment_id)
            if attachment is not None and attachment.live and attachment.contact_id == contact_id:
                blob_ids += attachment.file.blob_ids
    return blob_ids


def merge_family(uow: UnitOfWork, account_id: str, contact_id: str) -> list[str]:
    """The contact that absorbed this one (or itself), then every contact merged into it, recursively."""
    history = _history(uow, account_id, contact_id)
    if not history:
        raise ContactNotFound(contact_id)
    survivor, seen = contact_id, {contact_id}
    while (into := _merged_into(history)) and into not in seen:
        seen.add(into)
        history = _history(uow, account_id, into)
        if not history:
            break
        survivor = into
    family: list[str] = []
    waiting = [survivor]
    while waiting:
        current = waiting.pop(0)
        if current in family:
            continue
        family.append(current)
        waiting += [source for envelope in _history(uow, account_id, current)
                    if envelope.event_type == ContactsMerged.event_type()
                    for source in envelope.payload.get("source_ids", [])]
    return family


def _record_erasure(uow: UnitOfWork, account_id: str, contact_id: str, attempts: int = 3) -> None:
    for attempt in range(attempts):
        history = _history(uow, account_id, contact_id)
        if not history or any(envelope.event_type == ContactErased.event_type() for envelope in history):
            return  # not a contact of this account (a merge link gone astray), or erased already
        try:
            with uow:
                contact = Contact.to_erase(contact_id, account_id, history[-1].aggregate_version)
                contact.erase()
                uow.contacts.add(contact)
                uow.commit()
            return
        except ConcurrencyConflict:  # written meanwhile: record it after that write
            if attempt == attempts - 1:
                raise


def _history(uow: UnitOfWork, account_id: str, contact_id: str) -> list[EventEnvelope]:
    with uow:  # the envelopes: merge links stay readable after shredding
        return uow.contacts.history(account_id, contact_id)


def _merged_into(history: list[EventEnvelope]) -> str | None:
    deleted = [e for e in history if e.event_type == ContactDeleted.event_type() and e.payload.get("merged_into")]
    return deleted[-1].payload["merged_into"] if deleted else None
