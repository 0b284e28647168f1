"""Placing holds: ``reserve`` (a new reservation, all-or-nothing over its lines) and ``commit``
(the order is placed: a soft hold becomes an order hold) — for one call or for a batch of
calls in one transaction (the reservation desk's group commit, :mod:`onestore.inventory.desk`).

One implementation serves both: a single call is a batch of one through the same steps; only
the balance step differs (below), and the desk's tests and concurrency proofs drive the
several-call form, so neither can drift untested.

Concurrency. Reservation rows (new ones, inserted in id order, and lapsed soft holds on the same
balances, expired in passing) are written first; balances come after, in key order (the global
lock order). A lone request — what a quiet system always runs — changes each balance with one
conditional statement, ``UPDATE … SET reserved = reserved - freed + q WHERE on_hand - reserved
- buffer + freed >= q``: the check and the change are one step, so concurrent transactions
cannot both pass for the last units; if a line falls short, what the earlier lines took is
given back. A batch of several locks all its balances in one ``SELECT … FOR UPDATE`` (key
order), weighs the requests in arrival order against every balance at once — exactly what
running them one after another would decide, all-or-nothing per request — and then changes
each balance once, with the winners' total. Only the outbox batch and the commit follow, so a
hot SKU's row lock is held for a few statements per batch instead of per checkout.

``reservations._NAIVE`` (test-only) weighs without the lock and writes the result back as a
number: the lost update the concurrency tests must catch.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, update

from onestore.db.rows import insert_rows
from onestore.db.uow import UnitOfWork
from onestore.inventory import balances, model, refs, reservations
from onestore.inventory.balances import Key
from onestore.inventory.model import InsufficientStock, Line, LineRequest, ReservationKind
from onestore.inventory.tables import reservation_lines
from onestore.inventory.tables import reservations as reservation_table
from onestore.inventory.views import ReservationView
from onestore.kernel.errors import Conflict, FieldError, NotFound, OnestoreError, ValidationFailed
from onestore.kernel.ids import is_id, new_id

Outcome = ReservationView | OnestoreError
"""Per request of a batch: the reservation, or the error that request alone gets."""


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """One reserve call, its lines resolved (:func:`reservations.line_requests`)."""

    lines: Sequence[LineRequest]
    kind: ReservationKind | str
    ttl: timedelta | None
    reservation_id: str | None = None
    channel: str | None = None
    reference: str | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class CommitRequest:
    """One commit call: the reservation, seen as its caller (owner/channel) may see it."""

    reservation_id: str
    owner: str | None = None
    channel: str | None = None


# -- single calls ---------------------------------------------------------------------------------
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
    """Hold every line or none. Raises :class:`InsufficientStock` naming the short line."""
    request = HoldRequest(lines, kind, ttl, reservation_id, channel, reference, owner)
    return _one(reserve_many(uow, [request]))


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
    return _one(commit_many(uow, [CommitRequest(reservation_id, owner, channel)]))


def _one(outcomes: Sequence[Outcome]) -> ReservationView:
    outcome = outcomes[0]
    if isinstance(outcome, OnestoreError):
        raise outcome
    return outcome


# -- reserve, many at once ------------------------------------------------------------------------
@dataclass(slots=True)
class _Pending:
    index: int
    row: dict[str, Any]
    wanted: list[Line]


def reserve_many(uow: UnitOfWork, requests: Sequence[HoldRequest]) -> list[Outcome]:
    """Place each request's reservation, all-or-nothing per request, in this transaction."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    now = uow.now()
    serving: dict[str, set[str]] = {}
    taken_ids: set[str] = set()
    pending: list[_Pending] = []
    for i, request in enumerate(requests):
        try:
            pending.append(_prepare(uow, i, request, now, serving, taken_ids))
        except OnestoreError as err:
            outcomes[i] = err
    pending = _insert_rows(uow, pending, outcomes)
    if pending:
        keys = sorted({line.key for p in pending for line in p.wanted})
        freed = reservations.free_lapsed(uow, keys)
        losers = _hold_all(uow, pending, freed)
        _delete_rows(uow, [p.row["id"] for p in pending if p.index in losers])
        for p in pending:
            if p.index in losers:
                outcomes[p.index] = losers[p.index]
                continue
            reservations.emit(uow, "inventory.reserved", p.row["id"], p.wanted)
            lines = sorted(p.wanted, key=lambda line: line.indexes[0])
            outcomes[p.index] = reservations.view_of(uow, p.row, lines)
    return [o for o in outcomes if o is not None]


def _prepare(
    uow: UnitOfWork,
    index: int,
    request: HoldRequest,
    now: Any,
    serving: dict[str, set[str]],
    taken_ids: set[str],
) -> _Pending:
    kind = reservations.parse_kind(request.kind)
    expires_at = model.soft_expiry(kind, now, request.ttl)
    wanted = model.normalise_lines(list(request.lines))
    rid = request.reservation_id or new_id()
    if not is_id(rid):
        raise ValidationFailed.on("id", "must be a ULID (26 characters, Crockford base32)")
    if rid in taken_ids:  # the same client id twice in one batch: a retry racing itself
        raise _in_use(rid)
    if request.channel is not None:
        _check_channel(uow, request.channel, request.lines, serving)
    taken_ids.add(rid)
    row = {
        "id": rid,
        "kind": kind.value,
        "status": reservations.ACTIVE,
        "channel": request.channel,
        "owner": request.owner,
        "reference": request.reference,
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
    }
    return _Pending(index, row, wanted)


