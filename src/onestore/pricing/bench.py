"""``onestore bench pricing``: how long pricing a basket takes against 200 live discounts.

On the configured database it sets up, once, its own rows (codes ``BENCH-…``, see
:mod:`.bench_data`): 2,000 SKUs in 400 products over a two-level tree of 20 categories (through
the catalog importer), the channels ``BENCH-WEB`` and ``BENCH-MKT``, a tax rate per tax group,
and exactly 200 active, overlapping bench discounts ``BENCH-D001`` … ``BENCH-D200`` with
coupons for the coupon-only ones (through ``pricing.writes``); bench discounts of older runs are
deactivated. A later run finds them in place and writes nothing.

Then, for baskets of 5, 20 and 100 lines (seeded, SKUs drawn by popularity so offers meet), it
warms up and prices each basket through ``service.price_basket`` from one thread — the real
request path: the unit of work, the data-version check, the SKU, channel and coupon look-ups
and the engine — timing every call. For comparison it also times the engine alone
(``engine.price``) on the same baskets resolved beforehand against the cached price book, so a
reader sees what the database part costs. It prints a table, and as its last line one JSON
object.
"""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import typer
from sqlalchemy import select

from onestore.catalog import tables as catalog_tables
from onestore.catalog.importing import import_catalog
from onestore.catalog.tables import channels as channel_table
from onestore.catalog.tables import variants as variant_table
from onestore.db.database import Database
from onestore.db.migrate import current_revision
from onestore.kernel.errors import OnestoreError
from onestore.pricing import bench_data as data
from onestore.pricing import tables as t
from onestore.pricing import writes
from onestore.pricing.basket import BasketIn
from onestore.pricing.books import cache_for
from onestore.pricing.definitions import parse_discount
from onestore.pricing.engine import price
from onestore.pricing.model import Discount, PricedBasket, PricingContext, PricingLine
from onestore.pricing.service import price_basket, resolve
from onestore.pricing.settings_files import CouponIn, TaxData

SIZES = (5, 20, 100)
DEFAULT_BASKETS = 2_000
LARGE_SHARE = 0.15
"""100-line baskets are this share of ``--baskets`` (300 of the default 2,000)."""
QUICK_COUNTS = {5: 100, 20: 40, 100: 2}
DEFAULT_MAX_SECONDS = 120.0
"""Each series stops starting new baskets after this long (0: never): a run must end even when
one basket takes seconds."""
WARM_SECONDS = 5.0
ENGINE_SIZES = (5, 20)
"""Sizes also timed through the engine alone (a 100-line basket's time is nearly all engine)."""


class BenchError(OnestoreError):
    """The bench cannot run: no schema, or bad options."""


# -- setup ----------------------------------------------------------------------------------------
@dataclass
class Setup:
    catalog: data.BenchCatalog
    discounts: list[Discount]
    coupons: list[str]
    wrote: list[str] = field(default_factory=list)  # which steps had to write
    deactivated: int = 0


def ensure_setup(db: Database, echo: Callable[[str], None]) -> Setup:
    """The bench's catalog, tax settings, discounts and coupons, written only where missing or
    different; one unit of work per step."""
    catalog = data.build_catalog()
    discounts = data.bench_discounts(catalog)
    coupons = data.bench_coupons(discounts)
    setup = Setup(catalog, discounts, [c.code for c in coupons])
    if not _catalog_in_place(db, catalog):
        echo(f"importing the bench catalog ({len(catalog.skus):,} SKUs) …")
        with db.uow() as uow:
            import_catalog(uow, data.catalog_document(catalog))
            uow.commit()
        setup.wrote.append("catalog")
    tax = data.tax_data(catalog)
    if not _tax_in_place(db, tax):
        with db.uow() as uow:
            writes.import_tax(uow, tax)
            uow.commit()
        setup.wrote.append("tax")
    stale, changed = _discounts_to_write(db, discounts)
    if stale or changed:
        echo(f"writing {len(changed)} bench discounts, deactivating {len(stale)} old ones …")
        with db.uow() as uow:
            if changed:
                writes.import_discounts(uow, changed)
            for code in stale:
                writes.set_discount_active(uow, code, False)
            uow.commit()
        setup.wrote.append("discounts")
        setup.deactivated = len(stale)
    if not _coupons_in_place(db, coupons):
        with db.uow() as uow:
            writes.import_coupons(uow, coupons)
            uow.commit()
        setup.wrote.append("coupons")
    return setup


