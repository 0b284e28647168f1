"""Cycle counts: a count task at one location -> counted quantities -> variances -> one posted
correction per line, and the inventory record accuracy (IRA) those counts measure.

Why it matters: every channel promises from the books. If the books say 5 and the shelf holds
3, the web sells units nobody can pick. IRA — the share of counted lines whose books were right
(within a tolerance) — is the number that says whether promising from the books is safe; below
95 % unified commerce breaks (ship-from-store and click-and-collect orders start failing).

The life of a task: ``open`` (SKUs chosen) -> ``counted`` (every line has a count; ``expected``
is the on hand in the books at the moment each count was entered) -> ``posted`` (each non-zero
variance moved on hand through a ``count_variance`` movement). ``open`` or ``counted`` may be
``cancelled``. Every transition is one conditional ``UPDATE`` of the task row whose rowcount
is checked, so two clerks cannot post the same task twice or count into a posted one.

A SKU is on at most one open or counted task per location: two tasks counting the same shelf
would each post the same variance and correct it twice. ``create_task`` locks the balance rows
it wants (in key order, like every stock change) before it looks for competing tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, case, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onestore.db.uow import UnitOfWork
from onestore.inventory import balances, model, refs, reservations
from onestore.inventory.counts_queries import (
    ACTIVE,
    AccuracyReport,
    CountStatus,
    CountTaskView,
    LocationAccuracy,
    get_task_or_raise,
    task_row_or_raise,
)
from onestore.inventory.model import MovementKind
from onestore.inventory.tables import balances as balance_table
from onestore.inventory.tables import count_lines, count_tasks
from onestore.kernel.errors import Conflict, DatabaseBusy, FieldError, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id

MAX_LINES = 500
"""Most SKUs one task counts: a shelf or an aisle, what one person counts in a session."""
NUMBER_PREFIX = "CC-"
NUMBER_ATTEMPTS = 5
NUMBER_LOCK = 0x434F554E54  # "COUNT": the pg_advisory_xact_lock key for task numbers
IRA_TARGET = Decimal(95)
IRA_FLAG = "below 95% breaks unified commerce"


class ReservedNotCovered(Conflict):
    """Posting would leave fewer units on hand than are promised to customers."""

    slug = "reserved-not-covered"
    title = "Reserved units would not be covered"


# -- pure rules -----------------------------------------------------------------------------------
def check_tolerance(units: object, percent: object) -> tuple[int, int]:
    """(units, basis points): percent may have two decimals, so SQL compares integers only."""
    if (
        isinstance(units, bool)
        or not isinstance(units, int)
        or not 0 <= units <= model.MAX_QUANTITY
    ):
        raise ValidationFailed.on("tolerance_units", f"must be between 0 and {model.MAX_QUANTITY}")
    if isinstance(percent, bool) or not isinstance(percent, int | Decimal):
        raise ValidationFailed.on("tolerance_percent", "must be a number")
    share = Decimal(percent)
    if not share.is_finite() or not 0 <= share <= 100:
        raise ValidationFailed.on("tolerance_percent", "must be between 0 and 100")
    if share != share.quantize(Decimal("0.01")):
        raise ValidationFailed.on("tolerance_percent", "at most two decimal places")
    return units, int(share * 100)


def ira_percent(accurate: int, lines: int) -> Decimal | None:
    """accurate / lines as a percentage rounded down to one decimal; None when nothing counted."""
    if lines == 0:
        return None
    return (Decimal(accurate * 1000 // lines) / 10).quantize(Decimal("0.1"))


def format_number(n: int) -> str:
    return f"{NUMBER_PREFIX}{n:06d}"


# -- use cases ------------------------------------------------------------------------------------
def create_task(
    uow: UnitOfWork,
    location: str,
    skus: Sequence[str] | None = None,
    reference: str | None = None,
    actor: str | None = None,
) -> CountTaskView:
    """Open a count of ``skus`` at ``location`` (duplicates merged, order kept).

    Without SKUs it picks up to :data:`MAX_LINES` SKUs with a balance there, never-counted and
    longest-uncounted first — so calling it again and again walks the whole location, which is
    what a cycle count is. SKUs already on another open or counted task there are refused
    (409 naming ``skus.N``) or, when picked automatically, skipped.
    """
    location_id = refs.location_ids(uow, [location], ["location"])[0]
    if reference is not None and not 1 <= len(reference) <= 100:
        raise ValidationFailed.on("reference", "must be 1 to 100 characters")
    variant_ids = _pick(uow, location_id) if skus is None else _listed(uow, location_id, skus)
    now = uow.now()
    task_id = new_id()
    number = _insert_task(
        uow,
        {
            "id": task_id,
            "location_id": location_id,
            "status": CountStatus.OPEN.value,
            "reference": reference,
            "created_by": actor,
            "created_at": now,
            "updated_at": now,
        },
    )
    uow.conn.execute(
        count_lines.insert(),
        [{"task_id": task_id, "variant_id": v, "line_no": i} for i, v in enumerate(variant_ids)],
    )
    uow.emit(
        DomainEvent(
            "inventory.count_created",
            "inventory_count_task",
            task_id,
            {
                "task_id": task_id,
                "number": number,
                "location_id": location_id,
                "variant_ids": variant_ids,
            },
        )
    )
    return get_task_or_raise(uow, task_id)


def enter_counts(uow: UnitOfWork, task_id: str, counts: Sequence[tuple[str, Any]]) -> CountTaskView:
    """Record counted quantities (a recount overwrites) and snapshot ``expected`` — the on hand
    in the books right now — beside each. The task is ``counted`` once every line has one.

    Enter counts as they are made: the variance is measured against the books at entry, so a
    sale between the physical count and its entry would show up as a false variance."""
    if not counts:
        raise ValidationFailed.on("counts", "at least one count is required")
    if len(counts) > MAX_LINES:
        raise ValidationFailed.on("counts", f"at most {MAX_LINES} counts")
    _raise_all(
        [
            _field_error(model.check_count, q, f"counts.{i}.counted")
            for i, (_, q) in enumerate(counts)
        ]
    )
    row = task_row_or_raise(uow, task_id)
    _transition_or_raise(uow, row, ACTIVE, {}, "enter counts into")
    on_task = {
        r.variant_id
        for r in uow.conn.execute(
            select(count_lines.c.variant_id).where(count_lines.c.task_id == row.id)
        )
    }
    known = refs.known_variant_ids(uow, [sku for sku, _ in counts])
    errors: list[FieldError | None] = []
    seen: set[str] = set()
    for i, (sku, _) in enumerate(counts):
        variant_id = known.get(sku)
        field = f"counts.{i}.sku"
        if variant_id is None:
            errors.append(FieldError(field, f"no SKU {sku!r}"))
        elif variant_id not in on_task:
            errors.append(FieldError(field, f"{sku} is not on count task {row.number}"))
        elif variant_id in seen:
            errors.append(FieldError(field, f"{sku} is counted twice in this request"))
        if variant_id is not None:
            seen.add(variant_id)
    _raise_all(errors)
    books = _on_hand(uow, row.location_id, sorted(seen))
    now = uow.now()
    for sku, quantity in counts:
        variant_id = known[sku]
        uow.conn.execute(
            update(count_lines)
            .where(count_lines.c.task_id == row.id, count_lines.c.variant_id == variant_id)
            .values(counted=quantity, expected=books.get(variant_id, 0), counted_at=now)
        )
    missing = uow.conn.execute(
        select(func.count())
        .select_from(count_lines)
        .where(count_lines.c.task_id == row.id, count_lines.c.counted.is_(None))
    ).scalar_one()
    if missing == 0:
        _transition_or_raise(
            uow, row, ACTIVE, {"status": CountStatus.COUNTED.value, "counted_at": now}, "count"
        )
    return get_task_or_raise(uow, row.id)


def post(uow: UnitOfWork, task_id: str, actor: str | None = None) -> CountTaskView:
    """Correct the books: each line's on hand moves by its variance (``count_variance``).

    Relative, not absolute: on hand moves by ``counted - expected``, it is not overwritten with
    ``counted``. A sale or receipt between entering the count and posting it is already in the
    books and stays there; overwriting would undo it. A shrinking line may not leave on hand
    below what is reserved: lapsed soft holds are freed first, and if it is still short the
    whole post is refused with a 409 naming every such line and nothing changes — someone must
    release or resolve those reservations (the units promised are not there) and post again.
    """
    row = task_row_or_raise(uow, task_id)
    now = uow.now()
    _transition_or_raise(
        uow,
        row,
        (CountStatus.COUNTED.value,),
        {"status": CountStatus.POSTED.value, "posted_at": now},
        "post",
    )
    lines = list(
        uow.conn.execute(
            select(count_lines)
            .where(count_lines.c.task_id == row.id)
            .order_by(count_lines.c.variant_id)
        )
    )
    moving = {(ln.variant_id, row.location_id): ln for ln in lines if ln.counted != ln.expected}
    shrinking = [key for key, ln in moving.items() if ln.counted < ln.expected]
    freed = reservations.free_lapsed(uow, shrinking) if shrinking else {}
    sku_of = refs.skus_by_id(uow, [ln.variant_id for ln in lines])
    errors: list[FieldError] = []
    for key in sorted(set(moving) | set(freed)):  # the global lock order
        line = moving.get(key)
        release = freed.get(key, 0)
        if line is None:  # a lapsed hold with a line elsewhere: only give its units back
            reservations.give_back(uow, {key: release})
            continue
        delta = line.counted - line.expected
        balances.ensure(uow, key)
        after = balances.apply(
            uow,
            key,
            {
                "on_hand": balance_table.c.on_hand + delta,
                "reserved": balance_table.c.reserved - release,
            },
            balances.free_after(delta + release) if delta < 0 else None,
        )
        if after is None:
            errors.append(_short(uow, key, line, sku_of[line.variant_id], delta, release))
            continue
        balances.record(
            uow, key, MovementKind.COUNT_VARIANCE, delta, reference=row.number, actor=actor
        )
        balances.announce(uow, key, after)
    if errors:
        raise ReservedNotCovered(
            f"{row.number} not posted: {errors[0].reason}"
            + (f" (and {len(errors) - 1} more lines)" if len(errors) > 1 else ""),
            errors=errors,
        )
    uow.emit(
        DomainEvent(
            "inventory.count_posted",
            "inventory_count_task",
            row.id,
            {
                "task_id": row.id,
                "number": row.number,
                "location_id": row.location_id,
                "lines": len(lines),
                "variances": [
                    {
                        "variant_id": ln.variant_id,
                        "expected": ln.expected,
                        "counted": ln.counted,
                        "variance": ln.counted - ln.expected,
                    }
                    for ln in moving.values()
                ],
            },
        )
    )
    return get_task_or_raise(uow, row.id)


def cancel(uow: UnitOfWork, task_id: str) -> CountTaskView:
    """Drop an open or counted task without touching stock; its SKUs may be counted again."""
    row = task_row_or_raise(uow, task_id)
    _transition_or_raise(uow, row, ACTIVE, {"status": CountStatus.CANCELLED.value}, "cancel")
    uow.emit(
        DomainEvent(
            "inventory.count_cancelled",
            "inventory_count_task",
            row.id,
            {"task_id": row.id, "number": row.number, "location_id": row.location_id},
        )
    )
    return get_task_or_raise(uow, row.id)


def accuracy(
    uow: UnitOfWork,
    location: str | None = None,
    since: datetime | None = None,
    tolerance_percent: Decimal | int = 0,
    *,
    tolerance_units: int = 0,
) -> AccuracyReport:
    """IRA per location over the tasks posted since ``since`` (all time when None).

    A line is accurate when ``|counted - expected| <= max(tolerance_units, tolerance_percent %
    of |expected|)``; the default is exact. Counted in SQL with integers only (the percentage
    as basis points), so both backends agree to the unit and a year of counts costs one query.
    """
    units, basis_points = check_tolerance(tolerance_units, tolerance_percent)
    if since is not None and since.tzinfo is None:
        raise ValidationFailed.on("since", "must carry a timezone")
    location_id = None
    if location is not None:
        location_id = refs.location_ids(uow, [location], ["location"])[0]
    variance = func.abs(
        cast(count_lines.c.counted, BigInteger) - cast(count_lines.c.expected, BigInteger)
    )
    within = or_(
        variance <= units,
        variance * 10_000 <= func.abs(cast(count_lines.c.expected, BigInteger)) * basis_points,
    )
    query = (
        select(
            count_tasks.c.location_id,
            func.count(count_tasks.c.id.distinct()).label("counts"),
            func.count().label("lines"),
            func.sum(case((within, 1), else_=0)).label("accurate"),
            func.sum(variance).label("off"),
        )
        .select_from(count_lines.join(count_tasks, count_tasks.c.id == count_lines.c.task_id))
        .where(
            count_tasks.c.status == CountStatus.POSTED.value,
            count_lines.c.counted.is_not(None),
            count_lines.c.expected.is_not(None),
        )
        .group_by(count_tasks.c.location_id)
    )
    if since is not None:
        query = query.where(count_tasks.c.posted_at >= since)
    if location_id is not None:
        query = query.where(count_tasks.c.location_id == location_id)
    rows = {r.location_id: r for r in uow.conn.execute(query)}
    ids = sorted(set(rows) | ({location_id} if location_id else set()))
    code_of = refs.location_codes_by_id(uow, ids)
    found = []
    for lid in ids:
        r = rows.get(lid)
        lines, accurate = (int(r.lines), int(r.accurate)) if r is not None else (0, 0)
        below = lines > 0 and accurate * 100 < IRA_TARGET * lines
        found.append(
            LocationAccuracy(
                location=code_of[lid],
                counts=int(r.counts) if r is not None else 0,
                lines=lines,
                accurate_lines=accurate,
                absolute_variance=int(r.off) if r is not None else 0,
                ira_percent=ira_percent(accurate, lines),
                below_target=below,
                flag=IRA_FLAG if below else None,
            )
        )
    found.sort(key=lambda a: a.location)
    return AccuracyReport(
        since=since,
        tolerance_units=units,
        tolerance_percent=Decimal(basis_points) / 100,
        target_percent=IRA_TARGET,
        locations=found,
    )


# -- helpers --------------------------------------------------------------------------------------
def _transition_or_raise(
    uow: UnitOfWork, row: Any, allowed: tuple[str, ...], values: dict[str, Any], verb: str
) -> None:
    """Move the task on (or just touch it, taking its row lock) if its status allows; the
    conditional ``UPDATE`` is the check, so two concurrent posts cannot both pass."""
    done = uow.conn.execute(
        update(count_tasks)
        .where(count_tasks.c.id == row.id, count_tasks.c.status.in_(allowed))
        .values(**values, updated_at=uow.now())
    )
    if done.rowcount != 1:
        status = uow.conn.execute(
            select(count_tasks.c.status).where(count_tasks.c.id == row.id)
        ).scalar_one()
        hint = " (enter a count for every line first)" if status == CountStatus.OPEN else ""
        raise Conflict(f"cannot {verb} count task {row.number}: it is {status}{hint}")


def _listed(uow: UnitOfWork, location_id: str, skus: Sequence[str]) -> list[str]:
    """The variant ids of the SKUs asked for, locked, none on another active task."""
    if not skus:
        raise ValidationFailed.on("skus", "at least one SKU (or leave it out to pick them)")
    if len(skus) > MAX_LINES:
        raise ValidationFailed.on("skus", f"at most {MAX_LINES} SKUs")
    ids = refs.variant_ids(uow, skus, [f"skus.{i}" for i in range(len(skus))])
    wanted = list(dict.fromkeys(ids))
    for variant_id in sorted(wanted):
        balances.ensure(uow, (variant_id, location_id))  # a SKU never stocked here may turn up
    _lock(uow, location_id, wanted)
    busy = _on_active_tasks(uow, location_id, wanted)
    _raise_all(
        [
            FieldError(f"skus.{i}", f"{sku} is already on count task {busy[v]}")
            for i, (sku, v) in enumerate(zip(skus, ids, strict=True))
            if v in busy
        ],
        Conflict,
    )
    return wanted


def _pick(uow: UnitOfWork, location_id: str) -> list[str]:
    """Up to MAX_LINES SKUs stocked here, the least recently counted first, locked."""
    last = (
        select(count_lines.c.variant_id, func.max(count_tasks.c.posted_at).label("at"))
        .join(count_tasks, count_tasks.c.id == count_lines.c.task_id)
        .where(
            count_tasks.c.location_id == location_id,
            count_tasks.c.status == CountStatus.POSTED.value,
        )
        .group_by(count_lines.c.variant_id)
        .subquery()
    )
    active = (
        select(count_lines.c.variant_id)
        .join(count_tasks, count_tasks.c.id == count_lines.c.task_id)
        .where(count_tasks.c.location_id == location_id, count_tasks.c.status.in_(ACTIVE))
    )
    candidates = list(
        uow.conn.execute(
            select(balance_table.c.variant_id)
            .outerjoin(last, last.c.variant_id == balance_table.c.variant_id)
            .where(
                balance_table.c.location_id == location_id,
                balance_table.c.variant_id.not_in(active),
            )
            .order_by(last.c.at.is_not(None), last.c.at, balance_table.c.variant_id)
            .limit(MAX_LINES)
        ).scalars()
    )
    _lock(uow, location_id, candidates)
    busy = _on_active_tasks(uow, location_id, candidates)  # a concurrent task took them
    picked = [v for v in candidates if v not in busy]
    if not picked:
        raise ValidationFailed.on(
            "skus", "nothing to pick here: no balances, or all on open counts; list the SKUs"
        )
    return picked


def _lock(uow: UnitOfWork, location_id: str, variant_ids: Sequence[str]) -> None:
    """``SELECT … FOR UPDATE`` the balance rows in key order (SQLite: the write lock is held)."""
    ordered = sorted(variant_ids)
    for start in range(0, len(ordered), MAX_LINES):
        chunk = ordered[start : start + MAX_LINES]
        uow.conn.execute(
            select(balance_table.c.variant_id)
            .where(
                balance_table.c.location_id == location_id,
                balance_table.c.variant_id.in_(chunk),
            )
            .order_by(balance_table.c.variant_id)
            .with_for_update()
        ).all()


def _on_active_tasks(
    uow: UnitOfWork, location_id: str, variant_ids: Sequence[str]
) -> dict[str, str]:
    """variant id -> number of the open or counted task at this location that holds it."""
    if not variant_ids:
        return {}
    rows = uow.conn.execute(
        select(count_lines.c.variant_id, count_tasks.c.number)
        .join(count_tasks, count_tasks.c.id == count_lines.c.task_id)
        .where(
            count_tasks.c.location_id == location_id,
            count_tasks.c.status.in_(ACTIVE),
            count_lines.c.variant_id.in_(sorted(set(variant_ids))),
        )
    )
    return {r.variant_id: r.number for r in rows}


def _on_hand(uow: UnitOfWork, location_id: str, variant_ids: Sequence[str]) -> dict[str, int]:
    rows = uow.conn.execute(
        select(balance_table.c.variant_id, balance_table.c.on_hand).where(
            balance_table.c.location_id == location_id,
            balance_table.c.variant_id.in_(list(variant_ids)),
        )
    )
    return {r.variant_id: r.on_hand for r in rows}


def _insert_task(uow: UnitOfWork, values: dict[str, Any]) -> str:
    """Insert the task under the highest number + 1. On PostgreSQL creators take turns on a
    transaction-scoped advisory lock, so the next one reads the number this one committed
    (READ COMMITTED) instead of colliding on it; SQLite's write lock already serialises them.
    ``ON CONFLICT (number) DO NOTHING`` plus a re-read is the backstop, never an error page."""
    postgres = uow.conn.dialect.name == "postgresql"
    if postgres:
        uow.conn.execute(select(func.pg_advisory_xact_lock(NUMBER_LOCK)))
    insert: Any = pg_insert if postgres else sqlite_insert
    for _ in range(NUMBER_ATTEMPTS):
        last = uow.conn.execute(
            select(count_tasks.c.number)
            .order_by(func.length(count_tasks.c.number).desc(), count_tasks.c.number.desc())
            .limit(1)
        ).scalar()
        number = format_number(1 if last is None else int(last[len(NUMBER_PREFIX) :]) + 1)
        made = uow.conn.execute(
            insert(count_tasks)
            .values(number=number, **values)
            .on_conflict_do_nothing(index_elements=["number"])
            .returning(count_tasks.c.id)
        ).first()
        if made is not None:
            return number
    raise DatabaseBusy("count numbers are being taken quickly; retry")


def _short(
    uow: UnitOfWork, key: balances.Key, line: Any, sku: str, delta: int, release: int
) -> FieldError:
    """Why one shrinking line cannot post: the numbers a store manager needs to act."""
    now = balances.read(uow, key)
    assert now is not None  # ensured above
    reserved = now.reserved - release
    return FieldError(
        f"lines.{line.line_no}.counted",
        f"{sku}: counted {line.counted} leaves {now.on_hand + delta} on hand but {reserved} "
        "are reserved; release or resolve those reservations first",
    )


def _field_error(check: Any, value: object, field: str) -> FieldError | None:
    try:
        check(value, field)
    except ValidationFailed as err:
        return err.errors[0]
    return None


def _raise_all(
    errors: Sequence[FieldError | None], kind: type[ValidationFailed | Conflict] = ValidationFailed
) -> None:
    found = [e for e in errors if e is not None]
    if found:
        raise kind(f"{found[0].field}: {found[0].reason}", errors=found)