def _in_use(rid: str) -> Conflict:
    return Conflict(f"reservation {rid} already exists", errors=[FieldError("id", "in use")])


def _insert_rows(
    uow: UnitOfWork, pending: list[_Pending], outcomes: list[Outcome | None]
) -> list[_Pending]:
    """Write the reservations and their lines before any balance is locked; a client id that
    already exists is that request's 409 (``ON CONFLICT DO NOTHING``: the others go on)."""
    if not pending:
        return []
    by_id = sorted(pending, key=lambda p: p.row["id"])  # the global lock order: rows by id
    result = insert_rows(
        uow.conn,
        reservation_table,
        [p.row for p in by_id],
        skip_conflicts=True,
        returning=[reservation_table.c.id],
    )
    written = set(result.scalars()) if result is not None else set()
    kept = []
    for p in pending:
        if p.row["id"] in written:
            kept.append(p)
        else:
            outcomes[p.index] = _in_use(p.row["id"])
    insert_rows(
        uow.conn,
        reservation_lines,
        [
            {
                "reservation_id": p.row["id"],
                "variant_id": line.variant_id,
                "location_id": line.location_id,
                "quantity": line.quantity,
                "line_no": line.indexes[0],
            }
            for p in sorted(kept, key=lambda p: p.row["id"])
            for line in p.wanted
        ],
    )
    return kept


def _delete_rows(uow: UnitOfWork, ids: list[str]) -> None:
    """Take back the rows of requests that did not get their stock (rare but for sell-outs)."""
    if ids:
        uow.conn.execute(
            reservation_lines.delete().where(reservation_lines.c.reservation_id.in_(ids))
        )
        uow.conn.execute(reservation_table.delete().where(reservation_table.c.id.in_(ids)))


def _hold_all(
    uow: UnitOfWork, pending: list[_Pending], freed: dict[Key, int]
) -> dict[int, InsufficientStock]:
    """Hold every request's lines or none of them; returns the requests that did not fit."""
    if reservations._NAIVE:
        return _hold_in_order(uow, pending, freed, lock=False)
    if len(pending) == 1:
        return _hold_one(uow, pending[0], freed)
    if _hold_total_at_one_balance(uow, pending, freed):
        return {}
    return _hold_in_order(uow, pending, freed, lock=True)


def _hold_total_at_one_balance(
    uow: UnitOfWork, pending: list[_Pending], freed: dict[Key, int]
) -> bool:
    """A group that all wants the same balance (a hot SKU's checkouts): one conditional
    ``UPDATE`` for the group's total. If stock covers everyone, that is what weighing them one
    by one would decide, without the locking read; if not, the statement changed nothing and
    the caller weighs them in order."""
    keys = {line.key for p in pending for line in p.wanted}
    if len(keys) != 1 or not set(freed) <= keys:
        return False
    (key,) = keys
    total = sum(line.quantity for p in pending for line in p.wanted)
    after = balances.hold(uow, key, total, freed.get(key, 0))
    if after is None:
        return False
    _announce(uow, {key: after})
    return True


def _hold_one(uow: UnitOfWork, p: _Pending, freed: dict[Key, int]) -> dict[int, InsufficientStock]:
    """A lone request (a quiet system's every call): one conditional ``UPDATE`` per balance,
    no read. If a line falls short, what the earlier lines took is given back (their rows are
    already this transaction's) and the rest is left alone."""
    asked = {line.key: line for line in p.wanted}
    taken: list[Key] = []
    final: dict[Key, balances.Balance] = {}
    short: InsufficientStock | None = None
    for key in sorted(set(asked) | set(freed)):
        line, lapsed = asked.get(key), freed.get(key, 0)
        if line is None or short is not None:
            if lapsed:
                final[key] = _give_back(uow, key, lapsed)
            continue
        after = balances.hold(uow, key, line.quantity, lapsed)
        if after is None:
            current = balances.read(uow, key)
            short = _short(line, 0 if current is None else max(0, current.free + lapsed))
            if lapsed:
                final[key] = _give_back(uow, key, lapsed)
            continue
        taken.append(key)
        final[key] = after
    if short is not None:
        for key in taken:  # net nothing changed here but the lapsed holds it freed
            final[key] = _give_back(uow, key, asked[key].quantity)
            if not freed.get(key):
                del final[key]
    _announce(uow, final)
    return {} if short is None else {p.index: short}


