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
from onestore.events.outbox import (
    events_by_id,
    mark_many_published,
    mark_published,
    pending_types,
)
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
    """Delivers the outbox to this process's subscribers.

    ``background`` (what ``onestore serve`` runs): a commit that emitted events wakes one
    delivery thread per worker, and the request returns at once — under load one drain then
    settles the events of many requests together, instead of every request reading and marking
    the outbox itself. Otherwise each write delivers (at most one batch) right after its commit,
    before its response: simpler to reason about in tests and one-off scripts.
    """

    WAKE_EVERY = 5.0
    """Seconds between drains when no commit wakes the thread (picks up what a failed drain or
    another process left)."""
    BATCHES_PER_WAKE = 50
    GATHER = 0.05
    """Seconds the delivery thread rests after a drain (subscribers hear at most this later)."""

    def __init__(self, db: Database, *, background: bool = False) -> None:
        self._db = db
        self._local = threading.local()
        self._background = background
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()

    def after_commit(self) -> None:
        """The hook run after a write that emitted events commits (see ``api.app``).

        Inline, it delivers at most one batch, so a request never pays for a backlog
        (``onestore relay`` drains that). It never raises: the caller's change has already
        committed, and a delivery problem must not look to the client like its request failed.
        """
        if self._background:
            try:
                self.start()
            except Exception:  # e.g. no thread to be had: the events wait for the next wake
                log.exception("could not start in-process event delivery; events stay pending")
            self._wake.set()
            return
        try:
            self.drain(max_batches=1)
        except Exception:
            log.exception("in-process event delivery failed; events stay pending")

    def start(self) -> None:
        """Start the delivery thread (background mode; the app does it at startup, so events
        other processes left pending are delivered without waiting for a write here)."""
        if self._worker is not None and self._worker.is_alive():
            return
        with self._start:
            if self._stop.is_set() or (self._worker is not None and self._worker.is_alive()):
                return
            self._worker = threading.Thread(
                target=self._deliver_in_background, name="onestore-events", daemon=True
            )
            self._worker.start()
        self._wake.set()

    def _deliver_in_background(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=self.WAKE_EVERY)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.drain(max_batches=self.BATCHES_PER_WAKE)
            except Exception:
                log.exception("in-process event delivery failed; events stay pending")
            # Let the commits of the next few milliseconds gather: under load one drain then
            # settles many requests' events, instead of two transactions per commit.
            self._stop.wait(self.GATHER)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the delivery thread after the drain it is in (undelivered events stay pending
        in the outbox for the next start or ``onestore relay``)."""
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout)

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
                heads = pending_types(uow, batch)
                heard = [eid for eid, kind in heads if self._handlers(kind)]
                events = events_by_id(uow, heard)
            if not heads:
                return delivered
            progressed = self._settle_unheard([eid for eid, kind in heads if eid not in heard])
            for event in events:
                if self._deliver(event):
                    progressed += 1
            delivered += progressed
            if len(heads) < batch or progressed == 0:
                return delivered
        return delivered

    @staticmethod
    def _handlers(event_type: str) -> list[Handler]:
        return _subscribers.get(event_type, []) + _subscribers.get("*", [])

    def _settle_unheard(self, unheard: list[str]) -> int:
        """Events nobody in this process listens to are delivered by marking them published,
        all in one statement — read by id and type only, their payloads never decoded: a stock
        change emits several events and most have no in-process subscriber, so one transaction
        per event made every write request pay for a dozen."""
        if not unheard:
            return 0
        # Not durable: if a crash loses the marks, the next drain settles the same events
        # again, which does nothing (nobody listens). So no wait for the disk, and no place in
        # the queue of WAL flushes that every checkout's commit waits in.
        with self._db.uow(durable=False) as uow:
            marked = mark_many_published(uow, unheard)
            uow.commit()
        return marked

    def _deliver(self, event: PublishedEvent) -> bool:
        handlers = self._handlers(event.event_type)
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
