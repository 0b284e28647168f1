"""The demo retailer's stock: deep at the DCs, shallow and patchy in the stores, a month of sales.

A back office with every balance at 10 hides everything worth showing — which store is out of
the best seller, why the web may not promise a store's last units, what sells. So the plan
imitates how a retailer's stock actually looks:

* **Popularity is skewed.** Products get a seeded sales rank; demand falls off like Zipf's law,
  so a few products sell most of the units and stock depth follows demand.
* **DCs are deep**: 40–400 units of most SKUs (the first DC carries more of the range than the
  second); discontinued products are down to remnants, drafts have never been bought in.
* **Stores are shallow**: 1–12 units of a subset of their assortment (small-format stores carry
  less, and nothing outside their assortment). Shelves do not grow with the catalog, so at
  scale 10 a store ranges about as many products as at scale 1. Within a size run the middle
  sizes are stocked deeper than the extremes, which stores often skip — as buyers do.
* **A month of history**: a few hundred sales and some returns at stores over the last 30 days
  (sales velocity for buffers and reports), including sell-outs, which is how a store balance
  reaches zero. The stock itself arrived 36 days ago.
* **A handful of buffers** at three full-format stores: a unit or two of the best sellers held
  back so the web does not promise a store's last units, which may already be in a shopper's
  hand.

The plan (:func:`plan_stock`) is pure and seeded, like the catalog document, so the same seed
gives the same stock. :func:`load_stock` writes it: opening stock through the inventory bulk
path, history through ``inventory.service`` (each sale a real movement and balance change, so
the ledger sums to the balance by the same code that guarantees it everywhere else). Vendor
locations hold none: their stock is not the retailer's.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from onestore.catalog.model import AssortmentLine, AssortmentRule, resolve_assortments
from onestore.db.uow import UnitOfWork
from onestore.demo import geography
from onestore.demo.generator import PRODUCTS_PER_SCALE
from onestore.inventory import refs, service
from onestore.inventory.bulk import receive_bulk
from onestore.kernel.clock import FrozenClock

OPENING_REFERENCE = "DEMO-OPENING-STOCK"
ACTOR = "demo"
OPENED_DAYS_AGO = 36
HISTORY_DAYS = 30
SALES = 300
"""Regular sale lines over the month (not scaled up: it is history to look at, not load; small
test catalogs get fewer)."""
SELL_OUTS = 40
"""Store balances of popular products sold down to zero during the month."""
RETURN_SHARE = 0.08
ALWAYS_CARRIED = 3
"""Every store and DC carries the best sellers in its range, so none is ever empty."""
BUFFER_STORES = 3
BUFFER_SKUS = 12
DC_COVER = (0.95, 0.8)
"""Share of the active range each DC holds: the main DC nearly all, the second most."""
SHELF = PRODUCTS_PER_SCALE
"""Products a full-format store has room to range (before its share of the tail)."""
ZIPF = 0.8
"""Demand exponent: the product ranked r sells in proportion to 1 / r**ZIPF."""

Line = tuple[str, str, int]
"""(sku, location code, units)."""
Report = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Movement:
    """One sale or return of the history, in store-local time."""

    kind: str  # sale | return
    sku: str
    location: str
    quantity: int
    days_ago: int  # 1 = yesterday
    minute: int  # minutes after local midnight (store hours)
    reference: str


@dataclass(frozen=True, slots=True)
class StockPlan:
    opening: tuple[Line, ...]  # what arrived OPENED_DAYS_AGO, by location then catalog order
    history: tuple[Movement, ...]  # oldest first
    buffers: tuple[Line, ...]

    def on_hand(self) -> dict[tuple[str, str], int]:
        """Units on hand per (sku, location) once the history has been replayed."""
        units = {(sku, location): quantity for sku, location, quantity in self.opening}
        for m in self.history:
            units[(m.sku, m.location)] += m.quantity if m.kind == "return" else -m.quantity
        return units

    def totals(self) -> dict[str, int]:
        """Counts for the demo summary and marker."""
        on_hand = self.on_hand()
        return {
            "stock_balances": len(self.opening),
            "stock_units": sum(on_hand.values()),
            "stock_locations": len({location for _, location, _ in self.opening}),
            "out_of_stock": sum(1 for units in on_hand.values() if units == 0),
            "sales": sum(1 for m in self.history if m.kind == "sale"),
            "returns": sum(1 for m in self.history if m.kind == "return"),
            "buffers": len(self.buffers),
        }


@dataclass(frozen=True, slots=True)
class _Product:
    code: str
    status: str
    rank: int  # 0 = best seller
    depth: float  # 1.0 for the best seller, falling with rank (how deep stock runs)
    heat: float  # 1.0 for the best seller, 0.0 from rank SHELF on (how widely it is carried)
    variants: tuple[tuple[str, float], ...]  # (sku, size factor)


def plan_stock(document: Mapping[str, Any], seed: int) -> StockPlan:
    """The stock for the demo ``document`` (from ``generator.generate``) and ``seed``."""
    rng = random.Random(f"onestore-demo-stock/{seed}")  # noqa: S311 - reproducible demo data
    products = _ranked(rng, document["products"])
    kinds = {loc["code"]: loc["kind"] for loc in document["locations"]}
    dcs = [code for code, kind in kinds.items() if kind == "dc"]
    stores = [code for code, kind in kinds.items() if kind == "store"]
    share = min(1.0, SHELF / max(len(products), 1))  # of the tail a store finds room for
    opening: list[Line] = []
    for index, dc in enumerate(dcs):
        opening += _dc_lines(rng, dc, DC_COVER[min(index, len(DC_COVER) - 1)], products)
    ranges = _store_ranges(document)
    small = {site.code for site in geography.STORES if site.small}
    for store in stores:
        opening += _store_lines(rng, store, store in small, share, ranges[store], products)
    product_of = {sku: p for p in products for sku, _ in p.variants}
    history = _history(rng, [line for line in opening if line[1] in stores], product_of)
    on_hand = StockPlan(tuple(opening), history, ()).on_hand()
    return StockPlan(tuple(opening), history, _buffers(stores, small, products, on_hand))


# -- opening stock --------------------------------------------------------------------------------
def _ranked(rng: random.Random, rows: list[dict[str, Any]]) -> list[_Product]:
    """Products in catalog order, each with a seeded sales rank and its size factors."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    rank = {index: position for position, index in enumerate(order)}
    span = max(min(len(rows), SHELF) - 1, 1)
    return [
        _Product(
            code=row["code"],
            status=row["status"],
            rank=rank[i],
            depth=(1 / (rank[i] + 1)) ** 0.35,
            heat=max(0.0, 1 - rank[i] / span),
            variants=_size_factors(row["variants"]),
        )
        for i, row in enumerate(rows)
    ]


