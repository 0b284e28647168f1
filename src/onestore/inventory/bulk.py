"""Opening stock in bulk: create many balances at once, each with its ``receipt`` in the ledger.

The day a retailer switches to onestore (or the demo retailer is written) every SKU at every
location needs its starting quantity — 100,000s of rows. ``service.receive`` would take about
eight statements and one outbox event per row; here the rows are checked in memory, checked
against the database with a handful of set-based queries, and written in batches: on SQLite
one prepared ``INSERT`` through the driver's ``executemany``, on PostgreSQL ``COPY … FROM
STDIN``. Measured at 200,000 rows: SQLAlchemy's per-row parameter handling cost more than
SQLite's own work, and psycopg's ``executemany`` still executes one statement per row on the
server (more than three times slower than ``COPY``, which streams them); both check every
constraint and foreign key as any insert does.

Opening stock, not an upsert: every row must open a balance that does not exist yet, and a load
that names an existing balance is refused as a whole (:class:`~onestore.kernel.errors.Conflict`
naming the row). Adding to an existing balance is what a receipt is for, and it needs the
conditional ``UPDATE`` and the lapsed-hold handling ``service`` has; a bulk "insert or add"
would be a second, subtly different receipt path. Because each new balance starts with exactly
one movement whose ``on_hand_delta`` is its ``on_hand``, the ledger invariant (for every
balance row, ``on_hand`` = the sum of its movements' ``on_hand_delta``) holds by construction.

One summary event, not one per row: the load emits a single ``inventory.opening_stock_loaded``
with counts per location. 200,000 ``inventory.availability_changed`` events would sit in the
outbox for minutes of relay time and make every subscriber process each SKU one by one, when
what a channel needs after an opening load is a resync of the locations named in the summary.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from onestore.db.uow import UnitOfWork
from onestore.inventory import model, refs
from onestore.inventory.model import MovementKind
from onestore.inventory.tables import balances, movements
from onestore.kernel.errors import Conflict, FieldError, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id

OPENING_STOCK_LOADED = "inventory.opening_stock_loaded"
DEFAULT_BATCH = 5000
"""Rows per write (``executemany`` on SQLite, ``COPY`` on PostgreSQL): large enough that round
trips vanish, small enough that a batch stays a few MB and far inside the statement timeout."""
LOOKUP_CHUNK = 5000
"""Ids per ``IN (…)`` when checking that variants exist (well below SQLite's 32,766 limit)."""
MAX_REPORTED = 20
"""A file with thousands of bad rows gets its first 20 named, not a 10 MB error."""

Row = tuple[str, str, int]
"""(variant_id, location_id, quantity)."""
Progress = Callable[[int, int], None]


def receive_bulk(
    uow: UnitOfWork,
    rows: Iterable[Row],
    *,
    reference: str,
    actor: str | None,
    batch: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> int:
    """Open one balance per row with ``quantity`` on hand and one ``receipt`` movement each.

    ``reference`` names the load (a stock-take document, a migration run) on every movement
    and in the summary event. Refused as a whole, before anything is written: a quantity that
    is not a whole number from 1 to ``MAX_QUANTITY`` (422 ``rows.<i>.quantity``), an unknown
    variant or location id (422 ``rows.<i>.variant_id`` / ``.location_id``), a balance named
    twice (422), or a balance that already exists (409 naming the row). ``progress(done,
    total)`` is called after each batch. Returns the number of balances opened; the caller
    commits.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError("batch must be a positive whole number")
    if not reference or not reference.strip() or len(reference) > 100:
        raise ValidationFailed.on("reference", "must be 1 to 100 characters")
    lines = _checked(rows)
    locations = _check_known(uow, lines)
    _refuse_existing(uow, lines)
    now = uow.now()
    write = _copy if uow.conn.dialect.name == "postgresql" else _insert
    tick: Progress = progress or (lambda _done, _total: None)
    opened = _constants(
        uow, balances, reserved=0, in_transit=0, buffer=0, allow_negative=False, updated_at=now
    )
    received = _constants(
        uow,
        movements,
        kind=MovementKind.RECEIPT.value,
        in_transit_delta=0,
        reason_code=None,
        reference=reference,
        occurred_at=now,
        actor=actor,
    )
    dbapi = uow.conn.dialect.loaded_dbapi
    ordered = sorted(lines)  # key order: index pages fill in sequence, locks in the global order
    for start in range(0, len(ordered), batch):
        part = ordered[start : start + batch]
        try:
            write(
                uow,
                balances,
                ("variant_id", "location_id", "on_hand", *opened),
                [(*line, *opened.values()) for line in part],
            )
        except (IntegrityError, dbapi.IntegrityError) as error:  # opened meanwhile by another
            raise Conflict(
                "a balance in this load was opened by another change meanwhile; nothing was "
                "loaded, retry to see which row"
            ) from error
        write(
            uow,
            movements,
            ("id", "variant_id", "location_id", "on_hand_delta", *received),
            [
                (movement_id, *line, *received.values())
                for movement_id, line in zip(_ids(len(part)), part, strict=True)
            ],
        )
        tick(start + len(part), len(ordered))
    _announce(uow, lines, locations, reference)
    return len(lines)


def _constants(uow: UnitOfWork, table: Table, **values: Any) -> dict[str, Any]:
    """Values every row shares, converted once the way SQLAlchemy would convert them for this
    driver (on SQLite a datetime becomes SQLAlchemy's text form, so these rows read back exactly
    like rows written by ``service``)."""
    dialect = uow.conn.dialect
    converted: dict[str, Any] = {}
    for name, value in values.items():
        processor = table.c[name].type.bind_processor(dialect)
        converted[name] = value if processor is None or value is None else processor(value)
    return converted


def _insert(
    uow: UnitOfWork, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """SQLite: one prepared ``INSERT`` run by the driver's ``executemany`` (a C loop over the
    rows; SQLAlchemy's per-row parameter handling would cost more than SQLite's own work)."""
    quote = uow.conn.dialect.identifier_preparer
    names = ", ".join(quote.quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({marks})"  # noqa: S608
    uow.conn.exec_driver_sql(sql, rows)


def _copy(
    uow: UnitOfWork, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` on the unit of work's own connection (so inside its
    transaction). ``executemany`` would still be one statement execution per row on the server,
    several times slower; COPY streams the rows and checks the same constraints."""
    quote = uow.conn.dialect.identifier_preparer
    names = ", ".join(quote.quote(c) for c in columns)
    driver = uow.conn.connection.driver_connection
    assert driver is not None  # an open unit of work has a live connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {quote.format_table(table)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _checked(rows: Iterable[Row]) -> list[Row]:
    """Every row well formed, every quantity valid, no balance twice; all problems at once
    (up to :data:`MAX_REPORTED`), each naming its row."""
    lines: list[Row] = []
    errors: list[FieldError] = []
    first_row: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        if len(errors) >= MAX_REPORTED:
            break
        try:
            variant_id, location_id, quantity = row
        except (TypeError, ValueError):
            errors.append(FieldError(f"rows.{index}", "must be (variant_id, location_id, qty)"))
            continue
        for name, value in (("variant_id", variant_id), ("location_id", location_id)):
            if not isinstance(value, str) or not value:
                errors.append(FieldError(f"rows.{index}.{name}", "must be an id"))
        try:
            model.check_quantity(quantity, f"rows.{index}.quantity")
        except ValidationFailed as error:
            errors.extend(error.errors)
        if isinstance(variant_id, str) and isinstance(location_id, str):
            seen = first_row.setdefault((variant_id, location_id), index)
            if seen != index:
                errors.append(FieldError(f"rows.{index}", f"same balance as rows.{seen}"))
        lines.append((variant_id, location_id, quantity))
    if errors:
        _raise(errors)
    if not lines:
        raise ValidationFailed.on("rows", "at least one row is required")
    return lines


def _check_known(uow: UnitOfWork, lines: Sequence[Row]) -> dict[str, str]:
    """422 for a row naming a variant or location that does not exist (rather than a foreign
    key error halfway through); returns location id -> code for the summary."""
    location_ids = sorted({line[1] for line in lines})
    codes = refs.location_codes_by_id(uow, location_ids)
    variant_ids = sorted({line[0] for line in lines})
    known: set[str] = set()
    for start in range(0, len(variant_ids), LOOKUP_CHUNK):
        known.update(refs.skus_by_id(uow, variant_ids[start : start + LOOKUP_CHUNK]))
    errors: list[FieldError] = []
    for index, (variant_id, location_id, _quantity) in enumerate(lines):
        if variant_id not in known:
            errors.append(FieldError(f"rows.{index}.variant_id", f"no variant {variant_id!r}"))
        if location_id not in codes:
            errors.append(FieldError(f"rows.{index}.location_id", f"no location {location_id!r}"))
        if len(errors) >= MAX_REPORTED:
            break
    if errors:
        _raise(errors)
    return codes


def _refuse_existing(uow: UnitOfWork, lines: Sequence[Row]) -> None:
    """409 if any row's balance exists. One indexed query per location (there are dozens,
    not thousands), with no parameter list that grows with the load."""
    by_location: dict[str, dict[str, int]] = {}
    for index, (variant_id, location_id, _quantity) in enumerate(lines):
        by_location.setdefault(location_id, {})[variant_id] = index
    clashes: list[int] = []
    for location_id, wanted in by_location.items():
        existing = uow.conn.execute(
            select(balances.c.variant_id).where(balances.c.location_id == location_id)
        ).scalars()
        clashes.extend(wanted[v] for v in existing if v in wanted)
    if clashes:
        clashes.sort()
        errors = [
            FieldError(
                f"rows.{i}", "this balance already exists; opening stock only opens new ones"
            )
            for i in clashes[:MAX_REPORTED]
        ]
        raise Conflict(
            f"rows.{clashes[0]}: {len(clashes)} balance(s) in this load already exist; "
            "nothing was loaded (use a receipt to add to a balance)",
            errors=errors,
        )


def _announce(uow: UnitOfWork, lines: Sequence[Row], codes: dict[str, str], reference: str) -> None:
    """The one summary event: per location how many balances were opened and units received."""
    opened: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for _variant_id, location_id, quantity in lines:
        opened[location_id] += 1
        units[location_id] += quantity
    per_location: list[dict[str, Any]] = [
        {
            "location_id": location_id,
            "location": codes[location_id],
            "balances": opened[location_id],
            "units": units[location_id],
        }
        for location_id in sorted(opened, key=lambda lid: codes[lid])
    ]
    uow.emit(
        DomainEvent(
            OPENING_STOCK_LOADED,
            "inventory_load",
            reference,
            {
                "reference": reference,
                "balances": len(lines),
                "units": sum(units.values()),
                "locations": per_location,
            },
        )
    )


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_COUNTER_DIGITS = 5
_COUNTER_SPAN = len(_CROCKFORD) ** _COUNTER_DIGITS


def _ids(count: int) -> list[str]:
    """``count`` fresh movement ids: ULIDs sharing the time and 55 random bits, with a counter
    in the last five characters (33 million ids per random draw).

    Encoding 200,000 ULIDs one by one costs seconds; this costs a concatenation each. The
    random bits are drawn here rather than taken from ``new_id()``: within one millisecond
    ``new_id()`` hands out its previous value plus one, so a counter on its digits would run
    into the next ids it hands out.
    """
    ids: list[str] = []
    for start in range(0, count, _COUNTER_SPAN):
        head = new_id()[:10] + "".join(secrets.choice(_CROCKFORD) for _ in range(11))
        ids.extend(head + _counter(n) for n in range(min(_COUNTER_SPAN, count - start)))
    return ids


def _counter(n: int) -> str:
    a = _CROCKFORD
    return a[n >> 20 & 31] + a[n >> 15 & 31] + a[n >> 10 & 31] + a[n >> 5 & 31] + a[n & 31]


def _raise(errors: list[FieldError]) -> None:
    first = errors[0]
    raise ValidationFailed(f"{first.field}: {first.reason}", errors=errors[:MAX_REPORTED])
