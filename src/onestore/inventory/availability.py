"""Availability to promise, read from the database of record (no cache that can lie).

``available = on_hand - reserved - buffer``, where ``reserved`` leaves out soft reservations
whose ``expires_at`` has passed even if the sweeper has not released them yet: when any are due,
a correlated sub-query adds their quantity back, so the answer is right between sweeps. Every
read is a fixed number of queries whatever the number of SKUs and locations asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, literal, select

from onestore.db.uow import UnitOfWork
from onestore.inventory import model, refs
from onestore.inventory.balances import Key
from onestore.inventory.tables import balances, reservation_lines, reservations
from onestore.inventory.views import BalanceView, SkuAvailability
from onestore.kernel.errors import ValidationFailed

MAX_SKUS = 100
MAX_LOCATIONS = 500


_DUE_CONDITIONS = (
    reservations.c.status == model.ReservationStatus.ACTIVE.value,
    reservations.c.kind == model.ReservationKind.SOFT.value,
    reservations.c.expires_at <= bindparam("now"),
)
_DUE_HOLDS = (
    select(reservations.c.id)
    .where(*_DUE_CONDITIONS)
    .order_by(reservations.c.expires_at)  # the longest lapsed first, if there are too many
    .limit(bindparam("most"))
)
DUE_HOLDS_READ = 20_000
"""At most this many due holds per read (each is a bound parameter; PostgreSQL takes 65,535).
Only a sweeper stopped for hours leaves more; past it, the ones left out keep counting as
reserved until the next sweep or read — promising less, never more."""


def due_hold_ids(uow: UnitOfWork) -> list[str]:
    """The soft reservations that have lapsed but are still marked active: a handful (the
    sweeper keeps it small), found through ``ix_inventory_reservations_due``.

    Why a query of its own: every question about lapsed holds on a balance must start here and
    reach the lines by reservation id. Starting from the balance's lines instead reads every
    line ever written for the SKU at that location — on a hot SKU tens of thousands: 8.8 ms at
    43,700 lines, paid by every checkout batch, against 0.15 ms from the due holds. Planners
    pick that path whenever their statistics lag a fast-growing table, and neither a
    materialized CTE nor a sub-query stops them (measured on PostgreSQL 15: the lines stay the
    outer loop). With the ids in hand the order is no longer the planner's to choose, and the
    usual answer — nothing is due — skips the lines altogether."""
    return list(uow.conn.execute(_DUE_HOLDS, {"now": uow.now(), "most": DUE_HOLDS_READ}).scalars())


def _effective_query(netted: bool) -> Select[Any]:
    lapsed: ColumnElement[int] = literal(0)
    if netted:
        # The due holds are asked again here, not trusted from the first read: on PostgreSQL
        # each statement of a read sees its own snapshot, and a hold released or swept in
        # between is already out of ``reserved`` — subtracting it again would promise too much
        # (found by review).
        lapsed = (
            select(func.coalesce(func.sum(reservation_lines.c.quantity), 0))
            .select_from(
                reservation_lines.join(
                    reservations, reservations.c.id == reservation_lines.c.reservation_id
                )
            )
            .where(
                reservation_lines.c.reservation_id.in_(bindparam("due", expanding=True)),
                reservation_lines.c.variant_id == balances.c.variant_id,
                reservation_lines.c.location_id == balances.c.location_id,
                *_DUE_CONDITIONS,
            )
            .correlate(balances)
            .scalar_subquery()
        )
    return select(
        balances.c.variant_id,
        balances.c.location_id,
        balances.c.on_hand,
        balances.c.reserved,
        balances.c.in_transit,
        balances.c.buffer,
        lapsed.label("lapsed"),
    ).where(
        balances.c.variant_id.in_(bindparam("variant_ids", expanding=True)),
        balances.c.location_id.in_(bindparam("location_ids", expanding=True)),
    )


_EFFECTIVE = _effective_query(netted=False)
_EFFECTIVE_NETTED = _effective_query(netted=True)
"""Built once (availability is the hottest read); a call binds ids (and the due holds, when
there are any, whose units it adds back to what the balance may promise)."""


def effective(
    uow: UnitOfWork, variant_ids: Sequence[str], location_ids: Sequence[str]
) -> dict[Key, tuple[int, int, int, int]]:
    """(on_hand, effective reserved, in_transit, buffer) per existing balance row: the due
    holds, then the balances in one query."""
    if not variant_ids or not location_ids:
        return {}
    due = due_hold_ids(uow)
    params: dict[str, Any] = {
        "variant_ids": sorted(set(variant_ids)),
        "location_ids": sorted(set(location_ids)),
    }
    if due:
        params["due"], params["now"] = due, uow.now()
    rows = uow.conn.execute(_EFFECTIVE_NETTED if due else _EFFECTIVE, params)
    return {
        (r.variant_id, r.location_id): (
            r.on_hand,
            r.reserved - int(r.lapsed),
            r.in_transit,
            r.buffer,
        )
        for r in rows
    }


def available_at(uow: UnitOfWork, key: Key) -> int:
    """What one balance may still promise now (0 when there is no row)."""
    found = effective(uow, [key[0]], [key[1]]).get(key)
    return 0 if found is None else model.available(found[0], found[1], found[3])


def availability(
    uow: UnitOfWork,
    skus: Sequence[str],
    *,
    locations: Sequence[str] = (),
    channel: str | None = None,
) -> list[SkuAvailability]:
    """Availability of each SKU at the given locations, or at the locations that serve
    ``channel``, or (neither given) at every location; a location with no balance row is 0.

    Many SKUs cost the same queries as one: resolve SKUs and locations (one query when every
    location is wanted, two otherwise), then read balances — with the codes from the look-ups,
    so nothing is read twice."""
    if not skus:
        raise ValidationFailed.on("sku", "give at least one SKU")
    if len(skus) > MAX_SKUS:
        raise ValidationFailed.on("sku", f"at most {MAX_SKUS} SKUs per request")
    if locations and channel:
        raise ValidationFailed.on("channel", "give locations or a channel, not both")
    sku_fields = [f"sku.{i}" for i in range(len(skus))]
    if channel is None and not locations:
        found_variants, found_locations = refs.variants_and_every_location(uow, skus, sku_fields)
    else:
        found_variants = refs.variants_of(uow, skus, sku_fields)
    if channel is not None:
        found_locations = refs.serving_locations(uow, channel)
    elif locations:
        if len(locations) > MAX_LOCATIONS:
            raise ValidationFailed.on("location", f"at most {MAX_LOCATIONS} locations")
        fields = [f"location.{i}" for i in range(len(locations))]
        found_locations = list(dict.fromkeys(refs.locations_of(uow, locations, fields)))
    variant_ids = [v for v, _ in found_variants]
    location_ids = [loc for loc, _ in found_locations]
    found = effective(uow, variant_ids, location_ids)
    sku_of = dict(found_variants)
    code_of = dict(found_locations)
    answer = []
    for variant_id in dict.fromkeys(variant_ids):
        lines = []
        for location_id in location_ids:
            on_hand, reserved, in_transit, buffer = found.get(
                (variant_id, location_id), (0, 0, 0, 0)
            )
            lines.append(
                BalanceView(
                    sku=sku_of[variant_id],
                    location=code_of[location_id],
                    on_hand=on_hand,
                    reserved=reserved,
                    in_transit=in_transit,
                    buffer=buffer,
                    available=model.available(on_hand, reserved, buffer),
                )
            )
        answer.append(
            SkuAvailability(
                sku=sku_of[variant_id],
                available=sum(line.available for line in lines),
                locations=lines,
            )
        )
    return answer