def _hold_in_order(
    uow: UnitOfWork, pending: list[_Pending], freed: dict[Key, int], *, lock: bool
) -> dict[int, InsufficientStock]:
    """Several requests: lock every balance of the batch (one statement, key order), weigh the
    requests in arrival order against all their balances at once — exactly what running them
    one after another would decide — then one ``UPDATE`` per balance with what the winners take.

    ``lock=False`` is the test-only naive path: no lock, and the result written back as a
    number (the lost update the concurrency tests must catch)."""
    keys = sorted({line.key for p in pending for line in p.wanted} | set(freed))
    rows = balances.read_many(uow, keys, lock=lock)
    left = {key: row.free + freed.get(key, 0) for key, row in rows.items()}
    losers: dict[int, InsufficientStock] = {}
    kept: dict[Key, int] = defaultdict(int)
    for p in pending:
        short = next((line for line in p.wanted if line.quantity > left.get(line.key, 0)), None)
        if short is not None:
            losers[p.index] = _short(short, max(0, left.get(short.key, 0)))
            continue
        for line in p.wanted:
            left[line.key] -= line.quantity
            kept[line.key] += line.quantity
    final: dict[Key, balances.Balance] = {}
    for key in keys:
        take, lapsed = kept.get(key, 0), freed.get(key, 0)
        if not take and not lapsed:
            continue
        if not lock:
            time.sleep(0.001)  # widen the window a real server's GC pause or network hop opens
            after = balances.apply(uow, key, {"reserved": rows[key].reserved - lapsed + take})
        else:
            after = balances.hold(uow, key, take, lapsed)
        if after is None:  # the rows are ours (FOR UPDATE), so this cannot happen
            raise RuntimeError(f"balance {key} changed under its lock")
        final[key] = after
    _announce(uow, final)
    return losers


def _give_back(uow: UnitOfWork, key: Key, quantity: int) -> balances.Balance:
    after = balances.give_back(uow, key, quantity)
    if after is None:
        raise RuntimeError(f"balance {key} does not cover the units being given back")
    return after


def _announce(uow: UnitOfWork, final: dict[Key, balances.Balance]) -> None:
    for key in sorted(final):
        balances.announce(uow, key, final[key])


def _short(line: Line, have: int) -> InsufficientStock:
    return InsufficientStock(
        f"{line.field}: only {have} available",
        errors=[FieldError(line.field, f"only {have} available")],
    )


def _check_channel(
    uow: UnitOfWork, channel: str, lines: Sequence[LineRequest], serving: dict[str, set[str]]
) -> None:
    """A channel may only hold stock at the locations that serve it (catalog network)."""
    if channel not in serving:
        try:
            serving[channel] = set(refs.channel_location_ids(uow, channel))
        except NotFound:
            raise ValidationFailed.on("channel", f"no channel {channel!r}") from None
    errors = [
        FieldError(f"lines.{line.index}.location", f"does not serve channel {channel}")
        for line in lines
        if line.location_id not in serving[channel]
    ]
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)


# -- commit, many at once -------------------------------------------------------------------------
_COMMIT_MANY = (
    update(reservation_table)
    .where(
        reservation_table.c.id.in_(bindparam("ids", expanding=True)),
        reservation_table.c.status == reservations.ACTIVE,
        reservation_table.c.kind == reservations.SOFT,
        reservation_table.c.expires_at > bindparam("now"),
    )
    .values(
        kind=ReservationKind.ORDER.value,
        expires_at=None,
        updated_at=bindparam("now"),
    )
    .returning(*reservation_table.c)
)


def commit_many(uow: UnitOfWork, requests: Sequence[CommitRequest]) -> list[Outcome]:
    """Commit each soft reservation to an order hold: two statements for the whole batch."""
    now = uow.now()
    outcomes: list[Outcome | None] = [None] * len(requests)
    ids = [r.reservation_id for r in requests if is_id(r.reservation_id)]
    # Locked in id order (the global lock order; the sweeper flips in id order too).
    found = refs.locked_reservations_with_lines(uow, ids)
    chosen: dict[str, int] = {}
    for i, request in enumerate(requests):
        try:
            row = found[request.reservation_id][0] if request.reservation_id in found else None
            if row is None or not reservations.visible(row, request.owner, request.channel):
                raise NotFound(f"no reservation {request.reservation_id!r}")
            reservations.not_a_document_hold(row)
            if row.status != reservations.ACTIVE:
                raise Conflict(f"reservation {row.id} is already {row.status}")
            if row.kind != reservations.SOFT or row.id in chosen:
                raise Conflict(f"reservation {row.id} is already an order reservation")
            if model.is_lapsed(ReservationKind.SOFT, reservations.utc(row.expires_at), now):
                raise Conflict(f"reservation {row.id} has expired")
            chosen[row.id] = i
        except OnestoreError as err:
            outcomes[i] = err
    if chosen:
        done = {
            row.id: row
            for row in uow.conn.execute(_COMMIT_MANY, {"ids": sorted(chosen), "now": now})
        }
        for rid, i in chosen.items():
            row = done.get(rid)
            if row is None:  # the row is ours (FOR UPDATE above), so this cannot happen
                raise RuntimeError(f"reservation {rid} changed under its lock")
            lines = found[rid][1]
            reservations.emit(uow, "inventory.reservation_committed", rid, lines)
            outcomes[i] = reservations.view_of(uow, row._mapping, lines)
    return [o for o in outcomes if o is not None]
