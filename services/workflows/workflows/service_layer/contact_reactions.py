"""What workflows does when contacts come, merge or go (typed events of `contacts.events`)."""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.contracts.contacts import ContactCreatedFact, ContactDeletedFact, ContactErasedFact, ContactsMergedFact
from crm_platform.personal_data import SubjectErased
from crm_platform.timeline_follower import MergingTimelines
from crm_platform.unit_of_work import retried

from workflows.domain.cards import ARCHIVED, CARD_SUBJECT
from workflows.service_layer.ports import CardsIndex, ContactsDirectory, ContactTimelines, TasksIndex
from workflows.service_layer.task_reactions import relink_tasks
from workflows.service_layer.unit_of_work import UnitOfWork


def note_contact(event: ContactCreatedFact, contacts: ContactsDirectory) -> None:
    contacts.record_existing(event.account_id, event.contact_id)


def relink_merged_contacts(event: ContactsMergedFact, uow: UnitOfWork, cards: CardsIndex, tasks: TasksIndex,
                           contacts: ContactsDirectory, timeline_follower: MergingTimelines) -> None:
    """Cards and tasks of the merged contacts now link the surviving one, and their timeline entries are its
    (issue 14). Idempotent: relinked ones link it, moved entries are moved."""
    contacts.record_existing(event.account_id, event.contact_id)
    for source_id in event.source_ids:
        contacts.record_merged(event.account_id, source_id, event.contact_id)
        _relink(event.account_id, source_id, event.contact_id, uow, cards)
        relink_tasks(event.account_id, source_id, event.contact_id, uow, tasks)
        timeline_follower.move_contact(event.account_id, source_id, event.contact_id)


def drop_deleted_contact(event: ContactDeletedFact, uow: UnitOfWork, cards: CardsIndex, tasks: TasksIndex,
                         contacts: ContactsDirectory) -> None:
    """A merged-away contact's cards and tasks go to the survivor; otherwise cards that linked only it are
    archived and others lose the link (the first other contact becomes the main one), and tasks lose the link."""
    merged_into = getattr(event, "merged_into", None)
    if merged_into is not None:
        contacts.record_merged(event.account_id, event.contact_id, merged_into)
    else:
        contacts.record_gone(event.account_id, event.contact_id)
    _relink(event.account_id, event.contact_id, merged_into, uow, cards)
    relink_tasks(event.account_id, event.contact_id, merged_into, uow, tasks)


def erase_contact_from_cards(event: ContactErasedFact, uow: UnitOfWork, cards: CardsIndex, tasks: TasksIndex,
                             contacts: ContactsDirectory, timeline: ContactTimelines) -> int:
    """Contacts erased the contact: so does workflows (`erase_contact`). The number of cards and tasks changed."""
    erased = erase_contact(event.account_id, event.contact_id, uow, cards, tasks, contacts, timeline)
    return len(erased.card_ids) + len(erased.task_ids)


@dataclass(frozen=True)
class ContactErasure:
    card_ids: frozenset[str]  # the cards this erasure changed (not those found already erased)
    key_destroyed: bool  # whether this erasure shredded the contact's key (False: there was none, or no more)
    task_ids: frozenset[str] = frozenset()  # the tasks it changed


