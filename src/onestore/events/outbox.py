"""Reading and marking outbox rows; shared by the in-process bus and the NATS relay."""

from __future__ import annotations

from sqlalchemy import select, update

from onestore.db.tables import outbox
from onestore.db.uow import UnitOfWork
from onestore.kernel.clock import as_utc
from onestore.kernel.events import PublishedEvent


def pending(uow: UnitOfWork, limit: int = 100) -> list[PublishedEvent]:
    rows = uow.conn.execute(
        select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.seq).limit(limit)
    )
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


def mark_published(uow: UnitOfWork, event_id: str) -> bool:
    """Mark one row published; False if another worker already did (so we skip it)."""
    result = uow.conn.execute(
        update(outbox)
        .where(outbox.c.id == event_id, outbox.c.published_at.is_(None))
        .values(published_at=uow.now())
    )
    return result.rowcount == 1
