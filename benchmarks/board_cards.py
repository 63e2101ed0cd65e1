"""A board with 5,000 cards, through the gateway (issue 12): moving a card, and reading the board's first page.

Each run creates a new account, one contact and a board with stages (default 4), then seeds N cards (default
5,000) spread over the stages through the public API, on a few threads (seeding is not timed), and waits until
the board's columns count them all. It reads every column to the end once to learn the order, then times:
- move: M moves (default 200) of a card, POST /v1/cards/{id}/move with the card's current revision, in turn
  between two neighbours of its stage, to the end of another stage, and to the top of a column (before the
  first card); each is timed until acknowledged (its answer carries the card's new revision and ETag);
- columns: M reads of the board's first page, GET /v1/boards/{id}/columns (default limit);
- move to visible (a smaller sample, default 20): a card moved to the top of a column, timed until a read of
  that column shows it first at its new revision.
Prints p50/p95 of each, the database server and the machine, and saves JSON under benchmarks/results/.

Run against a system started with `make run`:  python benchmarks/board_cards.py [--cards 5000] [--moves 200]
A 429 (make run's rate limits) is waited out as its Retry-After says.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO)]
from reporting import PatientSession, load_env, percentile, save  # noqa: E402
from find_contacts import new_account  # noqa: E402

STAGES = ["Nouveau", "Contacté", "Proposition", "Négociation"]
MOVE_KINDS = ("between_neighbours", "to_another_stage", "to_the_top")


@dataclass
class Board:
    """The board as this benchmark alone changed it: each stage's open cards in order, and their revisions."""

    gateway: str
    headers: dict
    id: str
    stage_ids: list[str]
    order: dict[str, list[str]] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)
    stale_moves: int = 0  # moves answered 409 (sent again with the card's revision read back)
    failed_moves: list[str] = field(default_factory=list)  # moves answered otherwise (not timed)

    def url(self, path: str) -> str:
        return f"{self.gateway}{path}"