def erase_contact(account_id: str, contact_id: str, uow: UnitOfWork, cards: CardsIndex, tasks: TasksIndex,
                  contacts: ContactsDirectory, timeline: ContactTimelines) -> ContactErasure:
    """As a deletion, but the cards whose main contact it was, and its tasks, first blank their personal fields,
    and then the contact's workflows key is shredded (the key vault is shared with contacts, which shreds its own subject):
    no event of its cards can be opened again, and nothing it said is sealed under another contact's key. Last, the
    contact's timeline entries are deleted: after the shred, which is how the timeline consumer knows the contact
    is erased and makes no entry for it again (crm_platform.timeline_follower).

    Idempotent: a card whose every event was sealed under the shredded key is no longer found. Contacts' erasure
    (ContactErased) and a privacy request (ErasureRequested) both come here, in two loops of the same worker, at
    once: a card written by the other meanwhile is read again and the step applied again (`_relink`)."""
    contacts.record_gone(account_id, contact_id)
    changed = _relink(account_id, contact_id, None, uow, cards, erased=True)
    changed_tasks = relink_tasks(account_id, contact_id, None, uow, tasks, erased=True)
    shredded = uow.cipher.shred(CARD_SUBJECT.format(contact_id=contact_id))
    timeline.forget_contact(account_id, contact_id)
    return ContactErasure(frozenset(changed), shredded, frozenset(changed_tasks))


RELINK_ATTEMPTS = 5


def _relink(account_id: str, gone_id: str, survivor_id: str | None, uow: UnitOfWork, cards: CardsIndex,
            erased: bool = False) -> set[str]:
    """The ids of the cards changed: all of them read and stepped in one unit of work, written with one bulk
    append (a person's 50 cards were 50 reads of their key and 150 statements of commits, issue 13); a card written
    meanwhile (its commit refused as a ConcurrencyConflict) is then read again and the step applied again, on its
    own, which changes nothing where the other writer did the same."""
    stepped, lost = _relink_in_bulk(account_id, cards.of_contact(account_id, gone_id), gone_id, survivor_id, uow,
                                    erased)
    changed = {card_id for card_id in stepped if card_id not in lost}
    for card_id in lost:
        if retried(lambda: _relink_card(account_id, card_id, gone_id, survivor_id, uow, erased), RELINK_ATTEMPTS):
            changed.add(card_id)
    return changed


def _relink_in_bulk(account_id: str, card_ids: list[str], gone_id: str, survivor_id: str | None, uow: UnitOfWork,
                    erased: bool) -> tuple[list[str], list[str]]:
    """(The cards stepped, those of them whose write lost a race or could not be sealed: to do one by one.)"""
    stepped = []
    with uow, uow.cipher.keys_ready([CARD_SUBJECT.format(contact_id=gone_id)]):  # one read of their usual key
        found = uow.cards.find_each(account_id, card_ids)  # one bulk read, not a round trip per card
        for card_id in dict.fromkeys(card_ids):
            card = found.get(card_id)
            if card is not None and _step(card, gone_id, survivor_id, erased):
                stepped.append(card_id)
        try:
            return stepped, uow.commit_in_bulk()
        except SubjectErased:  # a key shredded meanwhile (the other erasure path): nothing stored, each on its own
            return stepped, stepped


def _relink_card(account_id: str, card_id: str, gone_id: str, survivor_id: str | None, uow: UnitOfWork,
                 erased: bool) -> bool:
    """Whether the card was changed. A key shredded meanwhile (SubjectErased on sealing: the card's contact was
    erased by the other path) leaves nothing to do: what was sealed under it can no longer be read."""
    with uow:
        card = uow.cards.find(account_id, card_id)
        if card is None or not _step(card, gone_id, survivor_id, erased):
            return False
        try:
            uow.commit()
        except SubjectErased:
            return False
        return True


def _step(card, gone_id: str, survivor_id: str | None, erased: bool) -> bool:
    """Blank, relink or archive the card in memory; whether that recorded anything."""
    if erased and card.contact_id == gone_id:
        card.erase_personal_data()
    linked = [c for c in [card.contact_id, *card.other_contact_ids] if c != gone_id]
    if survivor_id is not None:
        replaced = [survivor_id if c == gone_id else c for c in [card.contact_id, *card.other_contact_ids]]
        card.relink_contacts(replaced[0], replaced[1:])
    elif linked:
        card.relink_contacts(linked[0], linked[1:])
    elif card.status != ARCHIVED:
        card.archive()
    return bool(card.pending)