def _catalog_in_place(db: Database, catalog: data.BenchCatalog) -> bool:
    wanted = {sku: price for p in catalog.products for sku, price in p.skus}
    v = variant_table
    with db.uow(readonly=True) as uow:
        stored = {
            r.sku: Decimal(r.list_price)
            for r in uow.conn.execute(
                select(v.c.sku, v.c.list_price).where(v.c.sku.like(f"{data.PREFIX}PS-%"))
            )
        }
        found = set(
            uow.conn.execute(
                select(channel_table.c.code).where(
                    channel_table.c.code.in_([data.CHANNEL, data.OTHER_CHANNEL])
                )
            ).scalars()
        )
    return found == {data.CHANNEL, data.OTHER_CHANNEL} and all(
        stored.get(sku) == price for sku, price in wanted.items()
    )


def _tax_in_place(db: Database, tax: TaxData) -> bool:
    r, p, s = t.tax_rates, t.product_tax_groups, t.channel_settings
    groups = sorted({rate.tax_group for rate in tax.rates})
    with db.uow(readonly=True) as uow:
        rates = {
            (row.tax_group, row.jurisdiction, Decimal(row.rate), row.valid_from, row.valid_to)
            for row in uow.conn.execute(select(r).where(r.c.tax_group.in_(groups)))
        }
        products = {
            row.product_code: row.tax_group
            for row in uow.conn.execute(
                select(p).where(p.c.product_code.like(f"{data.PREFIX}PR-%"))
            )
        }
        channel = uow.conn.execute(select(s).where(s.c.channel_code == data.CHANNEL)).first()
    wanted_rates = {
        (x.tax_group, x.jurisdiction, x.rate, x.valid_from, x.valid_to) for x in tax.rates
    }
    settings = tax.channels[0]
    return (
        rates == wanted_rates
        and products == dict(tax.products)
        and channel is not None
        and channel.tax_rounding == settings.tax_rounding.value
        and bool(channel.compound_across_priorities) == settings.compound_across_priorities
        and channel.default_tax_group == settings.default_tax_group
    )


def _discounts_to_write(
    db: Database, wanted: Sequence[Discount]
) -> tuple[list[str], list[Discount]]:
    """(active bench discounts that are not among ``wanted``, wanted ones missing or different)."""
    d = t.discounts
    with db.uow(readonly=True) as uow:
        rows = list(
            uow.conn.execute(
                select(d.c.code, d.c.is_active, d.c.definition).where(
                    d.c.code.like(f"{data.PREFIX}%")
                )
            )
        )
    codes = {w.code for w in wanted}
    stale = sorted(r.code for r in rows if r.is_active and r.code not in codes)
    stored = {r.code: r for r in rows}
    changed = []
    for discount in wanted:
        row = stored.get(discount.code)
        if row is None or not row.is_active or _parsed(row.definition) != discount:
            changed.append(discount)
    return stale, changed


def _parsed(definition: object) -> Discount | None:
    try:
        return parse_discount(definition)
    except OnestoreError:
        return None


def _coupons_in_place(db: Database, coupons: Sequence[CouponIn]) -> bool:
    c = t.coupons
    with db.uow(readonly=True) as uow:
        stored = {
            row.code: (row.discount_code, bool(row.is_active), row.max_uses)
            for row in uow.conn.execute(select(c).where(c.c.code.in_([x.code for x in coupons])))
        }
    return all(stored.get(x.code) == (x.discount, True, None) for x in coupons)


