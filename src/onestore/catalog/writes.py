"""Write helpers every catalog use case shares: PATCH markers, conflict-safe inserts, one 422
for every bad field, versioned and batched updates, and the row locks that keep concurrent
writers from losing each other's changes.

Why the locks: on SQLite every write unit of work starts with ``BEGIN IMMEDIATE``, so writers
queue up front and a read-then-write is safe. PostgreSQL (READ COMMITTED) lets two writers
read the same rows at once; whatever a use case decides from what it read (a variant
combination is free, a category move makes no loop, an import row differs from what is stored)
must be decided while holding a lock, and read again after taking it. Locks are always taken
in the same order — the import lock, the category tree lock, products by id, variants by id —
so two writers wait for each other instead of deadlocking. ``with_for_update`` is left out by
SQLAlchemy on SQLite, and the advisory locks are only issued on PostgreSQL.

The lock and versioned-update functions are called through this module
(``writes.lock_product(...)``) so the concurrency tests can swap in the naive path and show
that they catch it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Insert, Table, bindparam, select, text, update
from sqlalchemy.exc import IntegrityError

from onestore.catalog.queries import chunks
from onestore.catalog.tables import products
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import Conflict, FieldError, ValidationFailed

CATEGORY_TREE_LOCK = 0x0C47_7EE0
"""pg_advisory_xact_lock key serialising category moves (a loop needs two moves to race)."""
IMPORT_LOCK = 0x0C47_1397
"""pg_advisory_xact_lock key serialising whole imports (bulk inserts of the same new codes
would otherwise wait on each other in opposite orders)."""


class Unset:
    """Marks a field a PATCH did not mention (``None`` is a value: "clear the brand")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()


def insert_or_conflict(uow: UnitOfWork, statement: Insert, rows: Any, detail: str) -> None:
    """Insert; a unique-key race lost to a concurrent request becomes a 409, not a 500."""
    try:
        uow.conn.execute(statement, rows)
    except IntegrityError:
        raise Conflict(detail) from None


def raise_if(errors: list[FieldError]) -> None:
    """Raise one 422 carrying every field error found, so a client fixes them in one go."""
    if errors:
        first = errors[0]
        raise ValidationFailed(f"{first.field}: {first.reason}", errors=errors)


def refuse_used_code(uow: UnitOfWork, table: Table, code: str, kind: str) -> None:
    """A code already in ``table`` is a 409 on field ``code`` (checked before the insert so
    the client gets the field; :func:`insert_or_conflict` still covers the race)."""
    if uow.conn.execute(select(table.c.code).where(table.c.code == code)).first() is not None:
        raise Conflict(
            f"{kind} code {code!r} is already used",
            errors=[FieldError("code", f"already used by another {kind}")],
        )


def bump_version(
    uow: UnitOfWork, table: Table, row_id: str, version: int, values: Mapping[str, Any]
) -> bool:
    """``UPDATE ... SET values, version = version + 1 WHERE id = :id AND version = :version``.

    False when another writer got there first: the PATCH's optimistic check is this one
    statement, so it holds on PostgreSQL without any lock (the losing UPDATE waits for the
    winner's row lock, then re-checks the version and matches nothing)."""
    done = uow.conn.execute(
        update(table)
        .where(table.c.id == row_id, table.c.version == version)
        .values(**values, version=table.c.version + 1, updated_at=uow.now())
    )
    return bool(done.rowcount == 1)


def update_many(
    uow: UnitOfWork,
    table: Table,
    key: str,
    rows: Iterable[Mapping[str, Any]],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """UPDATE ... WHERE key = :b_key for many rows (executemany), one statement per set of
    columns, so each row writes only the columns it changes. ``extra`` adds SQL expressions
    every row gets, e.g. ``version = version + 1``."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != key)), []).append(row)
    for columns, group in groups.items():
        statement = (
            update(table)
            .where(table.c[key] == bindparam(f"b_{key}"))
            .values({c: bindparam(f"b_{c}") for c in columns} | dict(extra or {}))
        )
        uow.conn.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in group])


# -- locks ----------------------------------------------------------------------------------------
def _advisory(uow: UnitOfWork, key: int) -> None:
    if uow.conn.dialect.name == "postgresql":
        uow.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def lock_category_tree(uow: UnitOfWork) -> None:
    """Take before reading category parents for a move; held until the transaction ends."""
    _advisory(uow, CATEGORY_TREE_LOCK)


def lock_import(uow: UnitOfWork) -> None:
    """Take first thing in an import; held until the transaction ends."""
    _advisory(uow, IMPORT_LOCK)


def lock_rows(uow: UnitOfWork, table: Table, ids: Iterable[str]) -> None:
    """``SELECT id ... FOR UPDATE`` in id order (in chunks of sorted ids, so the order is
    global), so writers locking overlapping sets queue instead of deadlocking."""
    for part in chunks(sorted(set(ids))):
        uow.conn.execute(
            select(table.c.id).where(table.c.id.in_(part)).order_by(table.c.id).with_for_update()
        ).all()


def lock_product(uow: UnitOfWork, product_id: str) -> None:
    """Lock one product row before checking or changing its variants (a combination is
    "free" only while nobody else can add one)."""
    lock_rows(uow, products, [product_id])
