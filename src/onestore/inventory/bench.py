"""``onestore bench inventory``: how close the stock use cases come to the database's own limit.

On the configured database it sets up its own catalog rows (codes ``BENCH-…``, through the
catalog importer, reused by later runs) and stock (through ``service.receive``), then runs
time-bounded phases, each with ``concurrency`` real threads:

a. raw: the one conditional ``UPDATE`` that a reservation line is, on one balance row, one
   statement per transaction, through the same engine (undone in one statement afterwards);
b. service: hot-SKU ``reserve`` (a soft cart hold) then ``commit`` (the order is placed: the
   hold becomes an order hold), each a call at the reservation desk as the API makes them
   (concurrent calls share transactions: group commit, :mod:`.desk`); "b+" adds the
   ``fulfil`` that ships it (three units of work, the balance row locked twice);
c. http: the same two calls over HTTP against a real ``uvicorn`` subprocess on loopback, with
   ``Idempotency-Key`` headers and a bench admin's bearer token; "c0" sends the same to routes
   with nothing behind them (:mod:`.bench_floor`): what HTTP alone costs on this machine;
d. spread: (b) over ``skus`` SKUs instead of one;
e. availability reads in-process: one SKU at every location, and a 50-SKU basket (p50/p99),
   first from one thread (the read's own latency), then from every thread at once.

A reserve that finds no stock restocks that row and is counted apart (``insufficient``), never
as a success. Afterwards it checks the bench rows: nothing oversold (on hand − reserved ≥ 0),
the ledger sums to on hand, and reserved equals what active reservations hold. It prints a
table, and as its last line one JSON object.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Sequence
from typing import Any

import typer
from sqlalchemy import text

from onestore.db.database import Database
from onestore.db.engine import BEGIN_MODE
from onestore.db.migrate import current_revision
from onestore.db.tables import idempotency_keys as keys_table
from onestore.db.tables import outbox
from onestore.inventory import availability, reservations
from onestore.inventory.bench_http import drain_backlog, http_phase
from onestore.inventory.bench_phases import Outcome, Phase, print_table, run_phase
from onestore.inventory.bench_setup import (
    BASKET,
    HOT_LOCATION,
    HOT_STOCK,
    LOCATIONS,
    RAW_STOCK,
    SPREAD_STOCK,
    TTL,
    BenchError,
    check_rows,
    ensure_catalog,
    restock,
    sku,
    stock_up,
)
from onestore.inventory.desk import CommitCall, ReserveCall, desk_for
from onestore.inventory.model import InsufficientStock, ReservationKind
from onestore.inventory.tables import balances as balance_table
from onestore.inventory.tables import reservation_lines
from onestore.inventory.tables import reservations as reservation_table


# -- phases ---------------------------------------------------------------------------------------
def _raw_phase(db: Database, variant_id: str, location_id: str, seconds: float, c: int) -> Phase:
    statement = text(
        f"UPDATE {balance_table.name} SET reserved = reserved + 1 "  # noqa: S608 - a constant
        "WHERE variant_id = :v AND location_id = :l AND on_hand - reserved - buffer >= 1"
    )
    params = {"v": variant_id, "l": location_id}
    taken = [0]
    lock = threading.Lock()

    def setup(_n: int) -> dict[str, Any]:
        return {"done": 0}

    def op(_n: int, _rng: random.Random, state: dict[str, Any]) -> Outcome:
        with db.engine.connect().execution_options(**{BEGIN_MODE: "IMMEDIATE"}) as conn:
            conn.begin()
            matched = conn.execute(statement, params).rowcount
            conn.commit()
        if matched != 1:
            return "insufficient"
        state["done"] += 1
        return "ok"

    def teardown(state: dict[str, Any]) -> None:
        with lock:
            taken[0] += state["done"]

    try:
        return run_phase("raw", seconds, c, op, setup, teardown)
    finally:
        with db.engine.connect().execution_options(**{BEGIN_MODE: "IMMEDIATE"}) as conn:
            conn.begin()
            conn.execute(
                text(
                    f"UPDATE {balance_table.name} SET reserved = reserved - :n "  # noqa: S608
                    "WHERE variant_id = :v AND location_id = :l"
                ),
                {**params, "n": taken[0]},
            )
            conn.commit()


def _reserve_commit(db: Database, code: str, fulfil: bool = False) -> Outcome:
    """A checkout as the API runs it: a soft hold on one unit at the reservation desk, then
    (order placed) its commit to an order hold at the desk — and with ``fulfil`` the shipment
    that consumes it, in its own unit of work."""
    desk = desk_for(db)
    try:
        held = desk.reserve(
            ReserveCall(
                [(code, HOT_LOCATION, 1)], kind=ReservationKind.SOFT, ttl=TTL, owner="bench"
            )
        )
    except InsufficientStock:
        restock(db, code)
        return "insufficient"
    desk.commit(CommitCall(held.id, owner="bench"))
    if fulfil:
        with db.uow() as uow:
            reservations.fulfil(uow, held.id, owner="bench", actor="bench")
            uow.commit()
    return "ok"


def _service_phase(
    db: Database, name: str, codes: Sequence[str], seconds: float, c: int, fulfil: bool = False
) -> Phase:
    def op(_n: int, rng: random.Random, _state: dict[str, Any]) -> Outcome:
        return _reserve_commit(db, codes[0] if len(codes) == 1 else rng.choice(codes), fulfil)

    return run_phase(name, seconds, c, op)


def _read_phase(db: Database, name: str, codes: list[str], seconds: float, c: int) -> Phase:
    def op(_n: int, _rng: random.Random, _state: dict[str, Any]) -> Outcome:
        with db.uow(readonly=True) as uow:
            availability.availability(uow, codes)
        return "ok"

    return run_phase(name, seconds, c, op)


# -- the run --------------------------------------------------------------------------------------
def run(
    db: Database,
    *,
    seconds: float = 10.0,
    concurrency: int = 32,
    skus: int = 1_000,
    http: bool = True,
    http_workers: int = 1,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every phase on ``db``, print the table and the JSON line; return the JSON object."""
    if current_revision(db.engine) is None:
        raise BenchError("the database has no schema yet; run: onestore db upgrade")
    if skus < 1 or concurrency < 1 or seconds <= 0:
        raise BenchError("seconds, concurrency and skus must be positive")
    echo(f"setting up {skus} bench SKUs at {len(LOCATIONS)} bench locations on {db.dialect} …")
    variant_ids, location_ids = ensure_catalog(db, skus)
    codes = [sku(n) for n in range(skus)]
    hot = codes[0]
    hot_vid, hot_lid = variant_ids[hot], location_ids[HOT_LOCATION]
    stock_up(db, [(hot, hot_vid, hot_lid, RAW_STOCK)])
    stock_up(db, [(c, variant_ids[c], hot_lid, SPREAD_STOCK) for c in codes[1:]])

    _vacuum(db, echo)
    phases: list[Phase] = []
    echo("a. raw conditional UPDATE …")
    raw = _raw_phase(db, hot_vid, hot_lid, seconds, concurrency)
    phases.append(raw)
    echo("b. service reserve + commit, hot SKU …")
    stock_up(db, [(hot, hot_vid, hot_lid, HOT_STOCK)])
    svc = _service_phase(db, "service", [hot], seconds, concurrency)
    phases.append(svc)
    web: Phase | None = None
    floor: Phase | None = None
    drained = 0
    if http:
        echo("c. HTTP reserve + commit, hot SKU …")
        stock_up(db, [(hot, hot_vid, hot_lid, HOT_STOCK)])
        drained = drain_backlog(db)
        echo(f"   (delivered {drained} events the earlier phases left pending)")
        web = http_phase(db, hot, seconds, concurrency, http_workers)
        echo("c0. the same over HTTP to routes with nothing behind them (the HTTP floor) …")
        floor = http_phase(db, hot, seconds, concurrency, http_workers, floor=True)
        phases += [web, floor]
    echo(f"d. service reserve + commit over {skus} SKUs …")
    spread = _service_phase(db, "spread", codes, seconds, concurrency)
    phases.append(spread)
    echo("b+ service reserve + commit + fulfil, hot SKU …")
    stock_up(db, [(hot, hot_vid, hot_lid, HOT_STOCK)])
    order = _service_phase(db, "order", [hot], seconds, concurrency, fulfil=True)
    phases.append(order)
    echo("e. availability reads …")
    # Latency of the read itself (one reader at a time), then the same reads from every
    # thread at once: on a few cores the second mostly measures the queue for the CPU.
    one = _read_phase(db, "availability", [hot], seconds, 1)
    basket = _read_phase(db, "basket", codes[:BASKET], seconds, 1)
    one_loaded = _read_phase(db, "availability_loaded", [hot], seconds, concurrency)
    basket_loaded = _read_phase(db, "basket_loaded", codes[:BASKET], seconds, concurrency)
    phases += [one, basket, one_loaded, basket_loaded]
    check = check_rows(db, list(variant_ids.values()), list(location_ids.values()))

    print_table(echo, phases, len(codes[:BASKET]))
    echo(
        f"checked {check.rows} bench balances: oversold {check.oversold}, ledger mismatches "
        f"{check.ledger_mismatch}, reserved mismatches {check.reserved_mismatch}"
    )
    result: dict[str, Any] = {
        "bench": "inventory",
        "db": db.dialect,
        "seconds": seconds,
        "concurrency": concurrency,
        "skus": skus,
        "raw_tps": round(raw.tps, 1),
        "service_tps": round(svc.tps, 1),
        "http_tps": round(web.tps, 1) if web else None,
        "http_workers": http_workers,
        "service_ratio": round(svc.tps / raw.tps, 3),
        "http_ratio": round(web.tps / raw.tps, 3) if web else None,
        "http_floor_tps": round(floor.tps, 1) if floor else None,
        "spread_tps": round(spread.tps, 1),
        "order_tps": round(order.tps, 1),
        "oversold": check.oversold,
        "ledger_mismatch": check.ledger_mismatch,
        "reserved_mismatch": check.reserved_mismatch,
        "insufficient": sum(p.insufficient for p in phases),
        "busy": sum(p.busy for p in phases),
        "events_drained_before_http": drained,
        "errors": sum(p.errors for p in phases),
        "availability_p50_ms": round(one.percentile_ms(0.5), 2),
        "availability_p99_ms": round(one.percentile_ms(0.99), 2),
        "basket_p50_ms": round(basket.percentile_ms(0.5), 2),
        "basket_p99_ms": round(basket.percentile_ms(0.99), 2),
        "availability_loaded_p99_ms": round(one_loaded.percentile_ms(0.99), 2),
        "basket_loaded_p99_ms": round(basket_loaded.percentile_ms(0.99), 2),
    }
    echo(json.dumps(result))
    return result