def _size_factors(variants: list[dict[str, Any]]) -> tuple[tuple[str, float], ...]:
    """1.0 for the middle of the product's size run, down to 0.4 at either end.

    Variants list their sizes in run order (XS…XL, 28…40), so a size's position in the run
    is the order in which it first appears."""
    run = list(dict.fromkeys(v["size"] for v in variants if v["size"] is not None))
    if len(run) < 2:
        return tuple((v["sku"], 1.0) for v in variants)
    centre = (len(run) - 1) / 2
    return tuple(
        (
            v["sku"],
            1.0 if v["size"] is None else 1 - 0.6 * abs(run.index(v["size"]) - centre) / centre,
        )
        for v in variants
    )


def _best_sellers(products: list[_Product], offered: frozenset[str] | None = None) -> set[str]:
    """The :data:`ALWAYS_CARRIED` best-selling active products (of a range, if given)."""
    active = [
        p for p in products if p.status == "active" and (offered is None or p.code in offered)
    ]
    return {p.code for p in sorted(active, key=lambda p: p.rank)[:ALWAYS_CARRIED]}


def _dc_lines(rng: random.Random, dc: str, cover: float, products: list[_Product]) -> list[Line]:
    hits = _best_sellers(products)
    lines: list[Line] = []
    for p in products:
        if p.status == "draft":  # never bought in
            continue
        for sku, size in p.variants:
            if p.status == "discontinued":  # selling off: a few remnants, mostly gone
                if rng.random() < 0.3:
                    lines.append((sku, dc, rng.randint(1, 20)))
            elif p.code in hits or rng.random() < cover:
                units = (40 + 360 * p.depth) * size * rng.uniform(0.8, 1.2)
                lines.append((sku, dc, min(400, max(40, round(units)))))
    return lines


