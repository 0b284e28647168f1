"""Stock use cases that move units on hand: receipts, adjustments, direct sales and returns.

Each is one unit of work: make sure the balance row exists, change it with one conditional
``UPDATE`` (checked through ``RETURNING``), append the movement to the ledger and announce the
new availability through the outbox — all or nothing. Reservations live in
``inventory.reservations``; reads in ``inventory.availability``.

Use cases take SKUs and location codes (or ids) as people type them and resolve them through
``inventory.refs``, so a typo is a 422 on the field that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from onestore.db.uow import UnitOfWork
from onestore.inventory import balances, model, refs, reservations
from onestore.inventory.buffers import record_by_hand
from onestore.inventory.model import InsufficientStock, MovementKind
from onestore.inventory.tables import balances as balance_table
from onestore.inventory.tables import movements
from onestore.inventory.views import MovementPage, MovementView
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import FieldError, ValidationFailed

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


@dataclass(frozen=True, slots=True)
class StockChange:
    """The result of one on-hand change: the movement and the balance after it."""

    movement_id: str
    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int


def _key(uow: UnitOfWork, sku: str, location: str) -> balances.Key:
    variant_id = refs.variant_ids(uow, [sku], ["sku"])[0]
    location_id = refs.location_ids(uow, [location], ["location"])[0]
    return (variant_id, location_id)


def _move(
    uow: UnitOfWork,
    sku: str,
    location: str,
    delta: int,
    kind: MovementKind,
    *,
    reason_code: str | None,
    reference: str | None,
    actor: str | None,
) -> StockChange:
    model.check_reason(kind, reason_code)
    key = _key(uow, sku, location)
    freed = reservations.free_lapsed(uow, [key]) if delta < 0 else {}
    balances.ensure(uow, key)
    for other in sorted(set(freed) - {key}):  # a lapsed hold with lines elsewhere
        if other < key:
            reservations.give_back(uow, {other: freed[other]})
    condition = balances.free_after(delta + freed.get(key, 0)) if delta < 0 else None
    after = balances.apply(
        uow,
        key,
        {
            "on_hand": balance_table.c.on_hand + delta,
            "reserved": balance_table.c.reserved - freed.get(key, 0),
        },
        condition,
    )
    for other in sorted(set(freed) - {key}):
        if other > key:
            reservations.give_back(uow, {other: freed[other]})
    if after is None:
        current = balances.read(uow, key)
        free = 0 if current is None else current.on_hand - current.reserved + freed.get(key, 0)
        free = max(0, free)
        raise InsufficientStock(
            f"only {free} unreserved on hand at {location}",
            errors=[FieldError("quantity", f"only {free} unreserved on hand")],
        )
    movement_id = balances.record(
        uow, key, kind, delta, reason_code=reason_code, reference=reference, actor=actor
    )
    balances.announce(uow, key, after)
    return StockChange(movement_id, sku, location, after.on_hand, after.reserved, after.available)


def receive(
    uow: UnitOfWork,
    sku: str,
    location: str,
    quantity: int,
    *,
    reference: str | None = None,
    actor: str | None = None,
) -> StockChange:
    """Goods arrived: on hand goes up by ``quantity``."""
    quantity = model.check_quantity(quantity)
    return _move(
        uow,
        sku,
        location,
        quantity,
        MovementKind.RECEIPT,
        reason_code=None,
        reference=reference,
        actor=actor,
    )


def receive_many(
    uow: UnitOfWork,
    location: str,
    lines: list[tuple[str, int]],
    *,
    reference: str | None = None,
    actor: str | None = None,
) -> list[StockChange]:
    """A delivery of several SKUs at one location, all or nothing: (sku, quantity) lines, a
    SKU given twice is received once with the sum. Balances are changed in key order (the same
    lock order as everywhere), the answer lists them in the order the lines came."""
    if not lines:
        raise ValidationFailed.on("lines", "at least one line is required")
    if len(lines) > model.MAX_LINES:
        raise ValidationFailed.on("lines", f"at most {model.MAX_LINES} lines")
    for i, (_, quantity) in enumerate(lines):
        model.check_quantity(quantity, f"lines.{i}.quantity")
    found, _ = refs.stock_lines(
        uow,
        [sku for sku, _ in lines],
        [f"lines.{i}.sku" for i in range(len(lines))],
        [location],
        ["location"],
    )
    totals: dict[str, int] = {}
    sku_of: dict[str, str] = {}
    for i, ((variant_id, sku), (_, quantity)) in enumerate(zip(found, lines, strict=True)):
        totals[variant_id] = totals.get(variant_id, 0) + quantity
        sku_of[variant_id] = sku
        if totals[variant_id] > model.MAX_QUANTITY:
            raise ValidationFailed.on(
                f"lines.{i}.quantity", f"lines add up to over {model.MAX_QUANTITY}"
            )
    done = {
        variant_id: receive(
            uow, sku_of[variant_id], location, totals[variant_id], reference=reference, actor=actor
        )
        for variant_id in sorted(totals)
    }
    return [done[variant_id] for variant_id in totals]


def adjust(
    uow: UnitOfWork,
    sku: str,
    location: str,
    delta: int,
    *,
    reason_code: str,
    kind: MovementKind = MovementKind.ADJUSTMENT,
    reference: str | None = None,
    actor: str | None = None,
) -> StockChange:
    """A signed correction with a reason. It may not take away units that are reserved
    (those are promised to someone) unless the balance allows negative stock."""
    delta = model.check_delta(delta)
    if kind not in (MovementKind.ADJUSTMENT, MovementKind.DAMAGE, MovementKind.COUNT_VARIANCE):
        raise ValidationFailed.on("kind", "must be adjustment, damage or count_variance")
    if kind is MovementKind.DAMAGE and delta > 0:
        raise ValidationFailed.on("quantity", "damage takes stock away: use a negative number")
    return _move(
        uow, sku, location, delta, kind, reason_code=reason_code, reference=reference, actor=actor
    )


def record_sale(
    uow: UnitOfWork,
    sku: str,
    location: str,
    quantity: int,
    *,
    reference: str | None = None,
    actor: str | None = None,
) -> StockChange:
    """A sale straight off the shelf (POS) with no reservation before it."""
    quantity = model.check_quantity(quantity)
    return _move(
        uow,
        sku,
        location,
        -quantity,
        MovementKind.SALE,
        reason_code=None,
        reference=reference,
        actor=actor,
    )


def record_return(
    uow: UnitOfWork,
    sku: str,
    location: str,
    quantity: int,
    *,
    reference: str | None = None,
    actor: str | None = None,
) -> StockChange:
    """A customer return put back into sellable stock."""
    quantity = model.check_quantity(quantity)
    return _move(
        uow,
        sku,
        location,
        quantity,
        MovementKind.RETURN,
        reason_code=None,
        reference=reference,
        actor=actor,
    )


def set_buffer(
    uow: UnitOfWork, sku: str, location: str, buffer: int, *, actor: str | None = None
) -> balances.Balance:
    """Hold ``buffer`` units back from promising (safety stock). Not a movement: no unit moves.
    Recorded as set by hand by ``actor``, so ``inventory buffers explain`` can say who did it."""
    model.check_count(buffer, "buffer")
    key = _key(uow, sku, location)
    balances.ensure(uow, key)
    after = balances.apply(uow, key, {"buffer": buffer})
    assert after is not None  # the row was just ensured
    balances.announce(uow, key, after)
    record_by_hand(uow, key, after.buffer, actor)
    return after


def list_movements(
    uow: UnitOfWork,
    *,
    sku: str | None = None,
    location: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> MovementPage:
    """The ledger, oldest first, optionally for one SKU and/or one location."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.on("limit", f"must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed.on("offset", f"must be between 0 and {MAX_OFFSET}")
    query = select(movements).order_by(movements.c.seq).limit(limit).offset(offset)
    if sku is not None:
        query = query.where(movements.c.variant_id == refs.variant_ids(uow, [sku], ["sku"])[0])
    if location is not None:
        location_id = refs.location_ids(uow, [location], ["location"])[0]
        query = query.where(movements.c.location_id == location_id)
    rows = list(uow.conn.execute(query))
    sku_of = refs.skus_by_id(uow, [r.variant_id for r in rows])
    code_of = refs.location_codes_by_id(uow, [r.location_id for r in rows])
    items = [
        MovementView(
            id=r.id,
            seq=r.seq,
            sku=sku_of[r.variant_id],
            location=code_of[r.location_id],
            kind=r.kind,
            on_hand_delta=r.on_hand_delta,
            in_transit_delta=r.in_transit_delta,
            reason_code=r.reason_code,
            reference=r.reference,
            occurred_at=as_utc(r.occurred_at),
            actor=r.actor,
        )
        for r in rows
    ]
    return MovementPage(items=items, limit=limit, offset=offset)
