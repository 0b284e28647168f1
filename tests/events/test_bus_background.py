"""The in-process bus in background mode (what ``onestore serve`` runs without a NATS URL): a
commit wakes one delivery thread, the writer does not wait for delivery, every event is still
delivered exactly once, and closing stops the thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.events import bus
from onestore.events.bus import InProcessBus
from onestore.events.outbox import pending_count
from onestore.kernel.events import DomainEvent, PublishedEvent


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("not delivered in time")


def test_commits_wake_the_delivery_thread_and_each_event_arrives_once(db: Database) -> None:
    seen: list[str] = []
    handler_threads: set[str] = set()

    def listen(event: PublishedEvent, uow: UnitOfWork) -> None:
        handler_threads.add(threading.current_thread().name)
        seen.append(event.aggregate_id)

    background = InProcessBus(db, background=True)
    db.on_events_committed(background.after_commit)
    bus.subscribe("test.background", listen)
    try:
        for i in range(30):
            with db.uow() as uow:
                uow.emit(DomainEvent("test.background", "thing", str(i)))
                uow.emit(DomainEvent("test.unheard", "thing", str(i)))  # settled in bulk
                uow.commit()
        _wait_for(lambda: len(seen) == 30)
        background.drain()  # a racing drain finds nothing left to deliver twice
    finally:
        db.on_events_committed(None)
        background.close()
        bus.unsubscribe("test.background", listen)
    assert sorted(seen, key=int) == [str(i) for i in range(30)]
    assert handler_threads == {"onestore-events"}
    with db.uow(readonly=True) as uow:
        assert pending_count(uow) == 0


def test_a_closed_bus_starts_no_thread(db: Database) -> None:
    background = InProcessBus(db, background=True)
    background.close()
    background.after_commit()
    assert background._worker is None
