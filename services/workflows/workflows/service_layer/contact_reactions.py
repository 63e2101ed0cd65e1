"""What workflows does when contacts come, merge or go (typed events of `contacts.events`)."""
from __future__ import annotations

from crm_platform.contracts.contacts import ContactCreatedFact, ContactDeletedFact, ContactErasedFact, ContactsMergedFact

from workflows.domain.cards import ARCHIVED, CARD_SUBJECT
from workflows.service_layer.ports import CardsIndex, ContactsDirectory
from workflows.service_layer.unit_of_work import UnitOfWork


def note_contact(event: ContactCreatedFact, contacts: ContactsDirectory) -> None:
    contacts.record_existing(event.account_id, event.contact_id)


def relink_merged_contacts(event: ContactsMergedFact, uow: UnitOfWork, cards: CardsIndex,
                           contacts: ContactsDirectory) -> None:
    """Cards of the merged contacts now link the surviving one (idempotent: relinked cards link it already)."""
    contacts.record_existing(event.account_id, event.contact_id)
    for source_id in event.source_ids:
        contacts.record_merged(event.account_id, source_id, event.contact_id)
        _relink(event.account_id, source_id, event.contact_id, uow, cards)


def drop_deleted_contact(event: ContactDeletedFact, uow: UnitOfWork, cards: CardsIndex,
                         contacts: ContactsDirectory) -> None:
    """A merged-away contact's cards go to the survivor; otherwise cards that linked only it are archived and
    others lose the link (the first other contact becomes the main one)."""
    merged_into = getattr(event, "merged_into", None)
    if merged_into is not None:
        contacts.record_merged(event.account_id, event.contact_id, merged_into)
    else:
        contacts.record_gone(event.account_id, event.contact_id)
    _relink(event.account_id, event.contact_id, merged_into, uow, cards)


def erase_contact_from_cards(event: ContactErasedFact, uow: UnitOfWork, cards: CardsIndex,
                             contacts: ContactsDirectory) -> int:
    """As a deletion, but the cards whose main contact it was first blank their personal fields, and then the
    contact's workflows key is shredded (the key vault is shared with contacts, which shreds its own subject):
    no event of its cards can be opened again, and nothing it said is sealed under another contact's key.
    Idempotent: a card whose every event was sealed under the shredded key is no longer found. The number of
    cards it changed (a privacy erasure counts them)."""
    contacts.record_gone(event.account_id, event.contact_id)
    changed = _relink(event.account_id, event.contact_id, None, uow, cards, erased=True)
    uow.cipher.shred(CARD_SUBJECT.format(contact_id=event.contact_id))
    return changed


def _relink(account_id: str, gone_id: str, survivor_id: str | None, uow: UnitOfWork, cards: CardsIndex,
            erased: bool = False) -> int:
    changed = 0
    for card_id in cards.of_contact(account_id, gone_id):
        with uow:
            card = uow.cards.find(account_id, card_id)
            if card is None:
                continue
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
            changed += bool(card.pending)
            uow.commit()
    return changed
