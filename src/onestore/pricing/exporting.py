"""Pricing data out: the same documents the imports read, so an export re-imports unchanged.

``onestore export prices`` writes the ``onestore.prices/1`` JSON (or the CSV of prices) and
``onestore export discounts`` the ``onestore.discounts/1`` file with its coupons: what a
merchandiser edits and imports back, or what a store node is seeded with.
"""

from __future__ import annotations

from sqlalchemy import select

from onestore.db.uow import UnitOfWork
from onestore.pricing import tables as t
from onestore.pricing.books import load_book
from onestore.pricing.price_files import PriceData
from onestore.pricing.settings_files import DISCOUNTS_FORMAT


def price_data(uow: UnitOfWork) -> tuple[int, PriceData]:
    """The pricing version and every price group and price, in a stable order."""
    book = load_book(uow)
    groups = tuple(book.groups[code] for code in sorted(book.groups))
    prices = tuple(
        sorted(book.prices(), key=lambda p: (p.group, p.sku, p.currency, str(p.valid_from)))
    )
    return book.version, PriceData(groups=groups, prices=prices)


def discounts_document(uow: UnitOfWork, *, include_inactive: bool = False) -> dict[str, object]:
    """Every (active) discount's definition and the coupons that unlock them."""
    d = t.discounts
    query = select(d.c.code, d.c.definition).order_by(d.c.code)
    if not include_inactive:
        query = query.where(d.c.is_active)
    rows = uow.conn.execute(query).all()
    c = t.coupons
    coupons = uow.conn.execute(
        select(c).where(c.c.discount_code.in_([r.code for r in rows])).order_by(c.c.code)
    ).all()
    return {
        "format": DISCOUNTS_FORMAT,
        "discounts": [r.definition for r in rows],
        "coupons": [
            {
                "code": r.code,
                "discount": r.discount_code,
                "max_uses": r.max_uses,
                "max_uses_per_customer": r.max_uses_per_customer,
                "valid_from": r.valid_from.isoformat() if r.valid_from else None,
                "valid_to": r.valid_to.isoformat() if r.valid_to else None,
                "active": bool(r.is_active),
            }
            for r in coupons
        ],
    }
