"""The price book in memory: loaded once per data version, then shared by every request.

Pricing a basket must not read 200 discount definitions from the database each time (the
20-line budget is 5 ms). Each worker keeps the book of the latest version it has seen; a request
reads the one-row version (a primary-key look-up) and reloads only when it moved. A write bumps
the version in its own transaction, so a reader sees the new data and the new number together.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.kernel.money import Money
from onestore.pricing import tables as t
from onestore.pricing.book import PriceBook
from onestore.pricing.definitions import parse_discount
from onestore.pricing.model import PriceEntry, PriceGroup, TaxRate
from onestore.pricing.refs import Recent

_VERSION = select(t.version.c.version).where(t.version.c.id == 1)
VERSION_COLUMN = _VERSION.scalar_subquery().label("pricing_version")
"""The version as a column, to read it in the same statement as something else."""


def current_version(uow: UnitOfWork) -> int:
    """The pricing data version (0 before anything was ever priced or written)."""
    return int(uow.conn.execute(_VERSION).scalar_one_or_none() or 0)


def bump_version(uow: UnitOfWork, now: datetime) -> int:
    """Move the data version on; call it in every transaction that changes pricing data.

    The ``UPDATE`` also serializes concurrent pricing writes on the one row, which is what
    makes the version a total order of changes.
    """
    bump = (
        update(t.version)
        .where(t.version.c.id == 1)
        .values(version=t.version.c.version + 1, changed_at=now)
    )
    if not uow.conn.execute(bump).rowcount:
        # the row the migration creates is gone (a wiped database): put it back, racing
        # writers agreeing on one row, then bump as usual
        make = pg_insert if uow.conn.dialect.name == "postgresql" else sqlite_insert
        uow.conn.execute(
            make(t.version).values(id=1, version=0, changed_at=now).on_conflict_do_nothing()
        )
        uow.conn.execute(bump)
    return current_version(uow)


def tax_rate_of(row: Any) -> TaxRate:
    """A ``pricing_tax_rates`` row as the engine's :class:`TaxRate`."""
    return TaxRate(row.tax_group, row.jurisdiction, Decimal(row.rate), row.valid_from, row.valid_to)


def load_book(uow: UnitOfWork) -> PriceBook:
    """Every price group, price, active discount and tax rate, at one version.

    Under read committed each statement may see a newer commit, so the version is read before
    and after the rows; a write that committed in between moved it, and the load starts again.
    """
    while True:
        before = current_version(uow)
        book = _load_rows(uow, before)
        if current_version(uow) == before:
            return book


def _load_rows(uow: UnitOfWork, version: int) -> PriceBook:
    links: dict[str, dict[str, set[str]]] = {}
    for row in uow.conn.execute(select(t.price_group_links)):
        links.setdefault(row.group_code, {}).setdefault(row.kind, set()).add(row.value)
    groups = []
    for row in uow.conn.execute(select(t.price_groups)):
        mine = links.get(row.code, {})
        groups.append(
            PriceGroup(
                code=row.code,
                name=row.name,
                priority=row.priority,
                channels=frozenset(mine.get("channel", ())),
                stores=frozenset(mine.get("store", ())),
                affiliations=frozenset(mine.get("customer_group", ())),
                loyalty_tiers=frozenset(mine.get("loyalty_tier", ())),
            )
        )
    prices = [
        PriceEntry(
            group=row.group_code,
            sku=row.sku,
            amount=Money(Decimal(row.amount), row.currency).rounded().amount,  # NUMERIC(18,4)
            currency=row.currency,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )
        for row in uow.conn.execute(select(t.prices))
    ]
    discounts = [
        parse_discount(row.definition, f"discount {row.code}")
        for row in uow.conn.execute(
            select(t.discounts.c.code, t.discounts.c.definition).where(t.discounts.c.is_active)
        )
    ]
    rates = [tax_rate_of(row) for row in uow.conn.execute(select(t.tax_rates))]
    return PriceBook.build(
        version=version,
        groups=groups,
        prices=prices,
        discounts=discounts,
        tax_rates=rates,
        product_tax_groups={
            r.product_code: r.tax_group for r in uow.conn.execute(select(t.product_tax_groups))
        },
    )


class BookCache:
    """The latest book one worker has loaded for one database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._book: PriceBook | None = None
        self.recent = Recent()  # catalog facts remembered a few seconds (refs.Recent)

    def get(self, uow: UnitOfWork, version: int | None = None) -> PriceBook:
        """The book of the database's current version; ``version`` when the caller has just
        read it (in this unit of work, see ``VERSION_COLUMN``)."""
        if version is None:
            version = current_version(uow)
        book = self._book
        if book is not None and book.version == version:
            return book
        with self._lock:
            book = self._book
            if book is None or book.version != version:
                book = load_book(uow)
                self._book = book
                self.recent = Recent()  # pricing settings are versioned: start afresh
        return book


_CACHES: weakref.WeakKeyDictionary[Database, BookCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(db: Database) -> BookCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(db)
        if cache is None:
            cache = _CACHES[db] = BookCache()
        return cache
