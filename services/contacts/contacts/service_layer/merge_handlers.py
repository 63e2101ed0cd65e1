"""Merging up to five contacts into one: the target takes them in, they are deleted, their notes and files follow.

There are no multi-document transactions, so each step is based on what it
read and is safe to repeat; sending the same merge again finishes it, and
once finished, changes nothing.

1. The target records ContactsMerged with what the sources hold, and the
   revision of each it took in (a source taken in at its current revision
   already is not taken in again).
2. For each source, read in this order: the source; the contacts it took in
   itself; the target. A source changed since it was taken in (a concurrent
   edit) is taken in again first: its change is folded into the target, never
   lost. Then the source is deleted (ContactDeleted with merged_into) based on
   the revision read: a change in between makes the step start over. The merge
   stops (nothing deleted) if the target is no longer live (404), or if the
   source took in a live contact in a merge of its own not finished yet (409):
   deleting it would strand that merge, and two opposite merges (A into B, B
   into A) could delete both. Of two opposite merges, the one into the lower
   contact id goes on, the other stops.
3. The source's holdings (its notes and files, read from the event store) move
   to the target (service_layer/holdings.py).
4. The target claims the emails and phones the sources held.
"""
from __future__ import annotations

from typing import Callable

from crm_platform.event_store import ConcurrencyConflict
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound, MergeNotFinished
from contacts.domain.model import Contact, check_sources
from contacts.service_layer import duplicates, holdings
from contacts.service_layer.handlers import commit_or_release
from contacts.service_layer.unit_of_work import UnitOfWork

ItemsOf = Callable[[str, str], list[str]]  # (account id, contact id) -> ids of its live notes, or attachments
ATTEMPTS = 10  # concurrent edits of a source that keep coming in between: give up with a 409 rather than loop


def merge_contacts(cmd: commands.MergeContacts, uow: UnitOfWork, notes_of: ItemsOf,
                   attachment_ids_of: ItemsOf, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Contact:
    """`notes_of` and `attachment_ids_of` (read models) only add items stored before contacts had holdings."""
    restrictions.refuse_edits(cmd.account_id, [cmd.target_id, *cmd.source_ids])  # Art. 18: kept, not edited
    check_sources(cmd.target_id, list(cmd.source_ids))
    _take_in(uow, cmd)
    for source_id in cmd.source_ids:
        _delete_into_target(uow, cmd.account_id, source_id, cmd.target_id)
        holdings.hand_over(uow, cmd.account_id, source_id, cmd.target_id, notes_of(cmd.account_id, source_id),
                           attachment_ids_of(cmd.account_id, source_id))
    with uow:
        target = uow.contacts.get(cmd.account_id, cmd.target_id)
    duplicates.claim_identities(uow, target, allow_duplicates=True)  # what the sources held is the target's now
    return target


def _take_in(uow: UnitOfWork, cmd: commands.MergeContacts) -> None:
    with uow:
        target = uow.contacts.get(cmd.account_id, cmd.target_id)
        sources = [source for source_id in cmd.source_ids
                   if (source := _live_source(uow, cmd.account_id, source_id, target.id)) is not None]
        fresh = [source for source in sources if target.absorbed.get(source.id) != source.revision]
        if fresh:
            _absorb(uow, target, fresh, cmd.revision)


def _delete_into_target(uow: UnitOfWork, account_id: str, source_id: str, target_id: str) -> None:
    for _ in range(ATTEMPTS):
        try:
            with uow:
                source = _live_source(uow, account_id, source_id, target_id)
                if source is None:
                    return  # deleted into the target already (an earlier run)
                _check_no_merge_of_its_own(uow, source, target_id)
                target = uow.contacts.get(account_id, target_id)  # deleted or merged away meanwhile: stop
                if target.absorbed.get(source_id) != source.revision:
                    _absorb(uow, target, [source], None)  # changed since it was taken in: take it in again
                    continue
                held = sorted(duplicates.identity_ids(source))
                source.merged_into(target_id)
                uow.commit()
            duplicates.release(uow, held, source_id)
            return
        except ConcurrencyConflict:  # the source or the target changed after it was read: read again
            continue
    raise MergeNotFinished(f"contact {source_id} kept changing during the merge; send the merge again to finish it",
                           contact_id=source_id)


def _check_no_merge_of_its_own(uow: UnitOfWork, source: Contact, target_id: str) -> None:
    for taken_in in source.absorbed:
        if taken_in == target_id and target_id < source.id:
            continue  # two opposite merges: the one into the lower id goes on
        other = uow.contacts.find(source.account_id, taken_in)
        if other is not None and not other.deleted:
            raise MergeNotFinished(
                f"contact {source.id} took in contact {taken_in} in a merge that has not finished; "
                f"send that merge again (or delete contact {taken_in}) before this one",
                contact_id=source.id, unfinished_source_id=taken_in)


def _absorb(uow: UnitOfWork, target: Contact, sources: list[Contact], revision: int | None) -> None:
    before = duplicates.identity_ids(target)
    target.absorb(sources, revision)
    claimed = duplicates.claim_identities(uow, target, allow_duplicates=True, skip=before)  # sources keep theirs
    commit_or_release(uow, claimed, target.id)


def _live_source(uow: UnitOfWork, account_id: str, source_id: str, target_id: str) -> Contact | None:
    """The source to merge; None if an earlier run of this merge already merged it into the target."""
    source = uow.contacts.find(account_id, source_id)
    if source is not None and source.deleted and source.merged_into_id == target_id:
        return None
    if source is None or source.deleted:
        raise ContactNotFound(source_id)
    return source
