"""Oversell and partial-reservation proofs with real threads: each attempt its own unit of work
(``route="unit"``), or a call at the reservation desks of four ``Database`` objects — four API
worker processes, each grouping its threads' calls into shared transactions (``route="desk"``).

Each test also runs against the deliberately naive read-then-write path
(``reservations._NAIVE``) and asserts that the same checks catch it — proof the test can fail.
That control runs on PostgreSQL only: on SQLite every write unit of work starts with
``BEGIN IMMEDIATE``, so writers are serialised whatever the code does and the naive path is
(correctly) safe there.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from onestore.db.database import Database
from onestore.inventory import availability, holds, reservations, service
from onestore.inventory.desk import ReserveCall, desk_for
from onestore.inventory.model import InsufficientStock, ReservationKind
from onestore.inventory.tables import reservation_lines
from onestore.inventory.tables import reservations as reservation_table
from onestore.kernel.ids import new_id
from onestore.settings import Settings

from .conftest import LOCATIONS, SKUS, assert_books_balance

THREADS = 32
ATTEMPTS = 2_000
NAIVE_ATTEMPTS = 500
"""The naive control needs fewer attempts to show its oversell (every one of them succeeds and
so costs a full write), which keeps it inside the time budget."""
STOCK = 100
SQLITE_SKIP = (
    "SQLite write units of work BEGIN IMMEDIATE, which serialises writers whatever the code "
    "does: the naive path cannot race there"
)


@pytest.fixture(params=["conditional", "naive"])
def path(request: pytest.FixtureRequest, backend: str, naive: Callable[[bool], None]) -> str:
    if request.param == "naive":
        if backend == "sqlite":
            pytest.skip(SQLITE_SKIP)
        naive(True)
    return str(request.param)


@pytest.fixture
def wide(stock: Database, db_url: str) -> Iterator[Database]:
    """The same database through a pool wide enough for every thread to be in flight at once.
    SQLite writers queue on its one write lock; the longer busy timeout only keeps a thread the
    lock's (unfair) wake-ups passed over from giving up — it does not change what is decided."""
    settings = Settings(database_url=db_url, db_pool_size=THREADS, sqlite_busy_timeout_ms=60_000)
    database = Database(settings=settings, clock=stock.clock)
    yield database
    database.dispose()


def expect(path: str, check: Callable[[], None]) -> None:
    """The invariant holds on the real path and is caught broken on the naive one."""
    if path == "conditional":
        check()
    else:
        with pytest.raises(AssertionError):
            check()


Attempt = Callable[[list[tuple[str, str, int]], str], str]


@pytest.fixture(params=["unit", "desk"])
def route(request: pytest.FixtureRequest, wide: Database, db_url: str) -> Iterator[Attempt]:
    if request.param == "unit":
        yield lambda lines, rid: attempt(wide, lines, rid)
        return
    settings = Settings(database_url=db_url, db_pool_size=THREADS, sqlite_busy_timeout_ms=60_000)
    workers = [Database(settings=settings, clock=wide.clock) for _ in range(4)]
    turn = itertools.count()

    def at_a_desk(lines: list[tuple[str, str, int]], rid: str) -> str:
        desk = desk_for(workers[next(turn) % len(workers)])
        call = ReserveCall(lines, ReservationKind.SOFT, timedelta(minutes=15), reservation_id=rid)
        try:
            desk.reserve(call)
            return "ok"
        except InsufficientStock:
            return "insufficient"
        except Exception as err:  # any other outcome is a failure of the test
            return f"error: {type(err).__name__}: {err}"

    yield at_a_desk
    assert sum(desk_for(w).calls.jobs for w in workers) > sum(
        desk_for(w).calls.batches for w in workers
    ), "no desk ever grouped two calls: the desk route did not test group commit"
    for worker in workers:
        worker.dispose()


