"""Workflows' part of privacy requests (issue 13): a person's cards and tasks exported, or erased as when
contacts erases them (`erase_contact_from_cards`, for each contact of their merge family).

A request names contact ids; workflows answers for those it heard of in the request's account (its contacts
directory, or cards linking them) and for every contact it knows was merged with them. The others are not
the account's: nothing is held for them, and no key of theirs is touched.
"""
from __future__ import annotations

import logging
from typing import Callable

from crm_platform.contracts.privacy import ERASED, NOTHING_HELD, ErasureRequested, SubjectExportRequested
from crm_platform.privacy_participation import ErasureOutcome, ExportedPart
from crm_platform.privacy_exchange import ExportExchange

from workflows.domain.cards import CARD_SUBJECT, Card
from workflows.service_layer.contact_reactions import erase_contact
from workflows.domain.tasks import Task
from workflows.service_layer.ports import CardsIndex, ContactsDirectory, ContactTimelines, TasksIndex
from workflows.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

ABOUT = {
    "categories": ["deal and project cards naming the person as a contact: title, description, reason lost, "
                   "value, due date, status, board and stage, dates",
                   "tasks about the person: title, notes, due time and time zone, link, assignee, reminders, "
                   "status, dates"],
    "purposes": ["following the account's deals and projects with its contacts",
                 "reminding the account's users of what they have to do for its contacts"],
    "recipients": ["the account's users"],
    "retention": "while the contact exists in the account; erased with the contact (its cards' and tasks' text "
                 "is crypto-shredded, cards left without a contact are archived, tasks lose the link)",
    "source": "entered by the account's users, or linked to the contact by them",
}


class WorkflowsPrivacyParticipant:
    """A PrivacyParticipant (crm_platform.privacy_participation): exports and erases a person's cards and tasks."""

    def __init__(self, service: str, unit_of_work: Callable[[], UnitOfWork], cards: CardsIndex,
                 contacts: ContactsDirectory, tasks: TasksIndex, timeline: ContactTimelines,
                 project_now: Callable[[list[str]], None]) -> None:
        self._service = service
        self._project_now = project_now
        self._unit_of_work = unit_of_work
        self._cards = cards
        self._contacts = contacts
        self._tasks = tasks
        self._timeline = timeline

    def export(self, request: SubjectExportRequested, exchange: ExportExchange) -> ExportedPart:
        family = self._family(request.account_id, request.contact_ids)
        rows = self._exported_cards(request.account_id, family)
        tasks = self._exported_tasks(request.account_id, family)
        if not rows and not tasks:
            return ExportedPart(None, 0)
        part = exchange.write_part(request.request_id, self._service, ABOUT, {"cards": rows, "tasks": tasks})
        return ExportedPart(part, len(rows) + len(tasks))

    def erase(self, request: ErasureRequested) -> ErasureOutcome:
        """Every contact of the family erased from the cards and tasks and its key shredded, as ContactErased does.

        The reply is what THIS request did: the keys it shredded (not those found shredded already) and the
        distinct cards it changed; `nothing_held` when it changed nothing and destroyed no key. When contacts'
        own erasure (ContactErased) came first, it shredded the key and changed the cards: this request then
        finds nothing left, and `nothing_held` is the truth for it (the data is gone, but not by its doing)."""
        family = self._family(request.account_id, request.contact_ids)
        changed: set[str] = set()
        keys = []
        # the cards and tasks listed under the person before: contacts' own erasure (ContactErased, another loop of
        # this worker) may blank some of them first, and this request then finds nothing left to change in them
        listed = {item_id for contact_id in family for index in (self._cards, self._tasks)
                  for item_id in index.of_contact(request.account_id, contact_id)}
        for contact_id in family:
            erased = erase_contact(request.account_id, contact_id, self._unit_of_work(), self._cards, self._tasks,
                                   self._contacts, self._timeline)
            changed |= erased.card_ids | erased.task_ids
            if erased.key_destroyed:
                keys.append(CARD_SUBJECT.format(contact_id=contact_id))
        # The read models show the blanked cards and tasks before the reply says erased: the worker's projection
        # consumer would write them a moment later, and a scan of the databases right after the request completed
        # found a person's card titles still readable there (the e2e test, once billing answered sooner). Best
        # effort: the keys are shredded and the blanked events stored already, so a failure here is left to the
        # consumer rather than making the request run again (which would then find nothing and answer so).
        try:
            self._project_now(sorted(changed | listed))
        except Exception:
            log.warning("privacy erasure: read models left to the projection consumer", exc_info=True,
                        extra={"privacy_request": request.request_id, "items": len(changed | listed)})
        if not changed and not keys:
            return ErasureOutcome(NOTHING_HELD, [], items_erased=0)
        return ErasureOutcome(ERASED, keys, items_erased=len(changed))

    def _family(self, account_id: str, contact_ids: list[str]) -> list[str]:
        """The requested contacts workflows knows in the account, with those merged with them. Merges workflows
        heard of before d55b627 were not recorded (no `merged_into`), so they are not followed from here; privacy's
        request names the whole merge family anyway (contacts knows it), so none of them is missed."""
        family = self._contacts.merge_family(account_id, list(contact_ids))
        return family + [c for c in dict.fromkeys(contact_ids)  # not heard of, yet linked (cards older than that)
                         if c not in family and (self._cards.of_contact(account_id, c)
                                                 or self._tasks.of_contact(account_id, c))]

    def _exported_cards(self, account_id: str, family: list[str]) -> list[dict]:
        card_ids = list(dict.fromkeys(card_id for contact_id in family
                                      for card_id in self._cards.of_contact(account_id, contact_id)))
        rows, boards = [], {}
        with self._unit_of_work() as uow, uow.cipher.keys_ready([CARD_SUBJECT.format(contact_id=contact_id)
                                                                 for contact_id in family]):  # one read each
            found = uow.cards.find_each(account_id, card_ids)  # one bulk read, not a round trip per card
            for card_id in card_ids:
                card = found.get(card_id)
                linked = [] if card is None or card.state is None else [card.contact_id, *card.other_contact_ids]
                if any(contact_id in family for contact_id in linked):  # the index may lag behind the card
                    if card.board_id not in boards:
                        boards[card.board_id] = uow.boards.find(account_id, card.board_id)
                    rows.append(_row(card, boards[card.board_id], family))
        return rows


    def _exported_tasks(self, account_id: str, family: list[str]) -> list[dict]:
        task_ids = list(dict.fromkeys(task_id for contact_id in family
                                      for task_id in self._tasks.of_contact(account_id, contact_id)))
        rows = []
        with self._unit_of_work() as uow:
            found = uow.tasks.find_each(account_id, task_ids)
            for task_id in task_ids:
                task = found.get(task_id)
                if task is not None and task.state is not None and task.contact_id in family:  # the index may lag
                    rows.append(_task_row(task))
        return rows


