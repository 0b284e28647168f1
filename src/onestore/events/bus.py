"""In-process delivery of outbox events, used when no external event bus is configured.

Each event is claimed and handled in one transaction: the handlers' writes and the
"published" mark commit together, so a subscriber sees every event exactly once even with
several workers draining at the same time, and a handler that fails leaves the event
pending for the next drain.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.events.outbox import mark_published, pending
from onestore.kernel.events import PublishedEvent

log = logging.getLogger("onestore.events")

Handler = Callable[[PublishedEvent, UnitOfWork], None]

_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event_type: str, handler: Handler) -> None:
    """Register ``handler`` for ``event_type`` (or ``"*"`` for every event)."""
    _subscribers[event_type].append(handler)


def unsubscribe(event_type: str, handler: Handler) -> None:
    _subscribers[event_type].remove(handler)


def subscriber_count() -> int:
    """How many handlers are registered in this process (``onestore relay`` reports it)."""
    return sum(len(handlers) for handlers in _subscribers.values())


class InProcessBus:
    def __init__(self, db: Database) -> None:
        self._db = db

    def drain(self, batch: int = 100) -> int:
        """Deliver pending events; returns how many were delivered."""
        delivered = 0
        while True:
            with self._db.uow(readonly=True) as uow:
                events = pending(uow, batch)
            if not events:
                return delivered
            progressed = 0
            for event in events:
                if self._deliver(event):
                    progressed += 1
            delivered += progressed
            if len(events) < batch or progressed == 0:
                return delivered

    def _deliver(self, event: PublishedEvent) -> bool:
        handlers = _subscribers.get(event.event_type, []) + _subscribers.get("*", [])
        try:
            with self._db.uow() as uow:
                if not mark_published(uow, event.id):
                    return False
                for handler in handlers:
                    handler(event, uow)
                uow.commit()
                return True
        except Exception:
            log.exception(
                "subscriber failed on event %s (%s); will retry", event.id, event.event_type
            )
            return False
