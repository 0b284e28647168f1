"""What people and clients read about pricing data: discounts, coupons and price groups.

Read-only queries over pricing's own tables, each taking a unit of work and returning plain
dataclasses (the API's wire form via ``catalog.wire.to_json``, the back-office pages' rows).
A list costs a fixed number of queries whatever its length. Pricing a basket is not here: that
is ``service.price_basket``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import NotFound, ValidationFailed
from onestore.pricing import tables as t

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
LINK_KEYS = {
    "channel": "channels",
    "store": "stores",
    "customer_group": "customer_groups",
    "loyalty_tier": "loyalty_tiers",
}


@dataclass(frozen=True, slots=True)
class DiscountSummary:
    code: str
    name: str
    kind: str
    concurrency: str
    priority: int
    is_active: bool
    revision: int
    coupon_required: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DiscountPage:
    items: list[DiscountSummary]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class DiscountDetail:
    """One discount: its stored definition (the document it was imported as) and its state."""

    code: str
    name: str
    kind: str
    concurrency: str
    priority: int
    is_active: bool
    revision: int
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CouponView:
    code: str
    discount: str
    max_uses: int | None  # None: unlimited
    max_uses_per_customer: int | None
    uses: int
    valid_from: date | None
    valid_to: date | None
    is_active: bool


@dataclass(frozen=True, slots=True)
class CouponPage:
    items: list[CouponView]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class PriceGroupView:
    """A price group, what it is linked to and how many prices it holds."""

    code: str
    name: str
    priority: int
    channels: list[str]
    stores: list[str]
    customer_groups: list[str]
    loyalty_tiers: list[str]
    prices: int

    @property
    def linked(self) -> bool:
        return bool(self.channels or self.stores or self.customer_groups or self.loyalty_tiers)


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.on("limit", f"must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed.on("offset", f"must be between 0 and {MAX_OFFSET}")


# -- discounts ------------------------------------------------------------------------------------
def _summary(row: Any) -> DiscountSummary:
    definition = row.definition if isinstance(row.definition, dict) else {}
    return DiscountSummary(
        code=row.code,
        name=row.name,
        kind=row.kind,
        concurrency=row.concurrency,
        priority=int(row.priority),
        is_active=bool(row.is_active),
        revision=int(row.revision),
        coupon_required=bool(definition.get("coupon_required", False)),
        updated_at=row.updated_at,
    )


def list_discounts(
    uow: UnitOfWork, *, active: bool | None = None, limit: int = 100, offset: int = 0
) -> DiscountPage:
    """Discounts by priority (highest first), then code; ``active`` filters on the switch."""
    _page(limit, offset)
    d = t.discounts
    where = [] if active is None else [d.c.is_active.is_(active)]
    total = uow.conn.execute(select(func.count()).select_from(d).where(*where)).scalar_one()
    rows = uow.conn.execute(
        select(d).where(*where).order_by(d.c.priority.desc(), d.c.code).limit(limit).offset(offset)
    )
    return DiscountPage([_summary(r) for r in rows], int(total), limit, offset)


def get_discount(uow: UnitOfWork, code: str) -> DiscountDetail | None:
    row = uow.conn.execute(select(t.discounts).where(t.discounts.c.code == code)).first()
    if row is None:
        return None
    return DiscountDetail(
        code=row.code,
        name=row.name,
        kind=row.kind,
        concurrency=row.concurrency,
        priority=int(row.priority),
        is_active=bool(row.is_active),
        revision=int(row.revision),
        created_at=row.created_at,
        updated_at=row.updated_at,
        definition=dict(row.definition),
    )


def get_discount_or_raise(uow: UnitOfWork, code: str) -> DiscountDetail:
    found = get_discount(uow, code)
    if found is None:
        raise NotFound(f"no discount with code {code!r}")
    return found


def discount_names(uow: UnitOfWork, codes: Iterable[str]) -> dict[str, str]:
    """Code -> name for those of ``codes`` that exist (to label a priced basket's codes)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    d = t.discounts
    rows = uow.conn.execute(select(d.c.code, d.c.name).where(d.c.code.in_(wanted)))
    return {r.code: r.name for r in rows}


# -- coupons --------------------------------------------------------------------------------------
def list_coupons(
    uow: UnitOfWork, *, discount: str | None = None, limit: int = 100, offset: int = 0
) -> CouponPage:
    """Coupon codes by code, optionally only those unlocking ``discount``."""
    _page(limit, offset)
    c = t.coupons
    where = [] if discount is None else [c.c.discount_code == discount]
    total = uow.conn.execute(select(func.count()).select_from(c).where(*where)).scalar_one()
    rows = uow.conn.execute(select(c).where(*where).order_by(c.c.code).limit(limit).offset(offset))
    items = [
        CouponView(
            code=r.code,
            discount=r.discount_code,
            max_uses=r.max_uses,
            max_uses_per_customer=r.max_uses_per_customer,
            uses=int(r.uses),
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            is_active=bool(r.is_active),
        )
        for r in rows
    ]
    return CouponPage(items, int(total), limit, offset)


# -- price groups ---------------------------------------------------------------------------------
def list_price_groups(uow: UnitOfWork) -> list[PriceGroupView]:
    """Every price group by priority (highest first), then code: three queries in all."""
    links: dict[str, dict[str, list[str]]] = {}
    link_rows = uow.conn.execute(
        select(t.price_group_links).order_by(
            t.price_group_links.c.group_code,
            t.price_group_links.c.kind,
            t.price_group_links.c.value,
        )
    )
    for row in link_rows:
        key = LINK_KEYS.get(row.kind)
        if key is not None:
            links.setdefault(row.group_code, {}).setdefault(key, []).append(row.value)
    p = t.prices
    counts = {
        r.group_code: int(r.n)
        for r in uow.conn.execute(
            select(p.c.group_code, func.count().label("n")).group_by(p.c.group_code)
        )
    }
    g = t.price_groups
    groups = []
    for row in uow.conn.execute(select(g).order_by(g.c.priority.desc(), g.c.code)):
        mine = links.get(row.code, {})
        groups.append(
            PriceGroupView(
                code=row.code,
                name=row.name,
                priority=int(row.priority),
                channels=mine.get("channels", []),
                stores=mine.get("stores", []),
                customer_groups=mine.get("customer_groups", []),
                loyalty_tiers=mine.get("loyalty_tiers", []),
                prices=counts.get(row.code, 0),
            )
        )
    return groups
