"""CardsIndex on the cards read model: what handlers ask of it (positions in a stage, a contact's cards)."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from workflows.domain.cards import OPEN
from workflows.service_layer.ports import CardsIndex


class MongoCardsIndex(CardsIndex):
    def __init__(self, cards: Collection) -> None:
        self._cards = cards

    def ordered_ids(self, account_id: str, stage_id: str) -> list[str]:
        found = self._cards.find(_in_stage(account_id, stage_id), {"_id": 1}).sort([("position", ASCENDING),
                                                                                    ("_id", ASCENDING)])
        return [doc["_id"] for doc in found]

    def last_position(self, account_id: str, stage_id: str, excluding: str | None = None) -> str | None:
        return self._first(_in_stage(account_id, stage_id, excluding), DESCENDING)

    def position_after(self, account_id: str, stage_id: str, position: str, card_id: str,
                       excluding: str) -> str | None:
        return self._first({**_in_stage(account_id, stage_id, excluding), "$or": [
            {"position": {"$gt": position}}, {"position": position, "_id": {"$gt": card_id}}]}, ASCENDING)

    def position_before(self, account_id: str, stage_id: str, position: str, card_id: str,
                        excluding: str) -> str | None:
        return self._first({**_in_stage(account_id, stage_id, excluding), "$or": [
            {"position": {"$lt": position}}, {"position": position, "_id": {"$lt": card_id}}]}, DESCENDING)

    def of_contact(self, account_id: str, contact_id: str) -> list[str]:
        return [doc["_id"] for doc in self._cards.find({"account_id": account_id, "contact_ids": contact_id}, {"_id": 1})]

    def _first(self, query: dict, direction: int) -> str | None:
        found = list(self._cards.find(query, {"position": 1}).sort([("position", direction), ("_id", direction)])
                     .limit(1))
        return found[0]["position"] if found else None


def _in_stage(account_id: str, stage_id: str, excluding: str | None = None) -> dict:
    query = {"account_id": account_id, "stage_id": stage_id, "status": OPEN}
    if excluding is not None:
        query["_id"] = {"$ne": excluding}  # the tie-breaking `$or` above compares _id too: both must hold
    return query
