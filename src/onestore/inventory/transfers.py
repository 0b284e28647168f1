"""Inter-store transfers: hold at the source, ship (in transit), receive at the destination.

Each step is one use case in one unit of work, and each says where the units are:

* **create** — the units stay on the source's shelf, held by an ``order`` reservation whose
  reference is the transfer number, so no channel promises them while they are being picked.
  Nothing moves on hand yet, so nothing is written to the ledger.
* **ship** — the hold is consumed: at the source ``on_hand`` and ``reserved`` fall by q with a
  ``transfer_out`` movement; at the destination ``in_transit`` rises by q with a
  ``transfer_in`` movement whose ``on_hand_delta`` is 0. Units on the road are counted where
  they are going, so a store sees what is coming and the ledger keeps summing to the balance.
* **receive** — at the destination ``in_transit`` falls by what was shipped and ``on_hand``
  rises by what arrived, in one ``transfer_in`` movement carrying both deltas. A line received
  short (lost in transit: the units already left the source) or over needs a reason and is
  reported on the transfer.
* **cancel** — only while open; the hold is released.

Concurrency. Every step first moves the transfer's status with one conditional ``UPDATE …
WHERE status = <expected>`` whose row count is checked, so two ships, or a ship racing a
cancel, cannot both pass. Locks are then taken in the global order the rest of inventory uses:
the reservation row, then balance rows sorted by ``(variant_id, location_id)`` — so a transfer
cannot deadlock with a checkout. Balances change only through ``balances.apply`` (one
conditional ``UPDATE … RETURNING``) with the ledger row and the outbox event beside it.

Numbers. ``TR-000001`` is allocated as the highest number + 1 and inserted inside a savepoint;
the unique constraint is the backstop. A concurrent create that picked the same number waits
for the winner, gets the unique violation, rolls back to the savepoint and, reading again
under READ COMMITTED, takes the next one — so concurrent creates never fail with a 500.
(SQLite write units of work are serialised by ``BEGIN IMMEDIATE``; no race there.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from onestore.db.uow import UnitOfWork
from onestore.inventory import balances, holds, model, refs, reservations
from onestore.inventory.balances import Key
from onestore.inventory.model import MovementKind, ReservationKind
from onestore.inventory.tables import balances as balance_table
from onestore.inventory.tables import transfer_lines, transfers
from onestore.inventory.transfers_views import TransferLineView, TransferPage, TransferView
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import Conflict, DatabaseBusy, FieldError, NotFound, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import is_id, new_id

PREFIX = "TR-"
NUMBER_ATTEMPTS = 50
"""How often a create re-reads the highest number after losing a race for it. Each loss means
another create committed, so 50 covers 50 simultaneous creates; beyond that it is a 503."""
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
REFERENCE_MAX = 100
CARRIER_MAX = 64
TRACKING_MAX = 100
REASON_MAX = 64


class TransferStatus(StrEnum):
    OPEN = "open"  # units held at the source
    SHIPPED = "shipped"  # units left the source, in transit to the destination
    RECEIVED = "received"  # units on hand at the destination (as many as arrived)
    CANCELLED = "cancelled"  # never shipped; the hold was released


STATUSES = frozenset(s.value for s in TransferStatus)


# -- use cases ------------------------------------------------------------------------------------
def create(
    uow: UnitOfWork,
    from_location: str,
    to_location: str,
    lines: Sequence[tuple[str, Any]],
    *,
    reference: str | None = None,
    actor: str | None = None,
    transfer_id: str | None = None,
) -> TransferView:
    """Open a transfer of ``lines`` (sku, quantity) and hold every unit at the source, or none.

    Raises :class:`InsufficientStock` (409) naming ``lines.N.quantity`` when the source cannot
    spare a line; a bad location, SKU or quantity is a 422 naming its field.
    """
    _check_text(reference, "reference", REFERENCE_MAX)
    tid = transfer_id or new_id()
    if not is_id(tid):
        raise ValidationFailed.on("id", "must be a ULID (26 characters, Crockford base32)")
    source = refs.location_ids(uow, [from_location], ["from_location"])[0]
    target = refs.location_ids(uow, [to_location], ["to_location"])[0]
    if source == target:
        raise ValidationFailed.on("to_location", "must differ from from_location")
    requests = reservations.line_requests(uow, [(sku, source, q) for sku, q in lines])
    wanted = model.normalise_lines(requests)
    now = uow.now()
    number = _insert_numbered(
        uow,
        {
            "id": tid,
            "from_location_id": source,
            "to_location_id": target,
            "status": TransferStatus.OPEN.value,
            "reference": reference,
            "created_by": actor,
            "created_at": now,
            "updated_at": now,
        },
    )
    hold = holds.reserve(
        uow,
        requests,
        kind=ReservationKind.ORDER,
        ttl=None,
        reference=number,
        owner=f"{reservations.DOCUMENT_OWNER}transfer:{tid}",
    )
    uow.conn.execute(update(transfers).where(transfers.c.id == tid).values(reservation_id=hold.id))
    uow.conn.execute(
        transfer_lines.insert(),
        [
            {
                "transfer_id": tid,
                "variant_id": line.variant_id,
                "line_no": line.indexes[0],
                "quantity": line.quantity,
            }
            for line in wanted
        ],
    )
    row = _row_or_raise(uow, tid)
    _emit(uow, "inventory.transfer_created", row, _lines_of(uow, tid))
    return get_or_raise(uow, tid)


def ship(
    uow: UnitOfWork,
    transfer: str,
    *,
    carrier: str | None = None,
    tracking: str | None = None,
    actor: str | None = None,
) -> TransferView:
    """The units leave the source: the hold is consumed and they go in transit to the
    destination. 409 unless the transfer is open and its hold still active."""
    _check_text(carrier, "carrier", CARRIER_MAX)
    _check_text(tracking, "tracking", TRACKING_MAX)
    row = _row_or_raise(uow, transfer)
    _require(row, TransferStatus.OPEN, "shipped")
    _advance(
        uow,
        row,
        TransferStatus.OPEN,
        TransferStatus.SHIPPED,
        carrier=carrier,
        tracking=tracking,
        shipped_at=uow.now(),
    )
    assert row.reservation_id is not None  # set in create's own transaction
    reservations.consume_document_hold(uow, row.reservation_id)
    lines = _lines_of(uow, row.id)
    change: dict[Key, int] = {}
    for line in lines:
        change[(line.variant_id, row.from_location_id)] = -line.quantity
        change[(line.variant_id, row.to_location_id)] = line.quantity
    for key in sorted(change):  # one global lock order: (variant_id, location_id)
        if change[key] < 0:
            _leave_source(uow, key, -change[key], row.number, actor)
        else:
            _go_in_transit(uow, key, change[key], row.number, actor)
    _emit(
        uow,
        "inventory.transfer_shipped",
        _row_or_raise(uow, row.id),
        lines,
        carrier=carrier,
        tracking=tracking,
    )
    return get_or_raise(uow, row.id)


def receive(
    uow: UnitOfWork,
    transfer: str,
    lines: Sequence[tuple[str, Any, str | None]] = (),
    *,
    actor: str | None = None,
) -> TransferView:
    """The units arrive at the destination. ``lines`` are (sku, received, discrepancy_reason)
    for the lines that did not arrive exactly as shipped (or to confirm some that did); lines
    not mentioned arrived in full. A line received short or over needs a reason (422 on
    ``lines.N.discrepancy_reason``). 409 unless the transfer is shipped."""
    row = _row_or_raise(uow, transfer)
    _require(row, TransferStatus.SHIPPED, "received")
    stored = {ln.variant_id: ln for ln in _lines_of(uow, row.id)}
    counted = _counted(uow, stored, lines)
    _advance(uow, row, TransferStatus.SHIPPED, TransferStatus.RECEIVED, received_at=uow.now())
    for variant_id in sorted(stored):  # one location, so sorting by variant is the lock order
        line = stored[variant_id]
        got, reason = counted.get(variant_id, (line.quantity, None))
        key = (variant_id, row.to_location_id)
        after = balances.apply(
            uow,
            key,
            {
                "on_hand": balance_table.c.on_hand + got,
                "in_transit": balance_table.c.in_transit - line.quantity,
            },
            balance_table.c.in_transit >= line.quantity,
        )
        if after is None:  # ship raised in_transit by exactly this much
            raise RuntimeError(f"balance {key} does not cover transfer {row.number} in transit")
        balances.record(
            uow,
            key,
            MovementKind.TRANSFER_IN,
            got,
            in_transit_delta=-line.quantity,
            reason_code=reason,
            reference=row.number,
            actor=actor,
        )
        balances.announce(uow, key, after)
        uow.conn.execute(
            update(transfer_lines)
            .where(
                transfer_lines.c.transfer_id == row.id, transfer_lines.c.variant_id == variant_id
            )
            .values(received=got, discrepancy_reason=reason)
        )
    _emit(uow, "inventory.transfer_received", row, _lines_of(uow, row.id))
    return get_or_raise(uow, row.id)


def cancel(uow: UnitOfWork, transfer: str, *, actor: str | None = None) -> TransferView:
    """Call off an open transfer: its hold is released and the units are sellable again.
    409 once it has shipped (receive it, then transfer the units back)."""
    row = _row_or_raise(uow, transfer)
    _require(row, TransferStatus.OPEN, "cancelled")
    _advance(uow, row, TransferStatus.OPEN, TransferStatus.CANCELLED)
    assert row.reservation_id is not None  # set in create's own transaction
    # Only this transfer can move its hold (reservations refuses everyone else), so it is
    # still active here.
    reservations.release(uow, row.reservation_id, by_document=True)
    _emit(uow, "inventory.transfer_cancelled", row, _lines_of(uow, row.id), actor=actor)
    return get_or_raise(uow, row.id)


# -- reads ----------------------------------------------------------------------------------------
def get_or_raise(uow: UnitOfWork, transfer: str) -> TransferView:
    """One transfer by id or number (``TR-000123``); 404 when there is none."""
    return _views(uow, [_row_or_raise(uow, transfer)])[0]


def locations_or_raise(uow: UnitOfWork, transfer: str) -> tuple[str, str]:
    """(from_location_id, to_location_id) of a transfer: what a permission check needs."""
    row = _row_or_raise(uow, transfer)
    return (row.from_location_id, row.to_location_id)


def list_transfers(
    uow: UnitOfWork,
    *,
    location: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> TransferPage:
    """Transfers newest first; ``location`` matches either end (what a store ships or gets)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.on("limit", f"must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed.on("offset", f"must be between 0 and {MAX_OFFSET}")
    query = (
        select(transfers)
        .order_by(
            transfers.c.created_at.desc(),
            func.length(transfers.c.number).desc(),
            transfers.c.number.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed.on("status", f"must be one of {', '.join(sorted(STATUSES))}")
        query = query.where(transfers.c.status == status)
    if location is not None:
        location_id = refs.location_ids(uow, [location], ["location"])[0]
        query = query.where(
            or_(
                transfers.c.from_location_id == location_id,
                transfers.c.to_location_id == location_id,
            )
        )
    return TransferPage(
        items=_views(uow, list(uow.conn.execute(query))), limit=limit, offset=offset
    )


# -- steps ----------------------------------------------------------------------------------------
def _insert_numbered(uow: UnitOfWork, values: dict[str, Any]) -> str:
    """Insert the transfer row under the next free number; returns the number."""
    for _ in range(NUMBER_ATTEMPTS):
        number = _next_number(uow)
        try:
            with uow.conn.begin_nested():
                uow.conn.execute(transfers.insert().values(number=number, **values))
        except IntegrityError:
            taken = select(transfers.c.id).where(transfers.c.id == values["id"])
            if uow.conn.execute(taken).first():  # the same client id raced in
                raise Conflict(
                    f"transfer {values['id']} already exists", errors=[FieldError("id", "in use")]
                ) from None
            if _next_number(uow) == number:  # not a number race: a real bug, let it show
                raise
            continue
        return number
    raise DatabaseBusy("too many transfers created at once; retry shortly")


def _next_number(uow: UnitOfWork) -> str:
    """Highest number + 1. Ordered by length first so TR-1000000 sorts after TR-999999."""
    last = uow.conn.execute(
        select(transfers.c.number)
        .order_by(func.length(transfers.c.number).desc(), transfers.c.number.desc())
        .limit(1)
    ).scalar()
    n = int(last[len(PREFIX) :]) + 1 if last else 1
    return f"{PREFIX}{n:06d}"


def _leave_source(uow: UnitOfWork, key: Key, quantity: int, number: str, actor: str | None) -> None:
    after = balances.consume(uow, key, quantity)
    if after is None:  # reserved always covers an active hold's lines
        raise RuntimeError(f"balance {key} does not cover transfer {number}")
    balances.record(uow, key, MovementKind.TRANSFER_OUT, -quantity, reference=number, actor=actor)
    balances.announce(uow, key, after)


def _go_in_transit(
    uow: UnitOfWork, key: Key, quantity: int, number: str, actor: str | None
) -> None:
    balances.ensure(uow, key)
    after = balances.apply(uow, key, {"in_transit": balance_table.c.in_transit + quantity})
    assert after is not None  # the row was just ensured
    balances.record(
        uow,
        key,
        MovementKind.TRANSFER_IN,
        0,
        in_transit_delta=quantity,
        reference=number,
        actor=actor,
    )
    balances.announce(uow, key, after)


def _counted(
    uow: UnitOfWork, stored: dict[str, Any], lines: Sequence[tuple[str, Any, str | None]]
) -> dict[str, tuple[int, str | None]]:
    """variant id -> (received, reason) for the lines the receiver named; every problem is a
    422 naming ``lines.N.<field>``, all of them at once."""
    if len(lines) > model.MAX_LINES:
        raise ValidationFailed.on("lines", f"at most {model.MAX_LINES} lines")
    known = refs.known_variant_ids(uow, [sku for sku, _, _ in lines])
    errors: list[FieldError] = []
    counted: dict[str, tuple[int, str | None]] = {}
    for i, (sku, got, reason) in enumerate(lines):
        variant_id = known.get(sku)
        if variant_id is None:
            errors.append(FieldError(f"lines.{i}.sku", f"no SKU {sku!r}"))
            continue
        if variant_id not in stored:
            errors.append(FieldError(f"lines.{i}.sku", "not on this transfer"))
            continue
        if variant_id in counted:
            errors.append(FieldError(f"lines.{i}.sku", "listed twice"))
            continue
        try:
            model.check_count(got, f"lines.{i}.received")
        except ValidationFailed as err:
            errors.extend(err.errors)
            continue
        reason = reason.strip() if reason is not None else None
        field = f"lines.{i}.discrepancy_reason"
        if reason is not None and not 1 <= len(reason) <= REASON_MAX:
            errors.append(FieldError(field, f"must be 1 to {REASON_MAX} characters"))
            continue
        shipped = stored[variant_id].quantity
        if got != shipped and reason is None:
            word = "short" if got < shipped else "over"
            errors.append(FieldError(field, f"required: {got} received of {shipped} ({word})"))
            continue
        counted[variant_id] = (got, reason)
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    return counted


# -- helpers --------------------------------------------------------------------------------------
def _check_text(value: str | None, field: str, longest: int) -> None:
    if value is not None and not (isinstance(value, str) and 1 <= len(value) <= longest):
        raise ValidationFailed.on(field, f"must be 1 to {longest} characters")


def _row_or_raise(uow: UnitOfWork, transfer: str) -> Any:
    """The transfer row by id or by number (any case); 404 otherwise."""
    row = None
    if is_id(transfer):
        row = uow.conn.execute(select(transfers).where(transfers.c.id == transfer)).first()
    elif len(transfer) <= 32:
        number = transfer.strip().upper()
        row = uow.conn.execute(select(transfers).where(transfers.c.number == number)).first()
    if row is None:
        raise NotFound(f"no transfer {transfer!r}")
    return row


def _require(row: Any, status: TransferStatus, done: str) -> None:
    """409 unless the transfer is in ``status`` — checked before the input is, so a late retry
    hears "already shipped" rather than about its lines."""
    if row.status != status.value:
        raise Conflict(
            f"transfer {row.number} is {row.status}; it can be {done} only while {status.value}"
        )


def _advance(
    uow: UnitOfWork, row: Any, expected: TransferStatus, new: TransferStatus, **values: Any
) -> None:
    """Move the status with one conditional UPDATE; the loser of a race gets the 409."""
    done = uow.conn.execute(
        update(transfers)
        .where(transfers.c.id == row.id, transfers.c.status == expected.value)
        .values(status=new.value, updated_at=uow.now(), **values)
    )
    if done.rowcount != 1:
        raise Conflict(f"transfer {row.number} is no longer {expected.value}")


def _lines_of(uow: UnitOfWork, transfer_id: str) -> list[Any]:
    return list(
        uow.conn.execute(
            select(transfer_lines)
            .where(transfer_lines.c.transfer_id == transfer_id)
            .order_by(transfer_lines.c.line_no)
        )
    )


def _views(uow: UnitOfWork, rows: Sequence[Any]) -> list[TransferView]:
    """Views of ``rows`` with their lines, in three queries whatever their number."""
    if not rows:
        return []
    by_transfer: dict[str, list[Any]] = defaultdict(list)
    for line in uow.conn.execute(
        select(transfer_lines)
        .where(transfer_lines.c.transfer_id.in_([r.id for r in rows]))
        .order_by(transfer_lines.c.line_no)
    ):
        by_transfer[line.transfer_id].append(line)
    sku_of = refs.skus_by_id(uow, [ln.variant_id for ls in by_transfer.values() for ln in ls])
    code_of = refs.location_codes_by_id(
        uow, [r.from_location_id for r in rows] + [r.to_location_id for r in rows]
    )
    return [_view(row, by_transfer[row.id], sku_of, code_of) for row in rows]


def _view(
    row: Any, lines: list[Any], sku_of: dict[str, str], code_of: dict[str, str]
) -> TransferView:
    shown = [
        TransferLineView(
            sku=sku_of[ln.variant_id],
            quantity=ln.quantity,
            received=ln.received,
            discrepancy=None if ln.received is None else ln.received - ln.quantity,
            discrepancy_reason=ln.discrepancy_reason,
        )
        for ln in lines
    ]
    gaps = [line.discrepancy for line in shown if line.discrepancy is not None]
    received = row.status == TransferStatus.RECEIVED.value
    return TransferView(
        id=row.id,
        number=row.number,
        status=row.status,
        from_location=code_of[row.from_location_id],
        to_location=code_of[row.to_location_id],
        reservation_id=row.reservation_id,
        reference=row.reference,
        carrier=row.carrier,
        tracking=row.tracking,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        shipped_at=None if row.shipped_at is None else as_utc(row.shipped_at),
        received_at=None if row.received_at is None else as_utc(row.received_at),
        updated_at=as_utc(row.updated_at),
        units=sum(line.quantity for line in shown),
        units_received=sum(line.received or 0 for line in shown) if received else None,
        units_short=sum(-gap for gap in gaps if gap < 0),
        units_over=sum(gap for gap in gaps if gap > 0),
        lines=shown,
    )


def _emit(uow: UnitOfWork, event_type: str, row: Any, lines: Sequence[Any], **extra: Any) -> None:
    payload: dict[str, Any] = {
        "transfer_id": row.id,
        "number": row.number,
        "from_location_id": row.from_location_id,
        "to_location_id": row.to_location_id,
        "reservation_id": row.reservation_id,
        "lines": [
            {
                "variant_id": ln.variant_id,
                "quantity": ln.quantity,
                "received": ln.received,
                "discrepancy_reason": ln.discrepancy_reason,
            }
            for ln in lines
        ],
        **extra,
    }
    uow.emit(DomainEvent(event_type, "inventory_transfer", row.id, payload))
