"""Reads of cycle counts: the views a count is shown as and the task look-ups.

Kept apart from ``inventory.counts`` (the use cases that change stock) so each stays short; the
use cases return these views, and the API and pages read through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select

from onestore.db.uow import UnitOfWork
from onestore.inventory import refs
from onestore.inventory.tables import count_lines, count_tasks
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import NotFound, ValidationFailed
from onestore.kernel.ids import is_id

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000


class CountStatus(StrEnum):
    OPEN = "open"
    COUNTED = "counted"
    POSTED = "posted"
    CANCELLED = "cancelled"


ACTIVE = (CountStatus.OPEN.value, CountStatus.COUNTED.value)


# -- views ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CountLineView:
    line_no: int
    sku: str
    expected: int | None  # on hand in the books when the count was entered
    counted: int | None
    variance: int | None  # counted - expected
    counted_at: datetime | None


@dataclass(frozen=True, slots=True)
class CountTaskView:
    id: str
    number: str
    location: str
    status: str
    reference: str | None
    created_by: str | None
    created_at: datetime
    counted_at: datetime | None
    posted_at: datetime | None
    updated_at: datetime
    counted_lines: int
    variance_units: int  # sum of |variance| over counted lines
    lines: list[CountLineView]


@dataclass(frozen=True, slots=True)
class CountTaskSummary:
    id: str
    number: str
    location: str
    status: str
    reference: str | None
    created_at: datetime
    posted_at: datetime | None
    lines: int
    counted_lines: int


@dataclass(frozen=True, slots=True)
class CountTaskPage:
    items: list[CountTaskSummary]
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class LocationAccuracy:
    """IRA of one location over the posted counts in the window."""

    location: str
    counts: int  # posted tasks
    lines: int  # counted lines of those tasks
    accurate_lines: int  # |variance| within the tolerance
    absolute_variance: int  # units the books were off, summed without sign
    ira_percent: Decimal | None  # rounded down to 0.1 so 94.96 never shows as 95.0; None: no lines
    below_target: bool
    flag: str | None


@dataclass(frozen=True, slots=True)
class AccuracyReport:
    since: datetime | None
    tolerance_units: int
    tolerance_percent: Decimal
    target_percent: Decimal
    locations: list[LocationAccuracy]


# -- reads ----------------------------------------------------------------------------------------
def get_task_or_raise(uow: UnitOfWork, task_id: str) -> CountTaskView:
    """A task with its lines, by id or by number (``CC-000001``)."""
    row = task_row_or_raise(uow, task_id)
    lines = list(
        uow.conn.execute(
            select(count_lines)
            .where(count_lines.c.task_id == row.id)
            .order_by(count_lines.c.line_no)
        )
    )
    sku_of = refs.skus_by_id(uow, [ln.variant_id for ln in lines])
    views = [
        CountLineView(
            line_no=ln.line_no,
            sku=sku_of[ln.variant_id],
            expected=ln.expected,
            counted=ln.counted,
            variance=None if ln.counted is None else ln.counted - ln.expected,
            counted_at=None if ln.counted_at is None else as_utc(ln.counted_at),
        )
        for ln in lines
    ]
    return CountTaskView(
        id=row.id,
        number=row.number,
        location=refs.location_codes_by_id(uow, [row.location_id])[row.location_id],
        status=row.status,
        reference=row.reference,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        counted_at=None if row.counted_at is None else as_utc(row.counted_at),
        posted_at=None if row.posted_at is None else as_utc(row.posted_at),
        updated_at=as_utc(row.updated_at),
        counted_lines=sum(1 for v in views if v.counted is not None),
        variance_units=sum(abs(v.variance) for v in views if v.variance is not None),
        lines=views,
    )


def task_location_id(uow: UnitOfWork, task_id: str) -> str:
    """Where a task counts: what a store-scoped permission is checked against."""
    return str(task_row_or_raise(uow, task_id).location_id)


def list_tasks(
    uow: UnitOfWork,
    *,
    location: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CountTaskPage:
    """Count tasks, newest first, optionally at one location and/or in one status."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.on("limit", f"must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed.on("offset", f"must be between 0 and {MAX_OFFSET}")
    if status is not None and status not in set(CountStatus):
        raise ValidationFailed.on("status", "must be open, counted, posted or cancelled")
    t = count_tasks
    query = (
        select(
            t,
            func.count(count_lines.c.variant_id).label("line_total"),
            func.count(count_lines.c.counted).label("counted_total"),
        )
        .select_from(t.outerjoin(count_lines, count_lines.c.task_id == t.c.id))
        .group_by(*t.c)
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if location is not None:
        query = query.where(t.c.location_id == refs.location_ids(uow, [location], ["location"])[0])
    if status is not None:
        query = query.where(t.c.status == status)
    rows = list(uow.conn.execute(query))
    code_of = refs.location_codes_by_id(uow, [r.location_id for r in rows])
    items = [
        CountTaskSummary(
            id=r.id,
            number=r.number,
            location=code_of[r.location_id],
            status=r.status,
            reference=r.reference,
            created_at=as_utc(r.created_at),
            posted_at=None if r.posted_at is None else as_utc(r.posted_at),
            lines=int(r.line_total),
            counted_lines=int(r.counted_total),
        )
        for r in rows
    ]
    return CountTaskPage(items=items, limit=limit, offset=offset)


def task_row_or_raise(uow: UnitOfWork, ref: str) -> Any:
    """The task row by id or number, or 404."""
    column = count_tasks.c.id if is_id(ref) else count_tasks.c.number
    row = uow.conn.execute(select(count_tasks).where(column == ref)).first()
    if row is None:
        raise NotFound(f"no count task {ref!r}")
    return row
