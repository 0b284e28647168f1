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
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import typer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from onestore.db.contention import as_busy
from onestore.db.database import Database
from onestore.db.engine import BEGIN_MODE
from onestore.db.migrate import current_revision
from onestore.inventory import availability, reservations, service
from onestore.inventory.bench_setup import (
    BASE,
    BASKET,
    HOT_LOCATION,
    HOT_STOCK,
    LOCATIONS,
    RAW_STOCK,
    RESTOCK,
    SPREAD_STOCK,
    TTL,
    BenchError,
    admin_token,
    check_rows,
    ensure_catalog,
    sku,
    stock_up,
)
from onestore.inventory.desk import CommitCall, ReserveCall, desk_for
from onestore.inventory.model import InsufficientStock, ReservationKind
from onestore.inventory.tables import balances as balance_table
from onestore.kernel.errors import DatabaseBusy
from onestore.kernel.ids import new_id


# -- results --------------------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    ok: int = 0
    insufficient: int = 0
    busy: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str | None = None

    @property
    def tps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index] * 1000


Outcome = str  # "ok" | "insufficient"


def _run_phase(
    name: str,
    seconds: float,
    concurrency: int,
    op: Callable[[int, random.Random, dict[str, Any]], Outcome],
    setup: Callable[[int], dict[str, Any]] | None = None,
    teardown: Callable[[dict[str, Any]], None] | None = None,
) -> Phase:
    """Run ``op`` in a loop on ``concurrency`` threads until ``seconds`` have passed."""
    phase = Phase(name)
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker(n: int) -> None:
        rng = random.Random(n)  # noqa: S311 - spreads load, guards nothing
        state = setup(n) if setup else {}
        counts: dict[str, int] = defaultdict(int)
        latencies: list[float] = []
        first_error: str | None = None
        try:
            start.wait()
            attempts = 0
            # Every thread completes at least one operation, however short the phase: a
            # phase on a busy machine then still measures something instead of nothing.
            while time.perf_counter() < deadline[0] or not latencies:
                attempts += 1
                if attempts > 1000 and not latencies:
                    raise BenchError("no operation succeeded in 1,000 attempts")
                began = time.perf_counter()
                try:
                    outcome = op(n, rng, state)
                except (DatabaseBusy, BenchBusy):
                    counts["busy"] += 1
                    continue
                except DBAPIError as err:
                    if as_busy(err) is None:
                        raise
                    counts["busy"] += 1
                    continue
                latencies.append(time.perf_counter() - began)
                counts[outcome] += 1
        except Exception as err:  # reported in the table; the phase fails if nothing succeeded
            counts["errors"] += 1
            first_error = f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"
        finally:
            if teardown:
                teardown(state)
        with lock:
            phase.ok += counts["ok"]
            phase.insufficient += counts["insufficient"]
            phase.busy += counts["busy"]
            phase.errors += counts["errors"]
            phase.latencies.extend(latencies)
            phase.first_error = phase.first_error or first_error

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began
    if phase.ok == 0:
        raise BenchError(f"bench phase {name}: nothing succeeded ({phase.first_error})")
    return phase


class BenchBusy(Exception):
    """An HTTP 503/429 (database busy): counted, retried."""


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
        return _run_phase("raw", seconds, c, op, setup, teardown)
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
        _restock(db, code)
        return "insufficient"
    desk.commit(CommitCall(held.id, owner="bench"))
    if fulfil:
        with db.uow() as uow:
            reservations.fulfil(uow, held.id, owner="bench", actor="bench")
            uow.commit()
    return "ok"


def _restock(db: Database, code: str) -> None:
    with db.uow() as uow:
        service.receive(uow, code, HOT_LOCATION, RESTOCK, reference="bench restock", actor="bench")
        uow.commit()


