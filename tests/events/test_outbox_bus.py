"""The outbox and in-process delivery, on both backends.

An event exists iff its transaction committed; each subscriber sees each event exactly once,
even with several drains racing; a failing subscriber leaves the event pending (and its own
writes undone) until a later drain succeeds.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.db.uow import UnitOfWork
from onestore.events import bus
from onestore.events.bus import InProcessBus
from onestore.events.outbox import pending, pending_count
from onestore.kernel.events import DomainEvent, PublishedEvent


def _count(db: Database, event_type: str | None = None) -> int:
    query = select(func.count()).select_from(outbox)
    if event_type is not None:
        query = query.where(outbox.c.event_type == event_type)
    with db.uow(readonly=True) as uow:
        return int(uow.conn.execute(query).scalar_one())


def _emit(db: Database, event_type: str, n: int = 1) -> list[str]:
    with db.uow() as uow:
        ids = [uow.emit(DomainEvent(event_type, "thing", str(i), {"n": i})) for i in range(n)]
        uow.commit()
    return ids


@pytest.fixture
def event_type() -> str:
    """A type no other subscriber listens to (subscribers are process-wide)."""
    return f"test.happened_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def subscribed(event_type: str) -> Iterator[list[PublishedEvent]]:
    """A subscriber that records what it got and, in the same transaction, emits a reaction."""
    seen: list[PublishedEvent] = []
    lock = threading.Lock()

    def handler(event: PublishedEvent, uow: UnitOfWork) -> None:
        uow.emit(DomainEvent(f"{event_type}.reaction", "thing", event.id))
        with lock:
            seen.append(event)

    bus.subscribe(event_type, handler)
    yield seen
    bus.unsubscribe(event_type, handler)


# -- the outbox is transactional ----------------------------------------------------------------
def test_event_is_written_when_the_transaction_commits(db: Database, event_type: str) -> None:
    [event_id] = _emit(db, event_type)
    with db.uow(readonly=True) as uow:
        [event] = pending(uow)
    assert event.id == event_id
    assert (event.event_type, event.aggregate_type, event.payload) == (
        event_type,
        "thing",
        {"n": 0},
    )
    assert event.occurred_at == db.clock.now()


def test_event_is_not_written_without_commit(db: Database, event_type: str) -> None:
    with db.uow() as uow:
        uow.emit(DomainEvent(event_type, "thing", "1"))
    assert _count(db) == 0


def test_event_is_not_written_when_the_transaction_fails(db: Database, event_type: str) -> None:
    with pytest.raises(ZeroDivisionError), db.uow() as uow:
        uow.emit(DomainEvent(event_type, "thing", "1"))
        _ = 1 / 0
        uow.commit()
    assert _count(db) == 0


def test_readonly_unit_of_work_cannot_emit(db: Database, event_type: str) -> None:
    with pytest.raises(RuntimeError), db.uow(readonly=True) as uow:
        uow.emit(DomainEvent(event_type, "thing", "1"))


def test_pending_is_in_seq_order_and_respects_the_limit(db: Database, event_type: str) -> None:
    ids = _emit(db, event_type, 5) + _emit(db, event_type, 5)
    with db.uow(readonly=True) as uow:
        first = pending(uow, 4)
        everything = pending(uow, 100)
        assert pending_count(uow) == 10
    assert [e.id for e in everything] == ids
    assert [e.id for e in first] == ids[:4]
    assert [e.seq for e in everything] == sorted(e.seq for e in everything)


# -- in-process delivery ------------------------------------------------------------------------
def test_each_event_is_delivered_exactly_once(
    db: Database, event_type: str, subscribed: list[PublishedEvent]
) -> None:
    ids = _emit(db, event_type, 7)
    drains = InProcessBus(db)
    # 7 events plus the 7 reactions the subscriber emits while handling them (no one listens).
    assert drains.drain(batch=3) == 14
    assert drains.drain() == 0
    assert [e.id for e in subscribed] == ids
    assert _count(db, f"{event_type}.reaction") == 7
    with db.uow(readonly=True) as uow:
        assert pending_count(uow) == 0


def test_racing_drains_deliver_each_event_once(
    db: Database, event_type: str, subscribed: list[PublishedEvent]
) -> None:
    ids = _emit(db, event_type, 60)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            InProcessBus(db).drain(batch=10)
        except BaseException as exc:  # reported below: a thread must not hide a failure
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(e.id for e in subscribed) == sorted(ids)
    assert len(subscribed) == 60
    # The reaction rows are committed with the "published" mark: exactly one per event.
    assert _count(db, f"{event_type}.reaction") == 60


def test_failing_subscriber_leaves_the_event_pending_until_a_later_drain(
    db: Database, event_type: str, subscribed: list[PublishedEvent]
) -> None:
    broken = True
    calls = 0

    def flaky(event: PublishedEvent, uow: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        if broken:
            raise RuntimeError("subscriber is down")

    bus.subscribe(event_type, flaky)
    try:
        [event_id] = _emit(db, event_type)
        assert InProcessBus(db).drain() == 0
        with db.uow(readonly=True) as uow:
            assert [e.id for e in pending(uow)] == [event_id]
        # The other subscriber's writes in the failed transaction were rolled back too.
        assert _count(db, f"{event_type}.reaction") == 0
        assert calls == 1

        broken = False
        # The event, then (in this drain or the next) the reaction its subscriber emitted.
        assert InProcessBus(db).drain() + InProcessBus(db).drain() == 2
        assert calls == 2
        assert InProcessBus(db).drain() == 0
        assert calls == 2
        assert _count(db, f"{event_type}.reaction") == 1
    finally:
        bus.unsubscribe(event_type, flaky)


def test_committed_events_are_delivered_right_after_commit(
    db: Database, event_type: str, subscribed: list[PublishedEvent]
) -> None:
    db.on_events_committed(InProcessBus(db).drain)
    try:
        with db.uow() as uow:
            uow.emit(DomainEvent(event_type, "thing", "1"))
            uow.commit()
        assert len(subscribed) == 1
        with db.uow() as uow:
            uow.emit(DomainEvent(event_type, "thing", "2"))  # rolled back: never delivered
        assert len(subscribed) == 1
    finally:
        db.on_events_committed(None)


def test_wildcard_subscriber_sees_every_event(db: Database, event_type: str) -> None:
    seen: list[str] = []

    def everything(event: PublishedEvent, uow: UnitOfWork) -> None:
        seen.append(event.event_type)

    bus.subscribe("*", everything)
    try:
        _emit(db, event_type)
        _emit(db, event_type + "_other")
        InProcessBus(db).drain()
    finally:
        bus.unsubscribe("*", everything)
    assert seen == [event_type, event_type + "_other"]
