"""Many rows into one table in one statement of one fixed shape, on both backends.

Why: the reservation desk writes a batch's reservations, lines, events and idempotency keys
just before its commit, on the one thread every waiting checkout depends on. The obvious forms
cost that thread dearly on PostgreSQL: ``executemany`` sends a bind and an execute per row
(with psycopg's Python around each), and a multi-row ``VALUES`` list (what ``RETURNING``
needs) has a different text and parameter count for every batch size, so psycopg parses it
anew each time (it caches statements of up to 50 parameters) and PostgreSQL plans it anew.
Here the rows travel as one JSON document, ``INSERT … SELECT … FROM
json_to_recordset(:rows)``: one parameter, encoded by the standard library's C encoder, and
the same text whatever the batch — parsed once, prepared once. (Arrays per column were tried
first: psycopg escapes every text element of an array with a regular expression, which cost
more than it saved.) SQLite has none of these costs: there the driver's ``executemany`` (or
the multi-row ``VALUES`` for ``RETURNING``) stays.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Connection, Table, Text, bindparam, cast, column, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts: bool = False,
    returning: Sequence[Column[Any]] = (),
) -> CursorResult[Any] | None:
    """Insert ``rows`` (dicts with the same keys) in one statement; with ``skip_conflicts``
    a row whose unique key exists is left out (``ON CONFLICT DO NOTHING``). The result's
    ``rowcount`` is the number of rows written, and with ``returning`` it yields those
    columns of each written row. None when there was nothing to insert."""
    if not rows:
        return None
    names = tuple(rows[0])
    postgres = conn.dialect.name == "postgresql"
    statement = _statement(table, names, postgres, skip_conflicts, tuple(returning))
    params: Any = {"rows": _document(table, names, rows)} if postgres else list(rows)
    return conn.execute(statement, params)


@functools.cache
def _statement(
    table: Table,
    names: tuple[str, ...],
    postgres: bool,
    skip_conflicts: bool,
    returning: tuple[Column[Any], ...],
) -> Any:
    """Built once per shape: the batch writes run on the thread every checkout waits for."""
    statement: Any = (
        pg_insert(table).from_select(names, _recordset(table, names))
        if postgres
        else sqlite_insert(table)
    )
    if skip_conflicts:
        statement = statement.on_conflict_do_nothing()
    if returning:
        statement = statement.returning(*returning)
    return statement.execution_options(preserve_rowcount=True)


def _recordset(table: Table, names: Sequence[str]) -> Any:
    """``SELECT … FROM json_to_recordset(:rows) AS r(name type, …)``: the table's own column
    types, so each value arrives as what its column holds. A JSON column travels as its
    document's text and is cast back, so the stored text is what SQLite would store (no
    re-ordered keys, no re-written numbers)."""
    source = (
        func.json_to_recordset(cast(bindparam("rows", type_=Text), JSON))
        .table_valued(*(column(name, _carried(table.c[name])) for name in names))
        .render_derived(name="r", with_types=True)
    )
    return select(
        *(
            cast(source.c[name], table.c[name].type) if _is_json(table.c[name]) else source.c[name]
            for name in names
        )
    )


def _document(table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    json_columns = [name for name in names if _is_json(table.c[name])]
    if json_columns:  # serialised as the JSON type would (a value it refuses is refused here)
        rows = [{**row, **{n: json.dumps(row[n]) for n in json_columns}} for row in rows]
    return json.dumps(rows, default=_scalar, separators=(",", ":"))


def _is_json(col: Column[Any]) -> bool:
    return isinstance(col.type, JSON)


def _carried(col: Column[Any]) -> Any:
    return Text() if _is_json(col) else col.type


def _scalar(value: Any) -> Any:
    """Column values JSON has no type for: dates and times as ISO 8601 (the column type
    reads them back), decimals as their exact text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as a column value")