def attempt(db: Database, lines: list[tuple[str, str, int]], rid: str) -> str:
    try:
        with db.uow() as uow:
            requests = reservations.line_requests(uow, lines)
            holds.reserve(
                uow,
                requests,
                kind=ReservationKind.SOFT,
                ttl=timedelta(minutes=15),
                reservation_id=rid,
            )
            uow.commit()
        return "ok"
    except InsufficientStock:
        return "insufficient"
    except Exception as err:  # any other outcome is a failure of the test
        return f"error: {type(err).__name__}: {err}"


def test_the_last_units_of_a_hot_sku_are_never_oversold(
    wide: Database, path: str, route: Attempt
) -> None:
    with wide.uow() as uow:
        service.receive(uow, "SKU-1", "DC-01", STOCK)
        uow.commit()
    attempts = ATTEMPTS if path == "conditional" else NAIVE_ATTEMPTS
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(
            pool.map(lambda _: route([("SKU-1", "DC-01", 1)], new_id()), range(attempts))
        )
    elapsed = time.monotonic() - started
    outcomes = Counter(r if not r.startswith("error") else "error" for r in results)
    print(f"\n{path}: {dict(outcomes)} in {elapsed:.1f}s")
    assert outcomes["error"] == 0, [r for r in results if r.startswith("error")][:3]
    with wide.uow(readonly=True) as uow:
        left = availability.availability(uow, ["SKU-1"], locations=["DC-01"])[0].locations[0]

    def check() -> None:
        assert outcomes == {"ok": STOCK, "insufficient": attempts - STOCK}, outcomes
        assert left.on_hand - left.reserved >= 0
        assert left.reserved == STOCK and left.available == 0
        assert_books_balance(wide)

    expect(path, check)


def test_multi_line_reservations_are_all_or_nothing(
    wide: Database, path: str, route: Attempt
) -> None:
    stock = {(sku, loc): 40 for sku in SKUS for loc in LOCATIONS[:1]}
    with wide.uow() as uow:
        for (sku, loc), quantity in stock.items():
            service.receive(uow, sku, loc, quantity)
        uow.commit()
    rng = random.Random(3)
    plans = []
    for _ in range(600):
        chosen = rng.sample(SKUS, rng.randint(3, 5))
        rng.shuffle(chosen)  # random line order: the service must sort to avoid deadlocks
        plans.append((new_id(), [(sku, "DC-01", rng.randint(1, 3)) for sku in chosen]))
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda plan: route(plan[1], plan[0]), plans))
    outcomes = Counter(r if not r.startswith("error") else "error" for r in results)
    print(f"\n{path}: {dict(outcomes)}")
    assert outcomes["error"] == 0, [r for r in results if r.startswith("error")][:3]
    with wide.uow(readonly=True) as uow:
        stored: dict[str, dict[str, int]] = defaultdict(dict)
        for row in uow.conn.execute(
            select(
                reservation_table.c.id, reservation_lines.c.quantity, reservation_lines.c.line_no
            ).join(reservation_lines, reservation_lines.c.reservation_id == reservation_table.c.id)
        ):
            stored[row.id][str(row.line_no)] = row.quantity
        answer = availability.availability(uow, SKUS, locations=["DC-01"])
    held: Counter[str] = Counter()
    for (rid, lines), result in zip(plans, results, strict=True):
        if result == "ok":
            assert stored[rid] == {str(i): q for i, (_, _, q) in enumerate(lines)}, rid
            for sku, _, q in lines:
                held[sku] += q
        else:
            assert rid not in stored, f"partial reservation {rid}"
    assert outcomes["ok"] > 0 and outcomes["insufficient"] > 0, outcomes

    def check() -> None:
        for sku_answer in answer:
            balance = sku_answer.locations[0]
            assert held[sku_answer.sku] <= stock[(sku_answer.sku, "DC-01")], sku_answer
            assert balance.reserved == held[sku_answer.sku], sku_answer
        assert_books_balance(wide)

    expect(path, check)