def analyse(db: Database, echo: Callable[[str], None]) -> None:
    """``ANALYZE`` the tables a priced basket reads, as ``pgbench`` does before a run: these
    machines run PostgreSQL with autovacuum off, and a freshly imported catalog without
    statistics is read by sequential scans (twice the look-up time on 2,000 SKUs)."""
    if db.dialect != "postgresql":
        return
    c = catalog_tables
    read = [c.variants, c.products, c.units, c.categories, c.channels, c.locations]
    read += [t.version, t.channel_settings, t.coupons, t.coupon_redemptions]
    names = ", ".join(table.name for table in read)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"ANALYZE {names}")
    echo(f"analysed {names}")


def active_bench_discounts(db: Database) -> int:
    d = t.discounts
    with db.uow(readonly=True) as uow:
        return len(
            uow.conn.execute(
                select(d.c.code).where(d.c.code.like(f"{data.PREFIX}%"), d.c.is_active)
            ).all()
        )


# -- measuring ------------------------------------------------------------------------------------
@dataclass
class Timing:
    """One series of timed calls: per-call nanoseconds and what the priced baskets showed."""

    name: str
    size: int
    drawn: int = 0  # baskets the series had; fewer were priced when the time cap ended it
    times_ns: list[int] = field(default_factory=list)
    elapsed_ns: int = 0
    applied: int = 0  # distinct discounts applied, summed over baskets
    not_exact: int = 0
    not_exhaustive: int = 0
    max_states: int = 0

    @property
    def capped(self) -> bool:
        return len(self.times_ns) < self.drawn

    def percentile_ms(self, q: float) -> float:
        """Nearest rank: the smallest time at least ``q`` of the calls took no longer than."""
        ordered = sorted(self.times_ns)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1e6

    @property
    def max_ms(self) -> float:
        return max(self.times_ns) / 1e6

    @property
    def per_second(self) -> float:
        return len(self.times_ns) / (self.elapsed_ns / 1e9)

    @property
    def mean_applied(self) -> float:
        return self.applied / len(self.times_ns)

    def record(self, priced: PricedBasket) -> None:
        self.applied += len({d.code for line in priced.lines for d in line.discounts})
        self.not_exact += not priced.search.exact
        self.not_exhaustive += not priced.search.exhaustive
        self.max_states = max(self.max_states, priced.search.states)


T = TypeVar("T")


def _warm(call: Callable[[T], object], items: Sequence[T]) -> None:
    """Run ``call`` over ``items`` untimed, for at most :data:`WARM_SECONDS` (at least once)."""
    stop = time.perf_counter() + WARM_SECONDS
    for item in items:
        call(item)
        if time.perf_counter() >= stop:
            break


def _timed(
    name: str, size: int, call: Callable[[T], PricedBasket], items: Sequence[T], cap_s: float
) -> Timing:
    """Time ``call`` on each of ``items`` in turn; with a cap, stop starting new calls once
    ``cap_s`` seconds have gone (the first call always runs)."""
    timing = Timing(name, size, drawn=len(items))
    clock = time.perf_counter_ns
    cap_ns = int(cap_s * 1e9) if cap_s > 0 else 0
    gc.collect()
    start = clock()
    for item in items:
        before = clock()
        priced = call(item)
        after = clock()
        timing.times_ns.append(after - before)
        timing.record(priced)  # not kept: a growing heap would slow the collector's passes
        if cap_ns and after - start >= cap_ns:
            break
    timing.elapsed_ns = clock() - start
    return timing


def measure_service(
    db: Database,
    size: int,
    baskets: Sequence[BasketIn],
    warm: Sequence[BasketIn],
    cap_s: float = 0,
) -> Timing:
    """``service.price_basket`` per basket: the request's whole path, database included."""

    def call(basket: BasketIn) -> PricedBasket:
        return price_basket(db, basket)

    _warm(call, warm)
    return _timed("service", size, call, baskets, cap_s)