def _service_phase(
    db: Database, name: str, codes: Sequence[str], seconds: float, c: int, fulfil: bool = False
) -> Phase:
    def op(_n: int, rng: random.Random, _state: dict[str, Any]) -> Outcome:
        return _reserve_commit(db, codes[0] if len(codes) == 1 else rng.choice(codes), fulfil)

    return _run_phase(name, seconds, c, op)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Http:
    """One keep-alive client per thread: httpx if installed, else urllib."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            import httpx
        except ImportError:
            self._client: Any = None
        else:
            self._client = httpx.Client(base_url=base, headers=self.headers, timeout=60)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        headers = {"Idempotency-Key": f"bench-{new_id()}"}
        if self._client is not None:
            answer = self._client.post(path, json=body, headers=headers)
            return answer.status_code, answer.json() if answer.content else None
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - loopback URL built here
            self.base + path,
            data=json.dumps(body).encode(),
            headers={**self.headers, **headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _start_server(
    db: Database, port: int, concurrency: int, workers: int = 1, app: str = "onestore.api.asgi:app"
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ONESTORE_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "ONESTORE_DB_POOL_SIZE": str(max(10, min(200, concurrency))),
        "ONESTORE_SQLITE_BUSY_TIMEOUT_MS": "60000",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the bench server exited with status {server.returncode}")
        try:
            url = f"http://127.0.0.1:{port}/health"
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise BenchError("the bench server did not answer /health within 30 s")


def _drain_backlog(db: Database) -> int:
    """Deliver the outbox events the setup and the in-process phases left pending, as a
    running API would have, so the HTTP phase pays for its own events only (the server's
    in-process bus delivers a batch after every write). Returns how many were pending."""
    from onestore.api.app import create_app
    from onestore.events.outbox import pending_count

    with db.uow(readonly=True) as uow:
        backlog = pending_count(uow)
    if backlog and not db.settings.event_bus_url:
        drainer = Database(settings=db.settings)
        try:
            create_app(drainer).state.bus.drain()
        finally:
            drainer.dispose()
    return backlog


def _http_phase(
    db: Database, code: str, seconds: float, c: int, workers: int = 1, floor: bool = False
) -> Phase:
    token = admin_token(db)
    port = _free_port()
    app = "onestore.inventory.bench_floor:app" if floor else "onestore.api.asgi:app"
    server = _start_server(db, port, c, workers, app)
    body = {
        "ttl_seconds": int(TTL.total_seconds()),
        "lines": [{"sku": code, "location": HOT_LOCATION, "quantity": 1}],
    }

    def setup(_n: int) -> dict[str, Any]:
        return {"http": _Http(f"http://127.0.0.1:{port}", token)}

    def op(_n: int, _rng: random.Random, state: dict[str, Any]) -> Outcome:
        http: _Http = state["http"]
        status, answer = http.post(f"{BASE}/reservations", body)
        if status == 409 and isinstance(answer, dict) and "insufficient" in str(answer.get("type")):
            _restock(db, code)
            return "insufficient"
        if status in (429, 503):
            raise BenchBusy(status)
        if status != 201:
            raise BenchError(f"POST reservations answered {status}: {answer}")
        status, answer = http.post(f"{BASE}/reservations/{answer['id']}/commit", {})
        if status in (429, 503):
            raise BenchBusy(status)
        if status != 200:
            raise BenchError(f"POST commit answered {status}: {answer}")
        return "ok"

    def teardown(state: dict[str, Any]) -> None:
        state["http"].close()

    try:
        return _run_phase("floor" if floor else "http", seconds, c, op, setup, teardown)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _read_phase(db: Database, name: str, codes: list[str], seconds: float, c: int) -> Phase:
    def op(_n: int, _rng: random.Random, _state: dict[str, Any]) -> Outcome:
        with db.uow(readonly=True) as uow:
            availability.availability(uow, codes)
        return "ok"

    return _run_phase(name, seconds, c, op)


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
        drained = _drain_backlog(db)
        echo(f"   (delivered {drained} events the earlier phases left pending)")
        web = _http_phase(db, hot, seconds, concurrency, http_workers)
        echo("c0. the same over HTTP to routes with nothing behind them (the HTTP floor) …")
        floor = _http_phase(db, hot, seconds, concurrency, http_workers, floor=True)
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

    _table(echo, phases, len(codes[:BASKET]))
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


def _table(echo: Callable[[str], None], phases: Sequence[Phase], basket: int) -> None:
    what = {
        "raw": "a. conditional UPDATE, 1 row, 1 stmt/txn",
        "service": "b. reserve+commit (desk), hot SKU",
        "http": "c. reserve+commit over HTTP, hot SKU",
        "floor": "c0. the same HTTP, routes doing nothing",
        "spread": "d. reserve+commit (desk), spread",
        "order": "b+ reserve+commit (desk)+fulfil, hot",
        "availability": "e. availability, 1 SKU x all locs, 1 thread",
        "basket": f"e. availability, {basket}-SKU basket, 1 thread",
        "availability_loaded": "e. availability, 1 SKU, all threads",
        "basket_loaded": f"e. availability, {basket}-SKU basket, all threads",
    }
    header = ("phase", "ops/s", "ok", "insuff.", "busy", "errors", "p50 ms", "p99 ms")
    rows = [
        (
            what[p.name],
            f"{p.tps:,.1f}",
            f"{p.ok:,}",
            f"{p.insufficient:,}",
            f"{p.busy:,}",
            f"{p.errors:,}",
            f"{p.percentile_ms(0.5):.2f}",
            f"{p.percentile_ms(0.99):.2f}",
        )
        for p in phases
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        echo("  ".join(cells))
    for p in phases:
        if p.first_error:
            echo(f"{p.name}: first error: {p.first_error}")


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
