"""Filing a contact's new notes and files in its holdings, and handing them over when it is merged.

See domain/holdings.py for why both steps together lose nothing: an item is filed after it is stored, and
the holdings are handed over only at the revision whose items were all moved; an item filed on holdings
handed over already moves on to where they went. Each step is safe to repeat.
"""
from __future__ import annotations

from crm_platform.event_store import ConcurrencyConflict

from contacts.domain import commands
from contacts.domain.attachments import picture_id
from contacts.domain.errors import MergeNotFinished
from contacts.domain.holdings import holdings_id
from contacts.service_layer import moving
from contacts.service_layer.unit_of_work import UnitOfWork

ATTEMPTS = 10  # writers that keep coming in between: give up with a 409 rather than loop


def file_items(uow: UnitOfWork, account_id: str, contact_id: str, note_ids=(), attachment_ids=()) -> str:
    """File items that are on the contact; if it was merged, move them along and file them there.

    Returns the contact that holds them now.
    """
    note_ids, attachment_ids = list(note_ids), list(attachment_ids)
    for _ in range(ATTEMPTS):
        try:
            with uow:
                holdings = uow.holdings.find_or_blank(account_id, holdings_id(contact_id))
                if holdings.handed_over_to is None:
                    holdings.file(note_ids, attachment_ids)
                    uow.commit()
                    return contact_id
            to = holdings.handed_over_to
            note_ids = [n for n in note_ids if moving.move_note(uow, account_id, n, contact_id, to)]
            if attachment_ids:
                attachment_ids = moving.move_attachments(
                    commands.MoveAttachments(account_id, contact_id, to, tuple(attachment_ids)), uow)
            contact_id = to
        except ConcurrencyConflict:  # another writer filed or moved meanwhile: look again
            continue
    raise MergeNotFinished(f"the notes or files of contact {contact_id} kept changing; send the request again",
                           contact_id=contact_id)


def hand_over(uow: UnitOfWork, account_id: str, source_id: str, target_id: str, legacy_note_ids=(),
              legacy_attachment_ids=()) -> None:
    """Move everything the (deleted) source holds to the target, file it there, then hand the holdings over.

    The legacy ids (from the read models) cover items stored before contacts had holdings.
    """
    for _ in range(ATTEMPTS):
        try:
            with uow:
                held = uow.holdings.find_or_blank(account_id, holdings_id(source_id))
            if held.handed_over_to is not None:
                return
            note_ids = list(dict.fromkeys([*held.note_ids, *legacy_note_ids]))
            attachment_ids = list(dict.fromkeys([*held.attachment_ids, *legacy_attachment_ids]))
            for note_id in note_ids:
                moving.move_note(uow, account_id, note_id, source_id, target_id)
            moved = moving.move_attachments(
                commands.MoveAttachments(account_id, source_id, target_id, tuple(attachment_ids)), uow)
            # moved first, then filed: filed on a target merged away meanwhile, they follow it
            kept = [i for i in attachment_ids if i != picture_id(source_id)]
            file_items(uow, account_id, target_id, note_ids, list(dict.fromkeys([*kept, *moved])))
            with uow:
                current = uow.holdings.find_or_blank(account_id, holdings_id(source_id))
                if current.revision != held.revision:
                    continue  # items were filed since they were read: move those too
                current.hand_over(target_id)
                uow.commit()
            return
        except ConcurrencyConflict:
            continue
    raise MergeNotFinished(f"the notes or files of contact {source_id} kept changing during the merge; "
                           "send the merge again to finish it", contact_id=source_id)
