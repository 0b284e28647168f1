"""Reading and marking outbox rows; shared by the in-process bus and the NATS relay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update

from onestore.db.tables import outbox
from onestore.db.uow import UnitOfWork
from onestore.kernel.clock import as_utc
from onestore.kernel.events import PublishedEvent


def pending(uow: UnitOfWork, limit: int = 100) -> list[PublishedEvent]:
    """The oldest unpublished events, in ``seq`` (publishing) order."""
    rows = uow.conn.execute(
        select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.seq).limit(limit)
    )
    return _events(rows)


def pending_types(uow: UnitOfWork, limit: int = 100) -> list[tuple[str, str]]:
    """(id, event type) of the oldest unpublished events, in ``seq`` order: enough to settle
    the events nobody in this process listens to without reading (and decoding) payloads."""
    rows = uow.conn.execute(
        select(outbox.c.id, outbox.c.event_type)
        .where(outbox.c.published_at.is_(None))
        .order_by(outbox.c.seq)
        .limit(limit)
    )
    return [(r.id, r.event_type) for r in rows]


def events_by_id(uow: UnitOfWork, event_ids: Sequence[str]) -> list[PublishedEvent]:
    """The given events, whole, in ``seq`` order."""
    if not event_ids:
        return []
    rows = uow.conn.execute(
        select(outbox).where(outbox.c.id.in_(list(event_ids))).order_by(outbox.c.seq)
    )
    return _events(rows)


def _events(rows: Any) -> list[PublishedEvent]:
    return [
        PublishedEvent(
            id=r.id,
            seq=r.seq,
            event_type=r.event_type,
            aggregate_type=r.aggregate_type,
            aggregate_id=r.aggregate_id,
            payload=r.payload,
            occurred_at=as_utc(r.occurred_at),
        )
        for r in rows
    ]


def pending_count(uow: UnitOfWork) -> int:
    """How many events wait for delivery (the relay's backlog)."""
    query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    return int(uow.conn.execute(query).scalar_one())


def mark_published(uow: UnitOfWork, event_id: str) -> bool:
    """Mark one row published; False if another worker already did (so we skip it)."""
    result = uow.conn.execute(
        update(outbox)
        .where(outbox.c.id == event_id, outbox.c.published_at.is_(None))
        .values(published_at=uow.now())
    )
    return result.rowcount == 1


def mark_many_published(uow: UnitOfWork, event_ids: Sequence[str]) -> int:
    """Mark rows published in one statement; rows another relay already marked are left alone."""
    if not event_ids:
        return 0
    result = uow.conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(list(event_ids)), outbox.c.published_at.is_(None))
        .values(published_at=uow.now())
    )
    return int(result.rowcount)