def _ok(answer: requests.Response, status: int = 200) -> dict:
    if answer.status_code != status:
        raise RuntimeError(f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def new_board(session: requests.Session, gateway: str, headers: dict, stages: list[str]) -> Board:
    board = _ok(session.post(f"{gateway}/v1/boards", headers=headers, timeout=30,
                             json={"name": f"Bench {datetime.now(timezone.utc):%H%M%S}", "stages": stages}), 201)
    return Board(gateway, headers, board["id"], [stage["id"] for stage in board["stages"]])


def first_card(session: requests.Session, board: Board, contact_id: str, timeout_s: float = 60) -> None:
    """The first card, once the workflows worker has heard of the contact (until then: 422 on contact_id)."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = session.post(board.url("/v1/cards"), headers=board.headers, timeout=30, json={
            "board_id": board.id, "stage_id": board.stage_ids[0], "title": "Carte 0", "contact_id": contact_id,
            "value": "100.00", "currency": "EUR"})
        if answer.status_code == 201 or time.monotonic() > deadline:
            _ok(answer, 201)
            return
        time.sleep(0.2)


def seed(session: requests.Session, board: Board, contact_id: str, count: int, threads: int) -> float:
    """`count` cards, round robin over the stages (the first one included), on `threads` threads; seconds."""
    started = time.perf_counter()
    first_card(session, board, contact_id)

    def create(i: int) -> None:
        _ok(session.post(board.url("/v1/cards"), headers=board.headers, timeout=60, json={
            "board_id": board.id, "stage_id": board.stage_ids[i % len(board.stage_ids)], "title": f"Carte {i}",
            "contact_id": contact_id, "value": f"{100 + i % 900}.00", "currency": "EUR"}), 201)
        if i % 500 == 0:
            print(f"  seeded {i}/{count}", flush=True)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, range(1, count)))
    return time.perf_counter() - started


def columns(session: requests.Session, board: Board, **query) -> dict:
    return _ok(session.get(board.url(f"/v1/boards/{board.id}/columns"), headers=board.headers, params=query,
                           timeout=120))


def wait_projected(session: requests.Session, board: Board, count: int, timeout_s: float) -> float:
    """Seconds until the board's columns count `count` cards."""
    started = time.perf_counter()
    while (seen := sum(column["count"] for column in columns(session, board)["columns"])) < count:
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError(f"the columns show {seen} of {count} cards after {timeout_s} s")
        time.sleep(1)
    return time.perf_counter() - started


def learn_order(session: requests.Session, board: Board) -> None:
    """Every column read to its end, page after page: the order and revision of every open card."""
    for stage_id in board.stage_ids:
        board.order[stage_id], cursor = [], None
        while True:
            query = {"stage_id": stage_id, "limit": 200, **({"cursor": cursor} if cursor else {})}
            [column] = columns(session, board, **query)["columns"]
            for card in column["cards"]:
                board.order[stage_id].append(card["id"])
                board.revisions[card["id"]] = card["revision"]
            cursor = column["next_cursor"]
            if cursor is None:
                break


def move(session: requests.Session, board: Board, card_id: str, stage_id: str, after: str | None = None,
         before: str | None = None) -> float:
    """One move, with the card's current revision; milliseconds until acknowledged. Keeps `board` in step."""
    while True:
        body = {"revision": board.revisions[card_id], "stage_id": stage_id,
                **({"after": after} if after else {}), **({"before": before} if before else {})}
        started = time.perf_counter()
        answer = session.post(board.url(f"/v1/cards/{card_id}/move"), headers=board.headers, json=body, timeout=120)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 409:
            break
        # another move gave this card a new key (a respaced window: seeding on threads leaves cards sharing
        # keys): read its revision, as a client would, and send the move again (that one is timed)
        board.stale_moves += 1
        board.revisions[card_id] = _ok(session.get(board.url(f"/v1/cards/{card_id}"), headers=board.headers,
                                                   timeout=30))["revision"]
    if answer.status_code != 200:
        raise MoveFailed(f"move of {card_id}: {answer.status_code} {answer.text[:150]}")
    moved = answer.json()
    if answer.headers.get("ETag") != f'"{moved["revision"]}"' or moved["revision"] != body["revision"] + 1:
        raise RuntimeError(f"move of {card_id}: revision {moved['revision']}, ETag {answer.headers.get('ETag')}")
    board.revisions[card_id] = moved["revision"]
    for order in board.order.values():
        if card_id in order:
            order.remove(card_id)
    target = board.order[stage_id]
    target.insert(target.index(after) + 1 if after else target.index(before) if before else len(target), card_id)
    return elapsed


def next_move(rng: random.Random, board: Board, kind: str) -> tuple[str, str, str | None, str | None]:
    """(card, stage, after, before) of a move of this kind, chosen in the board as it is now."""
    full = [stage_id for stage_id in board.stage_ids if len(board.order[stage_id]) >= 3]
    stage_id = rng.choice(full)
    order = board.order[stage_id]
    if kind == "between_neighbours":
        card_id = rng.choice(order)
        rest = [other for other in order if other != card_id]
        at = rng.randrange(len(rest) - 1)
        return card_id, stage_id, rest[at], rest[at + 1]
    if kind == "to_another_stage":
        source = rng.choice([other for other in full if other != stage_id] or full)
        return rng.choice(board.order[source]), stage_id, None, None
    card_id = rng.choice([other for other in order[1:]] if rng.random() < 0.5 else
                         board.order[rng.choice(full)][1:])
    return card_id, stage_id, None, order[0]


class MoveFailed(RuntimeError):
    """A move answered neither 200 nor 409 (a 504 on an overloaded machine): it may or may not have happened."""


def time_moves(session: requests.Session, board: Board, count: int, rng: random.Random) -> dict[str, list[float]]:
    """Milliseconds of each move that was acknowledged, by kind; a failed one is counted in `board.failed_moves`
    and the board's order read again (not timed)."""
    times: dict[str, list[float]] = {kind: [] for kind in MOVE_KINDS}
    for i in range(count):
        kind = MOVE_KINDS[i % len(MOVE_KINDS)]
        try:
            times[kind].append(move(session, board, *next_move(rng, board, kind)))
        except MoveFailed as failure:
            board.failed_moves.append(str(failure)[:200])
            learn_order(session, board)
    return times


def time_reads(session: requests.Session, board: Board, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        columns(session, board)
        times.append((time.perf_counter() - started) * 1000)
    return times


def time_move_to_visible(session: requests.Session, board: Board, count: int, rng: random.Random,
                         timeout_s: float = 60) -> list[float]:
    """Milliseconds from sending a move to the top of a column until that column's first page shows it first."""
    times = []
    for _ in range(count):
        card_id, stage_id, _, before = next_move(rng, board, "to_the_top")
        started = time.perf_counter()
        try:
            move(session, board, card_id, stage_id, before=before)
        except MoveFailed as failure:
            board.failed_moves.append(str(failure)[:200])
            learn_order(session, board)
            continue
        while True:
            [column] = columns(session, board, stage_id=stage_id, limit=1)["columns"]
            shown = column["cards"][0] if column["cards"] else {}
            if shown.get("id") == card_id and shown.get("revision") == board.revisions[card_id]:
                break
            if time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"card {card_id} not shown first in its column after {timeout_s} s")
            time.sleep(0.01)
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> dict | None:
    if not times:
        return None
    return {"p50": round(percentile(times, 50), 1), "p95": round(percentile(times, 95), 1), "count": len(times)}


def run(gateway: str, headers: dict, cards: int, moves: int, visible: int, threads: int = 4,
        stages: list[str] = STAGES, wait_s: float = 1800) -> dict:
    """Seed a board of `cards` cards in the account of `headers`, time it; the report (without where it ran)."""
    session, rng = PatientSession(), random.Random(12)
    contact = _ok(session.post(f"{gateway}/v1/contacts", headers=headers, timeout=30,
                               json={"first_name": "Louise", "last_name": "Banc d'essai"}), 201)
    board = new_board(session, gateway, headers, stages)
    print(f"seeding {cards} cards on board {board.id} ({threads} threads)...", flush=True)
    seeded_s = seed(session, board, contact["id"], cards, threads)
    projected_s = wait_projected(session, board, cards, wait_s)
    learn_order(session, board)
    print(f"timing {moves} moves and {moves} reads of the first page...", flush=True)
    move_times = time_moves(session, board, moves, rng)
    read_times = time_reads(session, board, moves)
    visible_times = time_move_to_visible(session, board, visible, rng)
    every_move = [t for kind in MOVE_KINDS for t in move_times[kind]]
    return {"benchmark": "board_cards", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "cards": cards, "stages": len(stages),
            "seed": {"seconds": round(seeded_s, 1), "projected_after_s": round(projected_s, 1)},
            "move_ms": {**summary(every_move), **{kind: summary(move_times[kind]) for kind in MOVE_KINDS}},
            "stale_moves_sent_again": board.stale_moves, "failed_moves": board.failed_moves,
            "columns_read_ms": summary(read_times),
            "move_to_visible_ms": summary(visible_times)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--moves", type=int, default=200, help="moves timed, and reads of the first page")
    parser.add_argument("--visible", type=int, default=20, help="moves timed until the columns show them (0: none)")
    parser.add_argument("--threads", type=int, default=4, help="seeding threads")
    args = parser.parse_args()
    account = new_account(load_env(), f"Bench board {datetime.now(timezone.utc):%H%M%S}")
    headers = {"Authorization": f"Bearer {account['api_key']}"}
    save(run(args.gateway, headers, args.cards, args.moves, args.visible, args.threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
