"""The catalog facts pricing needs, read in bulk: SKUs, channels, stores.

Pricing reads catalog rows here and nowhere else, and never writes them. A basket costs two
queries whatever its size: one for its SKUs (with product, category and list price), one for
the category tree (to know "t-shirts" is inside "tops"), plus one for the channel and store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Label, Select, String, any_, bindparam, or_, select
from sqlalchemy.dialects import postgresql

from onestore.catalog.tables import categories, channels, locations, products, units, variants
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import Money


@dataclass(frozen=True, slots=True)
class SkuFacts:
    sku: str
    product: str
    categories: frozenset[str]  # codes of the item's category and all its ancestors
    list_price: Money
    unit_decimals: int  # 0: sold in whole units only
    status: str


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    code: str
    kind: str
    currency: str
    prices_include_tax: bool
    jurisdiction: str | None  # of the channel's own location, if it has one
    timezone: str  # of the channel's own location; UTC without one


T = TypeVar("T")
_NONE: frozenset[str] = frozenset()


_SKU_COLUMNS = (
    select(
        variants.c.sku,
        variants.c.list_price,
        variants.c.currency,
        variants.c.status,
        products.c.code.label("product"),
        products.c.category_id,
        units.c.decimals,
    )
    .join(products, products.c.id == variants.c.product_id)
    .join(units, units.c.code == products.c.unit_code)
)
_SKU_QUERIES: dict[str, Select[Any]] = {
    # PostgreSQL takes the SKUs as one array: one statement text whatever the basket's size
    # (prepared once per connection), and no per-call rendering of an expanding IN list
    "postgresql": _SKU_COLUMNS.where(
        variants.c.sku == any_(bindparam("skus", type_=postgresql.ARRAY(String)))
    ),
    "sqlite": _SKU_COLUMNS.where(variants.c.sku.in_(bindparam("skus", expanding=True))),
}


def jurisdiction(country: str | None, region: str | None) -> str | None:
    """``"FR"`` or ``"US-CA"``: the tax jurisdiction of an address."""
    if not country:
        return None
    return f"{country.upper()}-{region.upper()}" if region else country.upper()


class Recent:
    """Catalog facts a worker remembers for a few seconds: the category tree, channels.

    They change rarely (a category moved, a channel's tax mode switched) and every basket needs
    them; remembering them ``seconds`` (a bounded, documented staleness, like the bearer-token
    cache) saves two or three queries per basket. One per database and price book version
    (``books.BookCache``); 0 seconds turns it off.
    """

    def __init__(self, seconds: float = 5.0) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._items: dict[tuple[str, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[str, ...], load: Callable[[], T]) -> T:
        now = time.monotonic()
        found = self._items.get(key)
        if found is not None and found[0] > now:
            return cast(T, found[1])
        value = load()
        if self.seconds > 0:
            with self._lock:
                self._items[key] = (now + self.seconds, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._items.clear()


def _category_tree(uow: UnitOfWork) -> dict[str, frozenset[str]]:
    """Category id -> the codes of it and all its ancestors (one shared set per category)."""
    rows = uow.conn.execute(select(categories.c.id, categories.c.code, categories.c.parent_id))
    parents = {r.id: (r.code, r.parent_id) for r in rows}
    tree = {}
    for start in parents:
        codes: set[str] = set()
        node: str | None = start
        while node is not None and node in parents and parents[node][0] not in codes:
            codes.add(parents[node][0])
            node = parents[node][1]
        tree[start] = frozenset(codes)
    return tree


def sku_facts(
    uow: UnitOfWork, skus: list[str], recent: Recent | None = None
) -> dict[str, SkuFacts]:
    """Facts for every known SKU in ``skus`` (unknown ones are simply absent)."""
    return sku_facts_with(uow, skus, (), None, recent)[0]


def sku_facts_with(
    uow: UnitOfWork,
    skus: list[str],
    columns: tuple[Label[Any], ...],
    params: dict[str, Any] | None = None,
    recent: Recent | None = None,
) -> tuple[dict[str, SkuFacts], tuple[Any, ...] | None]:
    """:func:`sku_facts`, and the values of ``columns`` (scalar subqueries, their parameters in
    ``params``) read in the same statement — one round trip instead of several (the service
    reads the pricing version and the basket's coupons so). ``None`` when no SKU is known."""
    query = _with_columns(uow.conn.dialect.name, columns)
    rows = uow.conn.execute(query, {"skus": sorted(set(skus)), **(params or {})}).all()
    extra = tuple(rows[0][len(rows[0]) - len(columns) :]) if rows else None
    return _facts(uow, rows, recent), extra


@cache
def _with_columns(dialect: str, columns: tuple[Label[Any], ...]) -> Select[Any]:
    """The SKU query with ``columns`` added, built once (building a statement costs more than
    running it from SQLAlchemy's compiled cache)."""
    return _SKU_QUERIES[dialect].add_columns(*columns)


def _facts(uow: UnitOfWork, rows: Sequence[Any], recent: Recent | None) -> dict[str, SkuFacts]:
    if not rows:
        return {}
    if recent is None:
        tree = _category_tree(uow)
    else:
        tree = recent.get(("categories",), lambda: _category_tree(uow))
    facts = {}
    for r in rows:
        facts[r.sku] = SkuFacts(
            sku=r.sku,
            product=r.product,
            categories=tree.get(r.category_id, _NONE),
            list_price=Money(Decimal(r.list_price), r.currency).rounded(),
            unit_decimals=int(r.decimals),
            status=r.status,
        )
    return facts


def channel_or_raise(
    uow: UnitOfWork, code: str, field: str = "channel", recent: Recent | None = None
) -> ChannelFacts:
    """The channel's pricing facts (remembered a few seconds with ``recent``)."""
    if recent is None:
        return _channel_or_raise(uow, code, field)
    return recent.get(("channel", code), lambda: _channel_or_raise(uow, code, field))


def _channel_or_raise(uow: UnitOfWork, code: str, field: str) -> ChannelFacts:
    row = uow.conn.execute(
        select(
            channels.c.code,
            channels.c.kind,
            channels.c.currency,
            channels.c.prices_include_tax,
            channels.c.is_active,
            locations.c.country,
            locations.c.region,
            locations.c.timezone,
        )
        .select_from(channels.outerjoin(locations, locations.c.id == channels.c.location_id))
        .where(or_(channels.c.code == code, channels.c.id == code))
    ).first()
    if row is None:
        raise ValidationFailed.on(field, f"unknown channel {code!r}")
    if not row.is_active:
        raise ValidationFailed.on(field, f"channel {row.code} is not active")
    return ChannelFacts(
        code=row.code,
        kind=row.kind,
        currency=row.currency,
        prices_include_tax=bool(row.prices_include_tax),
        jurisdiction=jurisdiction(row.country, row.region),
        timezone=row.timezone or "UTC",
    )


@dataclass(frozen=True, slots=True)
class StoreFacts:
    id: str
    code: str
    jurisdiction: str | None
    timezone: str


def store_or_raise(
    uow: UnitOfWork, ref: str, field: str = "store", recent: Recent | None = None
) -> StoreFacts:
    """Location ``ref`` (code or id) with its tax jurisdiction and time zone; unknown is an
    error on ``field`` (remembered a few seconds with ``recent``)."""
    if recent is None:
        return _store_or_raise(uow, ref, field)
    return recent.get(("store", ref), lambda: _store_or_raise(uow, ref, field))


def _store_or_raise(uow: UnitOfWork, ref: str, field: str) -> StoreFacts:
    row = uow.conn.execute(
        select(
            locations.c.id,
            locations.c.code,
            locations.c.country,
            locations.c.region,
            locations.c.timezone,
        ).where(or_(locations.c.code == ref, locations.c.id == ref))
    ).first()
    if row is None:
        raise ValidationFailed.on(field, f"unknown store {ref!r}")
    return StoreFacts(row.id, row.code, jurisdiction(row.country, row.region), row.timezone)


def known_codes(uow: UnitOfWork, kind: str, codes: set[str]) -> set[str]:
    """Which of ``codes`` exist as channels or locations (``kind`` "channel" or "store")."""
    if not codes:
        return set()
    table = channels if kind == "channel" else locations
    rows = uow.conn.execute(select(table.c.code).where(table.c.code.in_(sorted(codes))))
    return {r.code for r in rows}


def known_skus(uow: UnitOfWork, skus: set[str]) -> set[str]:
    if not skus:
        return set()
    found: set[str] = set()
    ordered = sorted(skus)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        found |= {
            r.sku for r in uow.conn.execute(select(variants.c.sku).where(variants.c.sku.in_(chunk)))
        }
    return found
