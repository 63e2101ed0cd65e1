"""Workflows' part of privacy requests (issue 13): a person's cards exported, or erased as when contacts
erases them (`erase_contact_from_cards`, for each contact of their merge family).

A request names contact ids; workflows answers for those it heard of in the request's account (its contacts
directory, or cards linking them) and for every contact it knows was merged with them. The others are not
the account's: nothing is held for them, and no key of theirs is touched.
"""
from __future__ import annotations

from typing import Callable

from crm_platform.contracts.contacts import ContactErasedFact
from crm_platform.contracts.privacy import ERASED, NOTHING_HELD, ErasureRequested, SubjectExportRequested
from crm_platform.privacy_participation import ErasureOutcome, ExportedPart
from crm_platform.privacy_exchange import ExportExchange

from workflows.domain.cards import CARD_SUBJECT, Card
from workflows.service_layer.contact_reactions import erase_contact_from_cards
from workflows.service_layer.ports import CardsIndex, ContactsDirectory
from workflows.service_layer.unit_of_work import UnitOfWork

ABOUT = {
    "categories": ["deal and project cards naming the person as a contact: title, description, reason lost, "
                   "value, due date, status, board and stage, dates"],
    "purposes": ["following the account's deals and projects with its contacts"],
    "recipients": ["the account's users"],
    "retention": "while the contact exists in the account; erased with the contact (its cards' text is "
                 "crypto-shredded, cards left without a contact are archived)",
    "source": "entered by the account's users, or linked to the contact by them",
}


class WorkflowsPrivacyParticipant:
    """A PrivacyParticipant (crm_platform.privacy_participation): exports and erases a person's cards."""

    def __init__(self, service: str, unit_of_work: Callable[[], UnitOfWork], cards: CardsIndex,
                 contacts: ContactsDirectory) -> None:
        self._service = service
        self._unit_of_work = unit_of_work
        self._cards = cards
        self._contacts = contacts

    def export(self, request: SubjectExportRequested, exchange: ExportExchange) -> ExportedPart:
        family = self._family(request.account_id, request.contact_ids)
        rows = self._exported_cards(request.account_id, family)
        if not rows:
            return ExportedPart(None, 0)
        part = exchange.write_part(request.request_id, self._service, ABOUT, {"cards": rows})
        return ExportedPart(part, len(rows))

    def erase(self, request: ErasureRequested) -> ErasureOutcome:
        """Every contact of the family erased from the cards and its key shredded, as ContactErased does; the
        keys listed are those erased for good now (by this request, or by that reaction before it)."""
        family = self._family(request.account_id, request.contact_ids)
        changed = 0
        for contact_id in family:
            changed += erase_contact_from_cards(ContactErasedFact(contact_id, request.account_id),
                                                self._unit_of_work(), self._cards, self._contacts)
        keys = [CARD_SUBJECT.format(contact_id=contact_id) for contact_id in family]
        return ErasureOutcome(ERASED if family else NOTHING_HELD, keys, items_erased=changed)

    def _family(self, account_id: str, contact_ids: list[str]) -> list[str]:
        """The requested contacts workflows knows in the account, with those merged with them."""
        family = self._contacts.merge_family(account_id, list(contact_ids))
        return family + [c for c in dict.fromkeys(contact_ids)  # not heard of, yet linked (cards older than that)
                         if c not in family and self._cards.of_contact(account_id, c)]

    def _exported_cards(self, account_id: str, family: list[str]) -> list[dict]:
        card_ids = list(dict.fromkeys(card_id for contact_id in family
                                      for card_id in self._cards.of_contact(account_id, contact_id)))
        rows, boards = [], {}
        with self._unit_of_work() as uow:
            for card_id in card_ids:
                card = uow.cards.find(account_id, card_id)
                linked = [] if card is None or card.state is None else [card.contact_id, *card.other_contact_ids]
                if any(contact_id in family for contact_id in linked):  # the index may lag behind the card
                    if card.board_id not in boards:
                        boards[card.board_id] = uow.boards.find(account_id, card.board_id)
                    rows.append(_row(card, boards[card.board_id], family))
        return rows


def _row(card: Card, board, family: list[str]) -> dict:
    """One card as a flat row (a CSV line); its text only where the person is its main contact."""
    stage = next((s for s in board.stages if s["id"] == card.stage_id), None) if board is not None else None
    about_them = card.contact_id in family
    linked = card.contact_id if about_them else next(c for c in card.other_contact_ids if c in family)  # one is
    return {
        "card_id": card.id, "contact_id": linked, "role": "main contact" if about_them else "other contact",
        "board": board.name if board is not None else "", "stage": stage["name"] if stage else "",
        "status": card.status, "title": card.title if about_them else "",
        "description": card.description if about_them else "",
        "lost_reason": (card.lost_reason or "") if about_them else "",
        "value": card.value or "", "currency": card.currency or "", "due_on": card.due_on or "",
        "created_at": card.created_at, "moved_at": card.moved_at, "linked_document": card.linked_document or "",
    }
