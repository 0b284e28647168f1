"""In-process delivery of outbox events, used when no external event bus is configured.

Each event is claimed and handled in one transaction: the handlers' writes and the
"published" mark commit together, so a subscriber sees every event exactly once even with
several workers draining at the same time, and a handler that fails leaves the event
pending for the next drain.
"""

from __future__ import annotations

import logging
import threading
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
        self._local = threading.local()

    def after_commit(self) -> None:
        """The hook run after a write that emitted events commits (see ``api.app``).

        It delivers at most one batch, so a request never pays for a backlog (``onestore
        relay`` drains that), and it never raises: the caller's change has already committed,
        and a delivery problem must not look to the client like its request failed.
        """
        try:
            self.drain(max_batches=1)
        except Exception:
            log.exception("in-process event delivery failed; events stay pending")

    def drain(self, batch: int = 100, *, max_batches: int | None = None) -> int:
        """Deliver pending events; returns how many were delivered.

        Re-entrant calls (a subscriber's own write committing inside a delivery) return at
        once: the running drain picks their events up, so the stack never grows per event.
        """
        if getattr(self._local, "draining", False):
            return 0
        self._local.draining = True
        try:
            return self._drain(batch, max_batches)
        finally:
            self._local.draining = False

    def _drain(self, batch: int, max_batches: int | None) -> int:
        delivered = 0
        rounds = 0
        while max_batches is None or rounds < max_batches:
            rounds += 1
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
