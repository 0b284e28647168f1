"""Coupon codes: checked when a basket is priced, counted once when an order redeems them.

Pricing only *checks* a coupon (known, active, in its dates, uses left overall and for this
customer) — a cart may be priced a hundred times. The order redeems it: one conditional
``UPDATE … SET uses = uses + 1 WHERE uses < max_uses`` takes a use and locks the coupon's row,
so the per-customer count read next cannot race another checkout of the same customer; the
redemption row is unique per (coupon, order), so an order that retries redeems nothing twice.
Two checkouts racing for the last use: exactly one gets it, the other a 409 naming the coupon.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Label, String, and_, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql

from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import Conflict, FieldError, ValidationFailed
from onestore.kernel.ids import new_id
from onestore.pricing import tables as t

_NAIVE = False
"""Test-only: redeem by reading the count and writing it back without a lock, and trust the
per-customer count read before the lock (the bugs the concurrency tests must catch)."""


@dataclass(frozen=True, slots=True)
class Coupon:
    code: str
    discount_code: str
    max_uses: int | None
    max_uses_per_customer: int | None
    uses: int
    valid_from: date | None
    valid_to: date | None
    is_active: bool


def _row(r: Any) -> Coupon:
    return Coupon(
        r.code,
        r.discount_code,
        r.max_uses,
        r.max_uses_per_customer,
        r.uses,
        r.valid_from,
        r.valid_to,
        bool(r.is_active),
    )


def _customer_uses(uow: UnitOfWork, codes: list[str], customer: str) -> dict[str, int]:
    r = t.coupon_redemptions
    rows = uow.conn.execute(
        select(r.c.coupon_code, func.count())
        .where(r.c.coupon_code.in_(codes), r.c.customer_ref == customer, r.c.released_at.is_(None))
        .group_by(r.c.coupon_code)
    )
    return {code: int(n) for code, n in rows}


_FIELDS = (
    t.coupons.c.code,
    t.coupons.c.discount_code,
    t.coupons.c.max_uses,
    t.coupons.c.max_uses_per_customer,
    t.coupons.c.uses,
    t.coupons.c.valid_from,
    t.coupons.c.valid_to,
    t.coupons.c.is_active,
)


@cache
def coupons_column(dialect: str) -> Label[Any]:
    """The coupons named by the ``coupon_codes`` parameter (upper case) as one JSON array, a
    column to read in the same statement as something else (the service: with the basket's
    SKUs and the pricing version, one round trip). :func:`from_column` reads it."""
    c = t.coupons.c
    if dialect == "postgresql":
        rows = select(func.json_agg(func.json_build_array(*_FIELDS))).where(
            c.code == any_(bindparam("coupon_codes", type_=postgresql.ARRAY(String)))
        )
    else:
        rows = select(func.json_group_array(func.json_array(*_FIELDS))).where(
            c.code.in_(bindparam("coupon_codes", expanding=True))
        )
    return rows.scalar_subquery().label("coupons")


def from_column(value: Any) -> list[Coupon]:
    """The coupons in a :func:`coupons_column` value (a JSON text, or already decoded)."""
    items = json.loads(value) if isinstance(value, str) else value or []
    return [
        Coupon(
            code,
            discount,
            max_uses,
            per_customer,
            int(uses),
            date.fromisoformat(start) if start else None,
            date.fromisoformat(end) if end else None,
            bool(active),
        )
        for code, discount, max_uses, per_customer, uses, start, end, active in items
    ]


def check(
    uow: UnitOfWork,
    codes: Sequence[str],
    *,
    customer: str | None,
    day: date,
    field: str = "coupons",
    known: list[Coupon] | None = None,
) -> dict[str, str]:
    """Coupon code -> the discount it unlocks; any unusable code is a 422 naming it.
    ``known``: the coupons of ``codes`` the caller has read already (``coupons_column``)."""
    if not codes:
        return {}
    wanted = [c.upper() for c in codes]
    if known is None:
        query = select(t.coupons).where(t.coupons.c.code.in_(wanted))
        known = [_row(row) for row in uow.conn.execute(query)]
    found = {coupon.code: coupon for coupon in known}
    mine = _customer_uses(uow, wanted, customer) if customer else {}
    unlocked: dict[str, str] = {}
    errors: list[FieldError] = []
    for i, code in enumerate(wanted):
        reason = _refusal(found.get(code), day, mine.get(code, 0), customer)
        if reason:
            errors.append(FieldError(f"{field}[{i}]", f"coupon {code}: {reason}"))
        else:
            unlocked[code] = found[code].discount_code
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    return unlocked


def _refusal(
    coupon: Coupon | None, day: date, customer_uses: int, customer: str | None
) -> str | None:
    if coupon is None:
        return "unknown code"
    if not coupon.is_active:
        return "has been withdrawn"
    if coupon.valid_from is not None and day < coupon.valid_from:
        return f"valid from {coupon.valid_from.isoformat()}"
    if coupon.valid_to is not None and day > coupon.valid_to:
        return f"expired on {coupon.valid_to.isoformat()}"
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        return "has been used up" if coupon.max_uses > 1 else "has already been used"
    if coupon.max_uses_per_customer is not None:
        if customer is None:
            return "is limited per customer: the sale needs a customer"
        if customer_uses >= coupon.max_uses_per_customer:
            return f"this customer has used it {customer_uses} time(s), the limit"
    return None


def redeem(
    uow: UnitOfWork, codes: Sequence[str], *, order_ref: str, customer: str | None, day: date
) -> list[str]:
    """Count one use of each coupon for ``order_ref``, exactly once; returns the codes counted.

    Runs inside the order's transaction: if the order fails, nothing was used. A code already
    redeemed by this order (a retry) is not counted again.
    """
    counted: list[str] = []
    for code in sorted({c.upper() for c in codes}):  # sorted: coupon rows lock in one order
        r = t.coupon_redemptions
        already = uow.conn.execute(
            select(r.c.id, r.c.released_at).where(
                r.c.coupon_code == code, r.c.order_ref == order_ref
            )
        ).first()
        if already is not None and already.released_at is None:
            continue  # this order redeemed it before (a retry): count nothing
        check(uow, [code], customer=customer, day=day)
        _take_use(uow, code)
        if customer is not None and not _NAIVE:  # re-count now that the coupon row is locked
            limit = uow.conn.execute(
                select(t.coupons.c.max_uses_per_customer).where(t.coupons.c.code == code)
            ).scalar_one()
            if limit is not None and _customer_uses(uow, [code], customer).get(code, 0) >= limit:
                raise Conflict(f"coupon {code}: this customer has reached its limit")
        if already is not None:  # the order gave it back (cancelled) and takes it again
            uow.conn.execute(
                update(r)
                .where(r.c.id == already.id)
                .values(released_at=None, redeemed_at=uow.now())
            )
            counted.append(code)
            continue
        uow.conn.execute(
            insert(r).values(
                id=new_id(),
                coupon_code=code,
                order_ref=order_ref,
                customer_ref=customer,
                redeemed_at=uow.now(),
            )
        )
        counted.append(code)
    return counted


def _take_use(uow: UnitOfWork, code: str) -> None:
    c = t.coupons
    if _NAIVE:
        uses, limit = uow.conn.execute(select(c.c.uses, c.c.max_uses).where(c.c.code == code)).one()
        if limit is not None and uses >= limit:
            raise Conflict(f"coupon {code} has been used up")
        uow.conn.execute(update(c).where(c.c.code == code).values(uses=uses + 1))
        return
    taken = uow.conn.execute(
        update(c)
        .where(
            c.c.code == code,
            c.c.is_active,
            (c.c.max_uses.is_(None)) | (c.c.uses < c.c.max_uses),
        )
        .values(uses=c.c.uses + 1)
    )
    if taken.rowcount != 1:
        raise Conflict(f"coupon {code} has been used up")


def release(uow: UnitOfWork, order_ref: str) -> list[str]:
    """Give back the uses an order took (it was cancelled); returns the codes released."""
    r = t.coupon_redemptions
    rows = uow.conn.execute(
        select(r.c.id, r.c.coupon_code)
        .where(r.c.order_ref == order_ref, r.c.released_at.is_(None))
        .order_by(r.c.coupon_code)
    ).all()
    released = []
    for row in rows:
        done = uow.conn.execute(
            update(r)
            .where(and_(r.c.id == row.id, r.c.released_at.is_(None)))
            .values(released_at=uow.now())
        )
        if done.rowcount != 1:  # a concurrent release got there first: give back once
            continue
        released.append(row.coupon_code)
        uow.conn.execute(
            update(t.coupons)
            .where(t.coupons.c.code == row.coupon_code, t.coupons.c.uses > 0)
            .values(uses=t.coupons.c.uses - 1)
        )
    return released