def _store_lines(
    rng: random.Random,
    store: str,
    small: bool,
    share: float,
    offered: frozenset[str],
    products: list[_Product],
) -> list[Line]:
    """A subset of the store's assortment: best sellers nearly always, the tail now and then.

    ``share`` shrinks the tail when the catalog outgrows :data:`SHELF`: shelves do not grow
    with the catalog, so at scale 10 a store carries about as many products as at scale 1.
    """
    base, spread = (0.2 * share, 0.55) if small else (0.4 * share, 0.55)
    hits = _best_sellers(products, offered)
    lines: list[Line] = []
    for p in products:
        if p.code not in offered or p.status == "draft":
            continue
        if p.status == "discontinued":
            if rng.random() < 0.25:
                lines += [
                    (sku, store, rng.randint(1, 3)) for sku, _ in p.variants if rng.random() < 0.5
                ]
            continue
        if p.code not in hits and rng.random() >= base + spread * p.heat:
            continue
        for sku, size in p.variants:
            if p.code not in hits and rng.random() < 0.5 * (1 - size):
                continue  # the extremes of a size run are often not stocked in store
            mean = (1.5 + 10.5 * p.depth * size) * (0.7 if small else 1.0)
            units = round(rng.gauss(mean, max(1.0, mean / 3)))
            lines.append((sku, store, min(12, max(1, units))))
    return lines


