"""Reservations: soft holds for carts and checkouts that expire, order holds that fulfilment
consumes or a cancel releases. A reservation is all-or-nothing over its lines.

The life of a hold: ``reserve`` (soft, with a TTL — a cart or checkout) → ``extend`` while the
shopper is busy → ``commit`` when the order is placed (the same units become an order hold that
no longer expires; the balance does not change) → ``fulfil`` when it ships or is picked up (the
units leave on hand as a sale) — or ``release`` / ``cancel`` / expiry give them back.

Placing a hold (``reserve``) and committing it (``commit``) live in :mod:`.holds`, which does
them one at a time or many per transaction (the reservation desk's group commit); this module
has the rest of the life and the pieces both share. Locks are taken in one global order:
reservation rows by id, then balance rows by (variant_id, location_id); lapsed soft reservations
on the balances a change touches are expired in the same transaction and their units netted
into its one ``UPDATE`` per row, so the sweep adds no lock out of order and expired holds never
block a new one.

``_NAIVE`` is a test-only switch: the concurrency tests flip it to run a read-then-write path
and prove that they catch its oversell. Nothing else may set it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, tuple_, update

from onestore.db.uow import UnitOfWork
from onestore.inventory import balances, model, refs
from onestore.inventory.availability import due_hold_ids
from onestore.inventory.balances import Key
from onestore.inventory.model import (
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
from onestore.kernel.ids import is_id

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
    select(reservation_lines.c.reservation_id)
    .distinct()
    .where(
        reservation_lines.c.reservation_id.in_(bindparam("due", expanding=True)),
        tuple_(reservation_lines.c.variant_id, reservation_lines.c.location_id).in_(
            bindparam("keys", expanding=True)
        ),
    )
)
"""The lapsed soft holds on some balances: from the due holds to their lines (see
:func:`availability.due_hold_ids` for why in that order)."""


# -- input ----------------------------------------------------------------------------------------
def line_requests(uow: UnitOfWork, lines: Sequence[tuple[str, str, Any]]) -> list[LineRequest]:
    """(sku, location code, quantity) triples -> requests with catalog ids, in one query;
    an unknown SKU or location is a 422 on ``lines.N.sku`` / ``lines.N.location``."""
    resolved = line_requests_many(uow, [lines])[0]
    if isinstance(resolved, ValidationFailed):
        raise resolved
    return resolved


def line_requests_many(
    uow: UnitOfWork, calls: Sequence[Sequence[tuple[str, str, Any]]]
) -> list[list[LineRequest] | ValidationFailed]:
    """:func:`line_requests` for several calls at once: one query for all of them when every
    reference is known; otherwise each call is resolved alone, so each gets its own 422."""
    answers: list[list[LineRequest] | ValidationFailed] = []
    for lines in calls:
        try:
            _check_lines(lines)
            answers.append([])
        except ValidationFailed as err:
            answers.append(err)
    valid = [i for i, answer in enumerate(answers) if not isinstance(answer, ValidationFailed)]
    flat = [line for i in valid for line in calls[i]]
    if not flat:
        return answers
    try:
        found_variants, found_locations = refs.stock_lines(
            uow,
            [s for s, _, _ in flat],
            _fields(flat, "sku"),
            [loc for _, loc, _ in flat],
            _fields(flat, "location"),
        )
    except ValidationFailed as err:
        if len(valid) == 1:  # the fields already name that call's lines
            answers[valid[0]] = err
            return answers
        for i in valid:
            try:
                answers[i] = line_requests(uow, calls[i])
            except ValidationFailed as err:
                answers[i] = err
        return answers
    at = 0
    for i in valid:
        answers[i] = [
            LineRequest(v[0], loc[0], q, n, v[1], loc[1])
            for n, (v, loc, (_, _, q)) in enumerate(
                zip(
                    found_variants[at : at + len(calls[i])],
                    found_locations[at : at + len(calls[i])],
                    calls[i],
                    strict=True,
                )
            )
        ]
        at += len(calls[i])
    return answers


def _check_lines(lines: Sequence[tuple[str, str, Any]]) -> None:
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


def _fields(lines: Sequence[object], name: str) -> list[str]:
    return [f"lines.{i}.{name}" for i in range(len(lines))]


# -- use cases ------------------------------------------------------------------------------------
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
    return view_of(uow, done._mapping, refs.reservation_lines_with_codes(uow, [done.id]))


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
    emit(uow, "inventory.fulfilled", row.id, lines)
    return view_of(uow, done, lines)


def consume_document_hold(uow: UnitOfWork, reservation_id: str) -> list[Any]:
    """A stock document (a transfer shipping) takes its own hold: the reservation becomes
    fulfilled and ``inventory.fulfilled`` is emitted; returns its lines. The document moves
    the units itself, because it must lock its source and destination balances in one sorted
    pass (``fulfil`` would lock the source rows first)."""
    if _flip_one(uow, reservation_id, ReservationStatus.FULFILLED) is None:
        raise Conflict(f"the hold {reservation_id} is no longer active")
    lines = _lines_of(uow, [reservation_id])
    emit(uow, "inventory.fulfilled", reservation_id, lines)
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
        not_a_document_hold(row)
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
    due = due_hold_ids(uow)
    if not due:
        return {}
    lapsed = list(uow.conn.execute(_LAPSED_ON, {"due": due, "keys": list(keys)}).scalars())
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
    return view_of(uow, row._mapping, refs.reservation_lines_with_codes(uow, [row.id]))


def view_of(uow: UnitOfWork, row: Any, lines: Sequence[Any]) -> ReservationView:
    """The answer for a reservation row (a mapping) and its lines in request order — anything
    with ``sku``, ``location`` and ``quantity``: the request's own lines, or the rows of
    ``refs.reservation_lines_with_codes`` — so nothing is read again to answer."""
    status = row["status"]
    expires_at = utc(row["expires_at"])
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
def parse_kind(kind: ReservationKind | str) -> ReservationKind:
    try:
        return ReservationKind(kind)
    except ValueError:
        raise ValidationFailed.on("kind", "must be soft or order") from None


def utc(moment: Any) -> Any:
    return None if moment is None else as_utc(moment)


def visible(row: Any, owner: str | None, channel: str | None) -> bool:
    return (owner is None or row.owner == owner) and (channel is None or row.channel == channel)


def _visible_or_raise(
    uow: UnitOfWork, reservation_id: str, owner: str | None, channel: str | None
) -> Any:
    """The reservation row, or 404 — also when it belongs to another caller or channel, so an
    id never tells a stranger that it exists."""
    row = None
    if is_id(reservation_id):
        row = uow.conn.execute(_FIND, {"id": reservation_id}).first()
    if row is None or not visible(row, owner, channel):
        raise NotFound(f"no reservation {reservation_id!r}")
    return row


def not_a_document_hold(row: Any) -> None:
    if row.owner is not None and row.owner.startswith(DOCUMENT_OWNER):
        raise Conflict(
            f"reservation {row.id} holds stock for {row.reference}; change that document instead"
        )


def _active_or_raise(
    uow: UnitOfWork, reservation_id: str, owner: str | None, channel: str | None
) -> Any:
    row = _visible_or_raise(uow, reservation_id, owner, channel)
    not_a_document_hold(row)
    if row.status != ACTIVE:
        raise Conflict(f"reservation {row.id} is already {row.status}")
    if model.is_lapsed(ReservationKind(row.kind), utc(row.expires_at), uow.now()):
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
        emit(uow, "inventory.released", rid, by_reservation[rid], reason=status.value)
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


def emit(
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