def _vacuum(db: Database, echo: Callable[[str], None]) -> None:
    """``VACUUM ANALYZE`` the tables the phases use, as ``pgbench`` does before a run: every
    run leaves tens of thousands of dead rows (reservations, outbox) behind, and a server
    without autovacuum (these machines run with it off) would otherwise measure its own
    growing bloat and stale statistics, not the code."""
    if db.dialect != "postgresql":
        return
    tables = ", ".join(
        t.name for t in (balance_table, reservation_table, reservation_lines, outbox, keys_table)
    )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {tables}")
    echo(f"vacuumed and analysed {tables}")


# -- the command ----------------------------------------------------------------------------------
def register(bench_app: typer.Typer) -> None:
    """Add ``inventory`` to the ``onestore bench`` group."""

    @bench_app.command("inventory")
    def bench_inventory(
        seconds: float = typer.Option(10.0, min=0.1, help="Length of each phase, in seconds."),
        concurrency: int = typer.Option(32, min=1, max=190, help="Threads in every phase."),
        skus: int = typer.Option(1_000, min=BASKET, max=100_000, help="SKUs for the spread phase."),
        http_workers: int = typer.Option(
            1, min=1, max=16, help="uvicorn worker processes for the HTTP phase (as serve)."
        ),
    ) -> None:
        """Stock reservations against the database's limit (ONESTORE_DATABASE_URL)."""
        from onestore.settings import get_settings

        settings = get_settings().model_copy(
            update={"db_pool_size": min(200, concurrency + 4), "sqlite_busy_timeout_ms": 60_000}
        )
        db = Database(settings=settings)
        try:
            run(
                db,
                seconds=seconds,
                concurrency=concurrency,
                skus=skus,
                http_workers=http_workers,
                echo=typer.echo,
            )
        finally:
            db.dispose()