def _task_row(task: Task) -> dict:
    """One task about the person as a flat row (deleted ones too: their text is held until erased)."""
    return {
        "task_id": task.id, "contact_id": task.contact_id, "linked_to": f"{task.link_kind} {task.link_id}"
        if task.link_kind else "", "title": task.title, "notes": task.notes, "due_at": task.due_at,
        "time_zone": task.time_zone or task.reminder_time_zone, "assignee": task.assignee or "",
        "reminders": " ".join(r["before"] for r in task.reminders),
        "status": "deleted" if task.deleted else task.status, "created_at": task.created_at,
        "completed_at": task.completed_at or "",
    }


def _row(card: Card, board, family: list[str]) -> dict:
    """One card as a flat row (a CSV line); what it says only where the person is its main contact: where they
    are only another contact, the deal is someone else's (its text, value, dates, document and status are theirs,
    Art. 15(4)), and the row says only that the person is linked to it, on which board and stage, since when."""
    stage = next((s for s in board.stages if s["id"] == card.stage_id), None) if board is not None else None
    about_them = card.contact_id in family
    linked = card.contact_id if about_them else next(c for c in card.other_contact_ids if c in family)  # one is
    return {
        "card_id": card.id, "contact_id": linked, "role": "main contact" if about_them else "other contact",
        "board": board.name if board is not None else "", "stage": stage["name"] if stage else "",
        "status": card.status if about_them else "", "title": card.title if about_them else "",
        "description": card.description if about_them else "",
        "lost_reason": (card.lost_reason or "") if about_them else "",
        "value": (card.value or "") if about_them else "", "currency": (card.currency or "") if about_them else "",
        "due_on": (card.due_on or "") if about_them else "", "created_at": card.created_at,
        "moved_at": card.moved_at, "linked_document": (card.linked_document or "") if about_them else "",
    }
