"""The two writes every stock change is made of: one conditional UPDATE of a balance row whose
result is checked, and (for on-hand changes) one ledger row — plus the outbox event.

Why one statement: on PostgreSQL (READ COMMITTED) a concurrent UPDATE of the same row waits
for the first to commit and then re-evaluates its ``WHERE`` against the new row, so the check
("enough available") and the change are atomic without an explicit lock or a retry loop. On
SQLite write units of work ``BEGIN IMMEDIATE`` and are serialised anyway. ``RETURNING`` hands
back the new row, so reporting the new availability costs no extra read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from onestore.db.uow import UnitOfWork
from onestore.inventory import model
from onestore.inventory.tables import balances, movements
from onestore.kernel.errors import FieldError
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id

Key = tuple[str, str]
"""(variant_id, location_id): the primary key of a balance, and the lock order."""
_NUMBERS = (balances.c.on_hand, balances.c.reserved, balances.c.in_transit, balances.c.buffer)


@dataclass(frozen=True, slots=True)
class Balance:
    on_hand: int
    reserved: int
    in_transit: int
    buffer: int

    @property
    def available(self) -> int:
        return model.available(self.on_hand, self.reserved, self.buffer)

    @property
    def free(self) -> int:
        """What is left to promise, *not* clamped at 0: when a buffer is raised over the free
        units this is negative, and netting lapsed holds into it must not start from 0 (that
        promised units that were not there)."""
        return self.on_hand - self.reserved - self.buffer


def _balance(row: Any) -> Balance | None:
    """A row of :data:`_NUMBERS` (or None) as a :class:`Balance`."""
    return None if row is None else Balance(row[0], row[1], row[2], row[3])


def where_key(key: Key) -> ColumnElement[bool]:
    return and_(balances.c.variant_id == key[0], balances.c.location_id == key[1])


def ensure(uow: UnitOfWork, key: Key) -> None:
    """Create the balance row if missing, race-safely on both backends (the loser of two
    concurrent inserts does nothing and then updates the winner's row)."""
    values = {
        "variant_id": key[0],
        "location_id": key[1],
        "on_hand": 0,
        "reserved": 0,
        "in_transit": 0,
        "buffer": 0,
        "allow_negative": False,
        "updated_at": uow.now(),
    }
    insert: Any = pg_insert if uow.conn.dialect.name == "postgresql" else sqlite_insert
    uow.conn.execute(insert(balances).values(**values).on_conflict_do_nothing())


def read(uow: UnitOfWork, key: Key) -> Balance | None:
    return _balance(uow.conn.execute(select(*_NUMBERS).where(where_key(key))).first())


def read_many(uow: UnitOfWork, keys: Sequence[Key], *, lock: bool) -> dict[Key, Balance]:
    """The balances that exist among ``keys``; with ``lock`` their rows are locked in key order
    (the global lock order) until the transaction ends — ``FOR UPDATE`` on PostgreSQL; SQLite's
    write transactions hold the whole database already."""
    if not keys:
        return {}
    query = (
        select(*_NUMBERS, balances.c.variant_id, balances.c.location_id)
        .where(tuple_(balances.c.variant_id, balances.c.location_id).in_(list(keys)))
        .order_by(balances.c.variant_id, balances.c.location_id)
    )
    rows = uow.conn.execute(query.with_for_update() if lock else query)
    return {(r.variant_id, r.location_id): Balance(r[0], r[1], r[2], r[3]) for r in rows}


def apply(
    uow: UnitOfWork,
    key: Key,
    values: dict[str, Any],
    condition: ColumnElement[bool] | None = None,
) -> Balance | None:
    """``UPDATE balances SET values WHERE key [AND condition] RETURNING …``; None when the
    condition (or the row) was not there, i.e. nothing changed."""
    statement = update(balances).where(where_key(key))
    if condition is not None:
        statement = statement.where(condition)
    statement = statement.values(**values, updated_at=uow.now()).returning(*_NUMBERS)
    return _balance(_execute(uow, statement, {}).first())


def _execute(uow: UnitOfWork, statement: Any, params: dict[str, Any]) -> Any:
    """Run a balance ``UPDATE``; a change past :data:`model.MAX_ON_HAND` is a 409 on the
    request's ``quantity`` (the table's ``CHECK`` decides, so no path can skip it)."""
    try:
        return uow.conn.execute(statement, params)
    except IntegrityError as err:
        if "within_ceiling" not in str(err.orig):
            raise
        raise model.StockCeiling(
            f"a balance may hold at most {model.MAX_ON_HAND:,} units on hand or in transit",
            errors=[FieldError("quantity", f"takes the balance over {model.MAX_ON_HAND:,}")],
        ) from None


# -- the three hot statements, built once ---------------------------------------------------------
# A reservation, a release and a fulfilment run one of these per line. Building them once keeps
# the per-call Python to binding parameters (SQLAlchemy's compiled cache does the rest), which is
# most of what separates the service path from the raw ``UPDATE`` under load.
_KEY = and_(balances.c.variant_id == bindparam("v"), balances.c.location_id == bindparam("l"))
_HOLD = (
    update(balances)
    .where(
        _KEY,
        balances.c.on_hand - balances.c.reserved - balances.c.buffer + bindparam("freed")
        >= bindparam("q"),
    )
    .values(
        reserved=balances.c.reserved - bindparam("freed") + bindparam("q"),
        updated_at=bindparam("now"),
    )
    .returning(*_NUMBERS)
)
_GIVE_BACK = (
    update(balances)
    .where(_KEY, balances.c.reserved >= bindparam("q"))
    .values(reserved=balances.c.reserved - bindparam("q"), updated_at=bindparam("now"))
    .returning(*_NUMBERS)
)
_CONSUME = (
    update(balances)
    .where(_KEY, balances.c.reserved >= bindparam("q"))
    .values(
        on_hand=balances.c.on_hand - bindparam("q"),
        reserved=balances.c.reserved - bindparam("q"),
        updated_at=bindparam("now"),
    )
    .returning(*_NUMBERS)
)


def _run(uow: UnitOfWork, statement: Any, key: Key, **params: Any) -> Balance | None:
    params = {"v": key[0], "l": key[1], "now": uow.now(), **params}
    return _balance(_execute(uow, statement, params).first())


def hold(uow: UnitOfWork, key: Key, quantity: int, freed: int = 0) -> Balance | None:
    """Reserve ``quantity`` more if that many are available, netting ``freed`` units of lapsed
    holds this transaction just expired on the row; None when not enough is available."""
    return _run(uow, _HOLD, key, q=quantity, freed=freed)


def give_back(uow: UnitOfWork, key: Key, quantity: int) -> Balance | None:
    """Un-reserve ``quantity`` (a release or an expiry); None if reserved does not cover it."""
    return _run(uow, _GIVE_BACK, key, q=quantity)


def consume(uow: UnitOfWork, key: Key, quantity: int) -> Balance | None:
    """Reserved units leave on hand (a fulfilment); None if reserved does not cover them."""
    return _run(uow, _CONSUME, key, q=quantity)


def free_after(delta: int) -> ColumnElement[bool]:
    """The on-hand change ``delta`` leaves every reserved unit covered (or negatives allowed)."""
    return balances.c.allow_negative | (balances.c.on_hand + delta - balances.c.reserved >= 0)


def record(
    uow: UnitOfWork,
    key: Key,
    kind: model.MovementKind,
    on_hand_delta: int,
    *,
    in_transit_delta: int = 0,
    reason_code: str | None = None,
    reference: str | None = None,
    actor: str | None = None,
) -> str:
    """Append one movement to the ledger; returns its id."""
    movement_id = new_id()
    uow.conn.execute(
        movements.insert().values(
            id=movement_id,
            variant_id=key[0],
            location_id=key[1],
            kind=kind.value,
            on_hand_delta=on_hand_delta,
            in_transit_delta=in_transit_delta,
            reason_code=reason_code,
            reference=reference,
            occurred_at=uow.now(),
            actor=actor,
        )
    )
    return movement_id


def record_many(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Append several movements in one round trip. Each dict holds ``variant_id``,
    ``location_id``, ``kind``, ``on_hand_delta`` and optionally the other columns."""
    if not rows:
        return
    now = uow.now()
    uow.conn.execute(
        movements.insert(),
        [
            {
                "id": new_id(),
                "in_transit_delta": 0,
                "reason_code": None,
                "reference": None,
                "actor": None,
                "occurred_at": now,
                **row,
            }
            for row in rows
        ],
    )


def announce(uow: UnitOfWork, key: Key, balance: Balance) -> None:
    """``inventory.availability_changed`` for one balance, with its new numbers."""
    uow.emit(
        DomainEvent(
            "inventory.availability_changed",
            "inventory_balance",
            f"{key[0]}:{key[1]}",
            {
                "variant_id": key[0],
                "location_id": key[1],
                "on_hand": balance.on_hand,
                "reserved": balance.reserved,
                "buffer": balance.buffer,
                "available": balance.available,
            },
        )
    )