def measure_engine(
    db: Database,
    size: int,
    baskets: Sequence[BasketIn],
    warm: Sequence[BasketIn],
    cap_s: float = 0,
) -> Timing:
    """``engine.price`` alone, on baskets resolved beforehand against the cached book."""
    with db.uow(readonly=True) as uow:
        book = cache_for(db).get(uow)
        resolved = [resolve(uow, book, b) for b in baskets]
        warmed = [resolve(uow, book, b) for b in warm]

    def call(item: tuple[PricingContext, list[PricingLine]]) -> PricedBasket:
        return price(book, item[1], item[0])

    _warm(call, warmed)
    return _timed("engine", size, call, resolved, cap_s)


def scope_summary(db: Database, setup: Setup) -> tuple[int, int]:
    """(bench discounts whose scope rules out the bench's sale, those that need a coupon)."""
    probe = data.baskets(setup.catalog, 1, 1, seed=0)[0]
    with db.uow(readonly=True) as uow:
        ctx, _ = resolve(uow, cache_for(db).get(uow), probe)
    out = sum(1 for d in setup.discounts if d.scope.refusal(ctx) is not None)
    return out, sum(1 for d in setup.discounts if d.coupon_required)


# -- the run --------------------------------------------------------------------------------------
def basket_counts(baskets: int | None, quick: bool) -> dict[int, int]:
    if baskets is None and quick:
        return dict(QUICK_COUNTS)
    small = baskets or DEFAULT_BASKETS
    return {5: small, 20: small, 100: max(1, round(small * LARGE_SHARE))}


