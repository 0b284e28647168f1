"""Reservations: soft holds for carts and checkouts that expire, order holds that fulfilment
consumes or a cancel releases. A reservation is all-or-nothing over its lines.

The life of a hold: ``reserve`` (soft, with a TTL — a cart or checkout) → ``extend`` while the
shopper is busy → ``commit`` when the order is placed (the same units become an order hold that
no longer expires; the balance does not change) → ``fulfil`` when it ships or is picked up (the
units leave on hand as a sale) — or ``release`` / ``cancel`` / expiry give them back.

Concurrency, in one paragraph. Reserving is, per line, ``UPDATE balances SET reserved =
reserved + q WHERE key AND on_hand - reserved - buffer >= q`` — the check and the change are
one statement, so two checkouts for the last unit cannot both pass (the second waits for the
first's row lock and then re-evaluates the ``WHERE``). The first line that matches nothing
raises :class:`InsufficientStock` and the unit of work rolls back, so no partial reservation
survives. Locks are taken in one global order: reservation rows by id, then balance rows by
(variant_id, location_id); lapsed soft reservations on the same rows are released in the same
statements (their freed quantity is netted into the one ``UPDATE`` per row), so the sweep adds
no lock out of order and expired holds never block a new one. The balance ``UPDATE``s come last,
followed only by the outbox batch and the commit (the reservation's own rows are written
first), so a hot SKU's row lock is held for as short a time as possible.

``_NAIVE`` is a test-only switch: the concurrency tests flip it to run a read-then-write path
and prove that they catch its oversell. Nothing else may set it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from onestore.db.uow import UnitOfWork
from onestore.inventory import balances, model, refs
from onestore.inventory.availability import available_at
from onestore.inventory.balances import Key
from onestore.inventory.model import (
    InsufficientStock,
    Line,
    LineRequest,
    MovementKind,
    ReservationKind,
    ReservationStatus,
)
from onestore.inventory.tables import reservation_lines, reservations
from onestore.inventory.views import ReservationLineView, ReservationView
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import is_id, new_id

_NAIVE = False
"""Test-only: reserve by reading the balance, deciding in Python and writing the result back
(the classic lost update). Flipped by a test fixture, never by application code."""

DOCUMENT_OWNER = "document:"
"""Owner prefix of holds a stock document keeps (a transfer's units at its source): only the
document may release or consume them, so a cart or order call cannot pull stock from under
it."""

ACTIVE = ReservationStatus.ACTIVE.value
SOFT = ReservationKind.SOFT.value
SWEEP_BATCH = 500

_FIND = select(reservations).where(reservations.c.id == bindparam("id"))
_COMMIT = (
    update(reservations)
    .where(
        reservations.c.id == bindparam("rid"),
        reservations.c.status == ACTIVE,
        reservations.c.kind == SOFT,
        reservations.c.expires_at > bindparam("now"),
    )
    .values(
        kind=ReservationKind.ORDER.value,
        expires_at=None,
        updated_at=bindparam("now"),
    )
    .returning(*reservations.c)
)
_FLIP = (
    update(reservations)
    .where(reservations.c.id == bindparam("rid"), reservations.c.status == ACTIVE)
    .values(status=bindparam("to_status"), updated_at=bindparam("now"))
    .returning(*reservations.c)
)
_EXPIRE = (
    update(reservations)
    .where(
        reservations.c.id == bindparam("rid"),
        reservations.c.status == ACTIVE,
        # Re-checked here, not only when the hold was picked: a commit (soft -> order) or an
        # extend that committed in between must win, or a placed order's units could be resold.
        reservations.c.kind == SOFT,
        reservations.c.expires_at <= bindparam("now"),
    )
    .values(status=ReservationStatus.EXPIRED.value, updated_at=bindparam("now"))
    .returning(*reservations.c)
)
_LAPSED_ON = (
    select(reservations.c.id)
    .distinct()
    .join(reservation_lines, reservation_lines.c.reservation_id == reservations.c.id)
    .where(
        reservations.c.status == ACTIVE,
        reservations.c.kind == SOFT,
        reservations.c.expires_at <= bindparam("now"),
        tuple_(reservation_lines.c.variant_id, reservation_lines.c.location_id).in_(
            bindparam("keys", expanding=True)
        ),
    )
)


# -- input ----------------------------------------------------------------------------------------
def line_requests(uow: UnitOfWork, lines: Sequence[tuple[str, str, Any]]) -> list[LineRequest]:
    """(sku, location code, quantity) triples -> requests with catalog ids, in one query;
    an unknown SKU or location is a 422 on ``lines.N.sku`` / ``lines.N.location``."""
    if not lines:
        raise ValidationFailed.on("lines", "at least one line is required")
    if len(lines) > model.MAX_LINES:
        raise ValidationFailed.on("lines", f"at most {model.MAX_LINES} lines")
    errors: list[FieldError] = []
    for i, (_sku, _location, quantity) in enumerate(lines):
        try:
            model.check_quantity(quantity, f"lines.{i}.quantity")
        except ValidationFailed as err:
            errors.extend(err.errors)
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    found_variants, found_locations = refs.stock_lines(
        uow,
        [s for s, _, _ in lines],
        _fields(lines, "sku"),
        [loc for _, loc, _ in lines],
        _fields(lines, "location"),
    )
    return [
        LineRequest(v[0], loc[0], q, i, v[1], loc[1])
        for i, (v, loc, (_, _, q)) in enumerate(
            zip(found_variants, found_locations, lines, strict=True)
        )
    ]


def _fields(lines: Sequence[object], name: str) -> list[str]:
    return [f"lines.{i}.{name}" for i in range(len(lines))]


# -- use cases ------------------------------------------------------------------------------------
def reserve(
    uow: UnitOfWork,
    lines: list[LineRequest],
    *,
    kind: ReservationKind | str,
    ttl: timedelta | None,
    reservation_id: str | None = None,
    channel: str | None = None,
    reference: str | None = None,
    owner: str | None = None,
) -> ReservationView:
    """Hold every line or none. Raises :class:`InsufficientStock` naming the first short line."""
    kind = _kind(kind)
    now = uow.now()
    expires_at = model.soft_expiry(kind, now, ttl)
    wanted = model.normalise_lines(lines)
    rid = reservation_id or new_id()
    if not is_id(rid):
        raise ValidationFailed.on("id", "must be a ULID (26 characters, Crockford base32)")
    if channel is not None:
        _check_channel(uow, channel, lines)
    row = {
        "id": rid,
        "kind": kind.value,
        "status": ACTIVE,
        "channel": channel,
        "owner": owner,
        "reference": reference,
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
    }
    try:  # first: a client id used twice fails here, before any balance row is locked
        uow.conn.execute(reservations.insert(), row)
    except IntegrityError:
        raise Conflict(
            f"reservation {rid} already exists", errors=[FieldError("id", "in use")]
        ) from None
    uow.conn.execute(
        reservation_lines.insert(),
        [
            {
                "reservation_id": rid,
                "variant_id": line.variant_id,
                "location_id": line.location_id,
                "quantity": line.quantity,
                "line_no": line.indexes[0],
            }
            for line in wanted
        ],
    )
    freed = free_lapsed(uow, [line.key for line in wanted])
    asked = {line.key: line for line in wanted}
    for key in sorted(set(asked) | set(freed)):
        _hold_or_raise(uow, key, asked.get(key), freed.get(key, 0))
    _emit(uow, "inventory.reserved", rid, wanted)
    return _view(uow, row, sorted(wanted, key=lambda line: line.indexes[0]))


def _hold_or_raise(uow: UnitOfWork, key: Key, line: Line | None, freed: int) -> None:
    """Hold ``line`` at its balance, netting the units of lapsed holds just expired there; a
    balance only lapsed holds touch (``line`` None) just gets their units back."""
    if line is None:
        give_back(uow, {key: freed})
        return
    if _NAIVE:
        after = _naive_hold(uow, key, line.quantity, freed)
    else:
        after = balances.hold(uow, key, line.quantity, freed)
    if after is None:
        have = available_at(uow, key) + freed
        raise InsufficientStock(
            f"{line.field}: only {have} available",
            errors=[FieldError(line.field, f"only {have} available")],
        )
    balances.announce(uow, key, after)


def _check_channel(uow: UnitOfWork, channel: str, lines: Sequence[LineRequest]) -> None:
    """A channel may only hold stock at the locations that serve it (catalog network)."""
    try:
        serving = set(refs.channel_location_ids(uow, channel))
    except NotFound:
        raise ValidationFailed.on("channel", f"no channel {channel!r}") from None
    errors = [
        FieldError(f"lines.{line.index}.location", f"does not serve channel {channel}")
        for line in lines
        if line.location_id not in serving
    ]
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)


def _naive_hold(uow: UnitOfWork, key: Key, quantity: int, freed: int) -> balances.Balance | None:
    """The broken path the tests must catch: read, decide in Python, write the number back."""
    current = balances.read(uow, key)
    if current is None:
        return None
    if current.on_hand - (current.reserved - freed) - current.buffer < quantity:
        return None
    time.sleep(0.001)  # widen the window a real server's GC pause or network hop would open
    return balances.apply(uow, key, {"reserved": current.reserved - freed + quantity})


def extend(
    uow: UnitOfWork,
    reservation_id: str,
    ttl: timedelta,
    *,
    owner: str | None = None,
    channel: str | None = None,
) -> ReservationView:
    """Push a live soft reservation's expiry to ``now + ttl``."""
    model.check_ttl(ttl)
    row = _active_or_raise(uow, reservation_id, owner, channel)
    if row.kind != SOFT:
        raise Conflict("order reservations do not expire, so they cannot be extended")
    now = uow.now()
    done = uow.conn.execute(
        update(reservations)
        .where(
            reservations.c.id == row.id,
            reservations.c.status == ACTIVE,
            reservations.c.expires_at > now,
        )
        .values(expires_at=now + ttl, updated_at=now)
        .returning(*reservations.c)
    ).first()
    if done is None:  # the sweeper or a release got there first
        raise Conflict(f"reservation {row.id} is no longer active")
    return _view(uow, done._mapping, refs.reservation_lines_with_codes(uow, [done.id]))


def commit(
    uow: UnitOfWork,
    reservation_id: str,
    *,
    owner: str | None = None,
    channel: str | None = None,
) -> ReservationView:
    """The order is placed: the soft hold becomes an order hold on the same units, which no
    longer expires and waits for ``fulfil`` or ``cancel``. No balance changes, so committing
    never contends with other checkouts for the SKU's row."""
    done = uow.conn.execute(_COMMIT, {"rid": reservation_id, "now": uow.now()}).first()
    if done is None or not _visible(done, owner, channel):
        row = _active_or_raise(uow, reservation_id, owner, channel)
        if row.kind != SOFT:
            raise Conflict(f"reservation {row.id} is already an order reservation")
        raise Conflict(f"reservation {row.id} is no longer active")  # pragma: no cover - race
    lines = refs.reservation_lines_with_codes(uow, [done.id])
    _emit(uow, "inventory.reservation_committed", done.id, lines)
    return _view(uow, done._mapping, lines)


def fulfil(
    uow: UnitOfWork,
    reservation_id: str,
    *,
    owner: str | None = None,
    channel: str | None = None,
    actor: str | None = None,
) -> ReservationView:
    """Consume the reservation: each line leaves on hand and reserved with a ``sale`` movement
    (the order shipped, was picked up or carried out)."""
    row = _active_or_raise(uow, reservation_id, owner, channel)
    done = _flip_one(uow, row.id, ReservationStatus.FULFILLED)
    if done is None:
        raise Conflict(f"reservation {row.id} is no longer active")
    lines = refs.reservation_lines_with_codes(uow, [row.id])
    moves = []
    for line in sorted(lines, key=lambda ln: (ln.variant_id, ln.location_id)):
        key = (line.variant_id, line.location_id)
        after = balances.consume(uow, key, line.quantity)
        if after is None:  # reserved always covers an active reservation's lines
            raise RuntimeError(f"balance {key} does not cover reservation {row.id}")
        moves.append(
            {
                "variant_id": key[0],
                "location_id": key[1],
                "kind": MovementKind.SALE.value,
                "on_hand_delta": -line.quantity,
                "reference": row.reference or row.id,
                "actor": actor,
            }
        )
        balances.announce(uow, key, after)
    balances.record_many(uow, moves)
    _emit(uow, "inventory.fulfilled", row.id, lines)
    return _view(uow, done, lines)


def consume_document_hold(uow: UnitOfWork, reservation_id: str) -> list[Any]:
    """A stock document (a transfer shipping) takes its own hold: the reservation becomes
    fulfilled and ``inventory.fulfilled`` is emitted; returns its lines. The document moves
    the units itself, because it must lock its source and destination balances in one sorted
    pass (``fulfil`` would lock the source rows first)."""
    if _flip_one(uow, reservation_id, ReservationStatus.FULFILLED) is None:
        raise Conflict(f"the hold {reservation_id} is no longer active")
    lines = _lines_of(uow, [reservation_id])
    _emit(uow, "inventory.fulfilled", reservation_id, lines)
    return lines


def release(
    uow: UnitOfWork,
    reservation_id: str,
    *,
    owner: str | None = None,
    channel: str | None = None,
    by_document: bool = False,
) -> ReservationView:
    """Give the held units back (a cart emptied, an order cancelled). A document's own hold
    is released only with ``by_document`` (the document's cancel)."""
    row = _visible_or_raise(uow, reservation_id, owner, channel)
    if not by_document:
        _not_a_document_hold(row)
    if row.status != ACTIVE:
        raise Conflict(f"reservation {row.id} is already {row.status}")
    freed = _free(uow, [row.id], ReservationStatus.RELEASED)
    if not freed:
        raise Conflict(f"reservation {row.id} is no longer active")
    give_back(uow, freed)
    return get_reservation_or_raise(uow, row.id)


cancel = release
"""Cancelling an order releases its order reservation."""


def expire_due(uow: UnitOfWork, *, limit: int = SWEEP_BATCH) -> int:
    """The sweeper: release up to ``limit`` active soft reservations past their expiry.
    Returns how many it expired; call again while it returns ``limit``."""
    ids = list(
        uow.conn.execute(
            select(reservations.c.id)
            .where(
                reservations.c.status == ACTIVE,
                reservations.c.kind == SOFT,
                reservations.c.expires_at <= uow.now(),
            )
            .order_by(reservations.c.id)
            .limit(limit)
        ).scalars()
    )
    flipped = _flip(uow, ids, ReservationStatus.EXPIRED)
    give_back(uow, _released_lines(uow, flipped, ReservationStatus.EXPIRED))
    return len(flipped)


def free_lapsed(uow: UnitOfWork, keys: Sequence[Key]) -> dict[Key, int]:
    """Expire the lapsed soft reservations holding any of ``keys``; returns the units per
    balance they held. The caller nets them into its own one ``UPDATE`` per balance (in key
    order), so expired holds never block a reserve or a sale and no lock is taken out of order.
    Balances the lapsed holds touch beyond ``keys`` are in the result too: the caller must
    update those as well."""
    if not keys:
        return {}
    lapsed = list(uow.conn.execute(_LAPSED_ON, {"now": uow.now(), "keys": list(keys)}).scalars())
    return _free(uow, lapsed, ReservationStatus.EXPIRED) if lapsed else {}


# -- reads ----------------------------------------------------------------------------------------
def get_reservation_or_raise(
    uow: UnitOfWork,
    reservation_id: str,
    *,
    owner: str | None = None,
    channel: str | None = None,
) -> ReservationView:
    row = _visible_or_raise(uow, reservation_id, owner, channel)
    return _view(uow, row._mapping, refs.reservation_lines_with_codes(uow, [row.id]))


def _view(uow: UnitOfWork, row: Any, lines: Sequence[Any]) -> ReservationView:
    """The answer for a reservation row (a mapping) and its lines in request order — anything
    with ``sku``, ``location`` and ``quantity``: the request's own lines, or the rows of
    ``refs.reservation_lines_with_codes`` — so nothing is read again to answer."""
    status = row["status"]
    expires_at = _utc(row["expires_at"])
    if status == ACTIVE and model.is_lapsed(ReservationKind(row["kind"]), expires_at, uow.now()):
        status = ReservationStatus.EXPIRED.value
    return ReservationView(
        id=row["id"],
        kind=row["kind"],
        status=status,
        channel=row["channel"],
        reference=row["reference"],
        expires_at=expires_at,
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        lines=[ReservationLineView(ln.sku, ln.location, ln.quantity) for ln in lines],
    )


# -- helpers --------------------------------------------------------------------------------------
def _kind(kind: ReservationKind | str) -> ReservationKind:
    try:
        return ReservationKind(kind)
    except ValueError:
        raise ValidationFailed.on("kind", "must be soft or order") from None


def _utc(moment: Any) -> Any:
    return None if moment is None else as_utc(moment)


def _visible(row: Any, owner: str | None, channel: str | None) -> bool:
    return (owner is None or row.owner == owner) and (channel is None or row.channel == channel)


def _visible_or_raise(
    uow: UnitOfWork, reservation_id: str, owner: str | None, channel: str | None
) -> Any:
    """The reservation row, or 404 — also when it belongs to another caller or channel, so an
    id never tells a stranger that it exists."""
    row = None
    if is_id(reservation_id):
        row = uow.conn.execute(_FIND, {"id": reservation_id}).first()
    if row is None or not _visible(row, owner, channel):
        raise NotFound(f"no reservation {reservation_id!r}")
    return row


def _not_a_document_hold(row: Any) -> None:
    if row.owner is not None and row.owner.startswith(DOCUMENT_OWNER):
        raise Conflict(
            f"reservation {row.id} holds stock for {row.reference}; change that document instead"
        )


def _active_or_raise(
    uow: UnitOfWork, reservation_id: str, owner: str | None, channel: str | None
) -> Any:
    row = _visible_or_raise(uow, reservation_id, owner, channel)
    _not_a_document_hold(row)
    if row.status != ACTIVE:
        raise Conflict(f"reservation {row.id} is already {row.status}")
    if model.is_lapsed(ReservationKind(row.kind), _utc(row.expires_at), uow.now()):
        raise Conflict(f"reservation {row.id} has expired")
    return row


def _lines_of(uow: UnitOfWork, ids: Sequence[str]) -> list[Any]:
    if not ids:
        return []
    return list(
        uow.conn.execute(
            select(reservation_lines).where(reservation_lines.c.reservation_id.in_(ids))
        )
    )


def _flip_one(uow: UnitOfWork, rid: str, status: ReservationStatus) -> Any:
    """Move one active reservation to ``status``; its row as a mapping, or None if it was no
    longer active (a concurrent sweep, release or fulfilment got it first) — or, to expire it,
    no longer a lapsed soft hold (committed or extended meanwhile)."""
    if status is ReservationStatus.EXPIRED:
        row = uow.conn.execute(_EXPIRE, {"rid": rid, "now": uow.now()}).first()
    else:
        params = {"rid": rid, "to_status": status.value, "now": uow.now()}
        row = uow.conn.execute(_FLIP, params).first()
    return None if row is None else row._mapping


def _flip(uow: UnitOfWork, ids: Iterable[str], status: ReservationStatus) -> list[str]:
    """Move active reservations to ``status`` in id order; returns those this transaction
    flipped (one a concurrent sweep or release got first is skipped, not released twice)."""
    return [rid for rid in sorted(ids) if _flip_one(uow, rid, status) is not None]


def _released_lines(
    uow: UnitOfWork, flipped: Sequence[str], status: ReservationStatus
) -> dict[Key, int]:
    by_reservation: dict[str, list[Any]] = defaultdict(list)
    for line in _lines_of(uow, flipped):
        by_reservation[line.reservation_id].append(line)
    freed: dict[Key, int] = defaultdict(int)
    for rid in flipped:
        for line in by_reservation[rid]:
            freed[(line.variant_id, line.location_id)] += line.quantity
        _emit(uow, "inventory.released", rid, by_reservation[rid], reason=status.value)
    return dict(freed)


def _free(uow: UnitOfWork, ids: Sequence[str], status: ReservationStatus) -> dict[Key, int]:
    """Flip reservations to ``status``; the units per balance they held (not yet given back)."""
    return _released_lines(uow, _flip(uow, ids, status), status)


def give_back(uow: UnitOfWork, freed: dict[Key, int]) -> None:
    """Un-reserve the units lapsed or released holds kept, per balance, in key order, and
    announce each balance's new availability (every stock change that frees holds uses it)."""
    for key in sorted(freed):
        after = balances.give_back(uow, key, freed[key])
        if after is None:
            raise RuntimeError(f"balance {key} does not cover the units being released")
        balances.announce(uow, key, after)


def _emit(
    uow: UnitOfWork, event_type: str, rid: str, lines: Iterable[Any], reason: str | None = None
) -> None:
    payload: dict[str, Any] = {
        "reservation_id": rid,
        "lines": [
            {"variant_id": ln.variant_id, "location_id": ln.location_id, "quantity": ln.quantity}
            for ln in lines
        ],
    }
    if reason is not None:
        payload["reason"] = reason
    uow.emit(DomainEvent(event_type, "inventory_reservation", rid, payload))
