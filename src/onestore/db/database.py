"""The composition root for persistence: one engine, one clock, the event dispatcher.

API workers, the CLI, the relay and tests all build a ``Database`` and hand out units of work
from it, so they behave the same way; tests pass a ``FrozenClock``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from onestore.db.engine import make_engine
from onestore.db.uow import UnitOfWork
from onestore.kernel.clock import Clock, SystemClock
from onestore.settings import Settings, get_settings


class Database:
    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Clock | None = None,
        settings: Settings | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.engine = engine or make_engine(url, self.settings)
        self.clock: Clock = clock or SystemClock()
        self._on_events_committed: Callable[[], None] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def on_events_committed(self, hook: Callable[[], None] | None) -> None:
        """Register what runs after a transaction that emitted events commits (in-process bus)."""
        self._on_events_committed = hook

    def uow(self, *, readonly: bool = False, durable: bool = True) -> UnitOfWork:
        """A unit of work. ``durable=False`` is only for bookkeeping that may be lost in a
        crash and redone (marking events nobody here listens to as delivered): its commit does
        not wait for the disk, so it does not queue with the sales that must."""
        return UnitOfWork(
            self.engine,
            self.clock,
            readonly=readonly,
            durable=durable,
            on_events_committed=self._on_events_committed,
        )

    def dispose(self) -> None:
        self.engine.dispose()