def run(
    db: Database,
    *,
    baskets: int | None = None,
    seed: int = 1,
    quick: bool = False,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Set up, time every basket size, print the table and the JSON line; return the JSON."""
    if current_revision(db.engine) is None:
        raise BenchError("the database has no schema yet; run: onestore db upgrade")
    if baskets is not None and baskets < 1:
        raise BenchError("--baskets must be at least 1")
    if max_seconds < 0:
        raise BenchError("--max-seconds must be 0 (no cap) or more")
    counts = basket_counts(baskets, quick)
    echo(f"setting up the pricing bench on {db.dialect} …")
    setup = ensure_setup(db, echo)
    analyse(db, echo)
    active = active_bench_discounts(db)
    out_of_scope, coupon_only = scope_summary(db, setup)
    echo(
        f"bench rows: {len(setup.catalog.skus):,} SKUs, {active} active bench discounts "
        f"({out_of_scope} ruled out by scope for the bench sale, {coupon_only} need a coupon); "
        + (f"written now: {', '.join(setup.wrote)}" if setup.wrote else "all reused")
        + (f"; {setup.deactivated} old bench discounts deactivated" if setup.deactivated else "")
    )
    services: dict[int, Timing] = {}
    engines: dict[int, Timing] = {}
    for size in SIZES:
        count = counts[size]
        drawn = data.baskets(setup.catalog, size, count, seed, setup.coupons)
        warm = data.baskets(setup.catalog, size, max(3, min(100, count // 10)), seed + 7_919)
        echo(f"{size} lines: pricing {count:,} baskets through the service …")
        services[size] = measure_service(db, size, drawn, warm, max_seconds)
        if size in ENGINE_SIZES:
            echo(f"{size} lines: the engine alone on the same baskets …")
            engines[size] = measure_engine(db, size, drawn, warm, max_seconds)
    timings = [x for size in SIZES for x in (services[size], engines.get(size)) if x is not None]
    print_table(echo, timings, max_seconds)
    result: dict[str, Any] = {"bench": "pricing", "discounts": active}
    for size in SIZES:
        s = services[size]
        result |= {
            f"p50_ms_{size}_lines": round(s.percentile_ms(0.5), 3),
            f"p99_ms_{size}_lines": round(s.percentile_ms(0.99), 3),
            f"max_ms_{size}_lines": round(s.max_ms, 3),
            f"baskets_per_s_{size}_lines": round(s.per_second, 3),
        }
        if size in engines:
            result |= {
                f"engine_p50_ms_{size}_lines": round(engines[size].percentile_ms(0.5), 3),
                f"engine_p99_ms_{size}_lines": round(engines[size].percentile_ms(0.99), 3),
            }
        result |= {
            f"mean_discounts_applied_{size}_lines": round(s.mean_applied, 3),
            f"baskets_{size}_lines": len(s.times_ns),
            f"not_exact_{size}_lines": s.not_exact,
            f"not_exhaustive_{size}_lines": s.not_exhaustive,
        }
    result |= {
        "not_exact": sum(s.not_exact for s in services.values()),
        "not_exhaustive": sum(s.not_exhaustive for s in services.values()),
        "out_of_scope_discounts": out_of_scope,
        "capped": [x.size for x in services.values() if x.capped],
        "max_seconds": max_seconds,
        "seed": seed,
        "database": db.dialect,
    }
    echo(json.dumps(result))
    return result


def print_table(echo: Callable[[str], None], timings: Sequence[Timing], cap_s: float) -> None:
    what = {"service": "service.price_basket", "engine": "engine.price alone"}
    header = (
        "lines",
        "path",
        "baskets",
        "p50 ms",
        "p99 ms",
        "max ms",
        "baskets/s",
        "disc/basket",
        "max states",
        "not exact",
        "not exhaust.",
    )
    rows = [
        (
            str(x.size),
            what[x.name],
            f"{len(x.times_ns):,}" + ("*" if x.capped else ""),
            f"{x.percentile_ms(0.5):.3f}",
            f"{x.percentile_ms(0.99):.3f}",
            f"{x.max_ms:.3f}",
            f"{x.per_second:,.1f}",
            f"{x.mean_applied:.2f}",
            f"{x.max_states:,}",
            f"{x.not_exact:,}",
            f"{x.not_exhaustive:,}",
        )
        for x in timings
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        cells = [r[0].rjust(widths[0]), r[1].ljust(widths[1])]
        cells += [c.rjust(w) for c, w in zip(r[2:], widths[2:], strict=True)]
        echo("  ".join(cells))
    for x in timings:
        if x.capped:
            echo(
                f"* {x.size} lines, {what[x.name]}: stopped after {cap_s:g} s "
                f"({len(x.times_ns):,} of {x.drawn:,} baskets priced; --max-seconds)"
            )


# -- the command ----------------------------------------------------------------------------------
def register(bench_app: typer.Typer) -> None:
    """Add ``pricing`` to the ``onestore bench`` group."""

    @bench_app.command("pricing")
    def bench_pricing(
        baskets: int | None = typer.Option(
            None,
            min=1,
            max=1_000_000,
            help="Baskets of 5 and of 20 lines each (default 2,000); "
            "100-line baskets are 15 % of it (default 300).",
        ),
        seed: int = typer.Option(
            1, help="Seed of the baskets; the bench catalog and discounts are always the same."
        ),
        quick: bool = typer.Option(
            False, "--quick", help="Few baskets (100, 40 and 2): a smoke run, for tests."
        ),
        max_seconds: float = typer.Option(
            DEFAULT_MAX_SECONDS,
            min=0,
            help="Stop each series after this many seconds (at least one basket; 0: no cap).",
        ),
    ) -> None:
        """Basket pricing against 200 overlapping discounts (ONESTORE_DATABASE_URL)."""
        db = Database()
        try:
            run(
                db,
                baskets=baskets,
                seed=seed,
                quick=quick,
                max_seconds=max_seconds,
                echo=typer.echo,
            )
        finally:
            db.dispose()