def _store_ranges(document: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Store location code -> the product codes its channel's assortments offer.

    Only assortments without dates count: seasonal ranges come and go, and the opening stock
    must not depend on the day the demo is loaded (same seed, same stock).
    """
    parents = {c["code"]: c["parent"] for c in document["categories"]}
    categories = {p["code"]: p["category"] for p in document["products"]}
    rules: dict[str, list[AssortmentRule]] = {}
    for a in document["assortments"]:
        if a["valid_from"] is not None or a["valid_to"] is not None:
            continue
        rule = AssortmentRule(
            a["code"],
            None,
            None,
            tuple(
                AssortmentLine(ln.get("product"), ln.get("category"), ln["exclude"])
                for ln in a["lines"]
            ),
        )
        for channel in a["channels"]:
            rules.setdefault(channel, []).append(rule)
    day = date(2000, 1, 1)  # any day: only undated rules are left
    resolved: dict[tuple[str, ...], frozenset[str]] = {}  # stores share a few rule sets
    ranges: dict[str, frozenset[str]] = {}
    for channel in document["channels"]:
        if channel["kind"] != "store":
            continue
        own = rules.get(channel["code"], [])
        key = tuple(rule.id for rule in own)
        if key not in resolved:
            resolved[key] = resolve_assortments(own, day, categories, parents)
        ranges[channel["location"]] = resolved[key]
    return ranges


# -- history and buffers --------------------------------------------------------------------------
def _history(
    rng: random.Random, store_lines: list[Line], product_of: Mapping[str, _Product]
) -> tuple[Movement, ...]:
    """Sales weighted by popularity, sell-outs of popular store SKUs, returns of some sales.

    Every unit sold was received first and no balance sells more than it received, so on hand
    never goes below zero at any moment of the replay, whatever the order of the sales.
    """
    if not store_lines:
        return ()
    left = {(sku, loc): units for sku, loc, units in store_lines}
    sold: list[tuple[str, str, int]] = []
    weights = [(1 / (product_of[sku].rank + 1)) ** ZIPF for sku, _, _ in store_lines]
    for sku, loc, _ in rng.choices(store_lines, weights, k=min(SALES, len(store_lines) // 40)):
        units = min(left[(sku, loc)], 1 if rng.random() < 0.9 else 2)
        if units:
            left[(sku, loc)] -= units
            sold.append((sku, loc, units))
    popular = [
        (sku, loc) for sku, loc, units in store_lines if product_of[sku].rank < 200 and units <= 3
    ]
    sell_outs = rng.sample(popular, min(SELL_OUTS, len(store_lines) // 200, len(popular)))
    for key in sell_outs:
        while left[key]:
            units = min(left[key], rng.randint(1, 2))
            left[key] -= units
            sold.append((*key, units))
    emptied = set(sell_outs)
    movements: list[Movement] = []
    for n, (sku, loc, units) in enumerate(sold, start=1):
        days_ago = rng.randint(1, HISTORY_DAYS)
        minute = _store_minute(rng)
        movements.append(Movement("sale", sku, loc, units, days_ago, minute, f"DEMO-POS-{n:05d}"))
        if days_ago > 2 and (sku, loc) not in emptied and rng.random() < RETURN_SHARE:
            back = rng.randint(1, days_ago - 1)
            movements.append(
                Movement("return", sku, loc, 1, back, _store_minute(rng), f"DEMO-RET-{n:05d}")
            )
    movements.sort(key=lambda m: (-m.days_ago, m.minute))
    return tuple(movements)


def _store_minute(rng: random.Random) -> int:
    """A minute of store hours, 9:00–20:59, busier in the afternoon."""
    return round(min(20 * 60 + 59, max(9 * 60, rng.triangular(9 * 60, 21 * 60, 16 * 60))))


def _buffers(
    stores: list[str],
    small: set[str],
    products: list[_Product],
    on_hand: Mapping[tuple[str, str], int],
) -> tuple[Line, ...]:
    """One or two units of the best sellers at the first full-format stores (web orders)."""
    by_rank = sorted(products, key=lambda p: p.rank)
    lines: list[Line] = []
    for store in [s for s in stores if s not in small][:BUFFER_STORES]:
        picked = [
            (sku, store, 1 if on_hand[(sku, store)] < 8 else 2)
            for p in by_rank
            for sku, _ in p.variants
            if on_hand.get((sku, store), 0) >= 4
        ]
        lines += picked[:BUFFER_SKUS]
    return tuple(lines)


# -- writing --------------------------------------------------------------------------------------
def load_stock(uow: UnitOfWork, plan: StockPlan, report: Report) -> dict[str, int]:
    """Write ``plan`` in ``uow``: opening stock, then the history in time order, then buffers.

    The history is replayed with the unit of work's clock set to each movement's moment, so the
    ledger, the balance's ``updated_at`` and the outbox all carry the day the sale happened
    (sales velocity is computed from those dates); the caller's clock is restored afterwards.
    """
    locations = refs.known_location_ids(uow, sorted({loc for _, loc, _ in plan.opening}))
    skus = sorted({sku for sku, _, _ in plan.opening})
    variants: dict[str, str] = {}
    for start in range(0, len(skus), 1000):
        variants.update(refs.known_variant_ids(uow, skus[start : start + 1000]))
    now = uow.now()
    zone = ZoneInfo(geography.TIMEZONE)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), zone)  # today, store time

    def moment(days_ago: int, minute: int) -> datetime:
        return (midnight - timedelta(days=days_ago) + timedelta(minutes=minute)).astimezone(UTC)

    with _replaying(uow, moment(OPENED_DAYS_AGO, 6 * 60)) as clock:
        receive_bulk(
            uow,
            ((variants[sku], locations[loc], units) for sku, loc, units in plan.opening),
            reference=OPENING_REFERENCE,
            actor=ACTOR,
            progress=lambda done, total: report("stock", done, total),
        )
        report("history", 0, len(plan.history))
        for done, m in enumerate(plan.history, start=1):
            clock.set(moment(m.days_ago, m.minute))
            record = service.record_sale if m.kind == "sale" else service.record_return
            record(uow, m.sku, m.location, m.quantity, reference=m.reference, actor=ACTOR)
            report("history", done, len(plan.history))
    for sku, location, units in plan.buffers:
        service.set_buffer(uow, sku, location, units, actor=ACTOR)
    return plan.totals()


@contextmanager
def _replaying(uow: UnitOfWork, start: datetime) -> Iterator[FrozenClock]:
    """Lend ``uow`` a clock the caller moves through the past; give its own clock back after."""
    own = uow.clock
    clock = FrozenClock(start)
    uow.clock = clock
    try:
        yield clock
    finally:
        uow.clock = own
