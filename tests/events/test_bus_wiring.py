"""The in-process bus as the app wires it: after every committed write that emitted events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from onestore.api.app import create_app
from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.db.uow import UnitOfWork
from onestore.events import bus
from onestore.kernel.events import DomainEvent, PublishedEvent


@pytest.fixture
def wired(db: Database) -> Iterator[bus.InProcessBus]:
    app = create_app(db)  # registers bus.after_commit as the database's hook
    yield app.state.bus
    db.on_events_committed(None)


def _emit(db: Database, n: int, event_type: str = "test.ping") -> None:
    for i in range(n):
        with db.uow() as uow:
            uow.emit(DomainEvent(event_type, "thing", str(i)))
            uow.commit()


def test_a_subscriber_that_writes_events_does_not_recurse(
    db: Database, wired: bus.InProcessBus
) -> None:
    seen: list[str] = []

    def react(event: PublishedEvent, uow: UnitOfWork) -> None:
        seen.append(event.event_type)
        if event.event_type == "test.ping":
            uow.emit(DomainEvent("test.pong", "thing", event.aggregate_id))

    bus.subscribe("*", react)
    try:
        with db.uow() as uow:  # one write with a large batch of events
            for i in range(400):
                uow.emit(DomainEvent("test.ping", "thing", str(i)))
            uow.commit()
        wired.drain()  # what `onestore relay` does for the backlog
    finally:
        bus.unsubscribe("*", react)
    assert seen.count("test.ping") == 400
    assert seen.count("test.pong") == 400
    with db.uow(readonly=True) as uow:
        left = uow.conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        ).scalar_one()
    assert left == 0


def test_a_commit_delivers_at_most_one_batch(db: Database, wired: bus.InProcessBus) -> None:
    with db.uow() as uow:
        for i in range(250):
            uow.emit(DomainEvent("test.ping", "thing", str(i)))
        uow.commit()  # the hook delivers one batch of 100; the rest waits for the relay
    with db.uow(readonly=True) as uow:
        left = uow.conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        ).scalar_one()
    assert left == 150


def test_a_delivery_failure_never_fails_the_committed_write(
    db: Database, wired: bus.InProcessBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> list[tuple[str, str]]:
        raise RuntimeError("outbox unreadable")

    monkeypatch.setattr(bus, "pending_types", broken)
    _emit(db, 1)  # must not raise
    with db.uow(readonly=True) as uow:
        assert uow.conn.execute(select(func.count()).select_from(outbox)).scalar_one() == 1
