"""Placing holds: ``reserve`` (a new reservation, all-or-nothing over its lines) and ``commit``
(the order is placed: a soft hold becomes an order hold) — for one call or for a batch of
calls in one transaction (the reservation desk's group commit, :mod:`onestore.inventory.desk`).

One implementation serves both: a single call is a batch of one, so every test of a single
reserve also tests the batch path, and nothing can drift between them.

Concurrency, per batch. Reservation rows (new ones, and lapsed soft holds on the same balances
that are expired in passing) are written first; then each balance the batch touches is updated
once, in key order (the global lock order), with the batch's *total* for it: ``UPDATE … SET
reserved = reserved - freed + total WHERE on_hand - reserved - buffer + freed >= total``. The
check and the change are one statement, so concurrent batches and single calls cannot both
pass for the last units. When a balance cannot cover the total, its row is locked (``FOR
UPDATE``, still in key order) and the requests are served first come, first served; a request
that does not fit is answered :class:`InsufficientStock` for that line, its units at balances
already updated are given back (rows this transaction already holds), and it is left out of the
rest — so no partial reservation survives, and the other requests of the batch go through.
Only then come the outbox batch and the commit, so a hot SKU's row lock is held for as few
statements as possible, once per batch instead of once per checkout.

``reservations._NAIVE`` (test-only) swaps the conditional update for read, decide in Python,
write the number back: the lost update the concurrency tests must catch.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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
        for p in pending:
            if p.index in losers:
                outcomes[p.index] = losers[p.index]
        won = [p for p in pending if p.index not in losers]
        _delete_rows(uow, [p.row["id"] for p in pending if p.index in losers])
        for p in won:
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
    insert: Any = pg_insert if uow.conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(reservation_table).on_conflict_do_nothing().returning(reservation_table.c.id)
    written = set(uow.conn.execute(statement, [p.row for p in pending]).scalars())
    kept = []
    for p in pending:
        if p.row["id"] in written:
            kept.append(p)
        else:
            outcomes[p.index] = _in_use(p.row["id"])
    if kept:
        uow.conn.execute(
            reservation_lines.insert(),
            [
                {
                    "reservation_id": p.row["id"],
                    "variant_id": line.variant_id,
                    "location_id": line.location_id,
                    "quantity": line.quantity,
                    "line_no": line.indexes[0],
                }
                for p in kept
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
    """Update every balance once, in key order; returns the requests that did not fit."""
    takers: dict[Key, list[tuple[_Pending, Line]]] = defaultdict(list)
    for p in pending:
        for line in p.wanted:
            takers[line.key].append((p, line))
    losers: dict[int, InsufficientStock] = {}
    held: dict[int, list[Key]] = defaultdict(list)  # request -> balances already updated for it
    final: dict[Key, balances.Balance] = {}
    for key in sorted(set(takers) | set(freed)):
        still = [(p, line) for p, line in takers.get(key, []) if p.index not in losers]
        after = _hold_key(uow, key, still, freed.get(key, 0), losers)
        if after is not None:
            final[key] = after
        for p, _line in still:
            if p.index not in losers:
                held[p.index].append(key)
    refunds: dict[Key, int] = defaultdict(int)
    for p in pending:
        if p.index in losers:
            for line in p.wanted:
                if line.key in held[p.index]:
                    refunds[line.key] += line.quantity
    for key in sorted(refunds):
        after = balances.give_back(uow, key, refunds[key])
        if after is None:
            raise RuntimeError(f"balance {key} does not cover the units being handed back")
        final[key] = after
    for key in sorted(final):
        balances.announce(uow, key, final[key])
    return losers


def _hold_key(
    uow: UnitOfWork,
    key: Key,
    takers: list[tuple[_Pending, Line]],
    freed: int,
    losers: dict[int, InsufficientStock],
) -> balances.Balance | None:
    """Hold the takers' total at one balance (netting ``freed`` lapsed units); if it cannot
    cover them all, lock the row and serve them in arrival order. None if nothing changed."""
    total = sum(line.quantity for _p, line in takers)
    if not takers:  # every call here already fell short elsewhere, or only lapsed holds were
        return _give_back_lapsed(uow, key, freed) if freed else None
    if reservations._NAIVE:
        return _naive_hold(uow, key, takers, freed, losers)
    after = balances.hold(uow, key, total, freed)
    if after is not None:
        return after
    current = balances.read(uow, key, lock=True)
    left = 0 if current is None else current.available + freed
    kept = 0
    for p, line in takers:
        if line.quantity <= left:
            left -= line.quantity
            kept += line.quantity
        else:
            losers[p.index] = _short(line, left)
    if current is None or (kept == 0 and freed == 0):
        return None
    after = balances.hold(uow, key, kept, freed)
    if after is None:  # the row is ours (FOR UPDATE), so this cannot happen
        raise RuntimeError(f"balance {key} changed under its lock")
    return after


def _give_back_lapsed(uow: UnitOfWork, key: Key, freed: int) -> balances.Balance | None:
    """A balance only lapsed holds touch just gets their units back."""
    after = balances.give_back(uow, key, freed)
    if after is None:
        raise RuntimeError(f"balance {key} does not cover the units being released")
    return after


def _short(line: Line, have: int) -> InsufficientStock:
    return InsufficientStock(
        f"{line.field}: only {have} available",
        errors=[FieldError(line.field, f"only {have} available")],
    )


def _naive_hold(
    uow: UnitOfWork,
    key: Key,
    takers: list[tuple[_Pending, Line]],
    freed: int,
    losers: dict[int, InsufficientStock],
) -> balances.Balance | None:
    """The broken path the tests must catch: read, decide in Python, write the number back."""
    current = balances.read(uow, key)
    left = 0 if current is None else current.available + freed
    kept = 0
    for p, line in takers:
        if line.quantity <= left:
            left -= line.quantity
            kept += line.quantity
        else:
            losers[p.index] = _short(line, left)
    if current is None:
        return None
    time.sleep(0.001)  # widen the window a real server's GC pause or network hop would open
    return balances.apply(uow, key, {"reserved": current.reserved - freed + kept})


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
_FIND_MANY = select(reservation_table).where(
    reservation_table.c.id.in_(bindparam("ids", expanding=True))
)
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
    ids = sorted({r.reservation_id for r in requests if is_id(r.reservation_id)})
    rows = {row.id: row for row in uow.conn.execute(_FIND_MANY, {"ids": ids})} if ids else {}
    chosen: dict[str, int] = {}
    for i, request in enumerate(requests):
        try:
            row = rows.get(request.reservation_id)
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
        lines: dict[str, list[Any]] = defaultdict(list)
        for line in refs.reservation_lines_with_codes(uow, sorted(done)):
            lines[line.reservation_id].append(line)
        for rid, i in chosen.items():
            row = done.get(rid)
            if row is None:  # a sweep or a release committed between the read and the update
                outcomes[i] = Conflict(f"reservation {rid} is no longer active")
                continue
            reservations.emit(uow, "inventory.reservation_committed", rid, lines[rid])
            outcomes[i] = reservations.view_of(uow, row._mapping, lines[rid])
    return [o for o in outcomes if o is not None]
