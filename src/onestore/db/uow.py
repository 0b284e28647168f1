"""The unit of work: one transaction per use case, rolled back unless committed.

Services receive a ``UnitOfWork`` and use ``uow.conn`` (SQLAlchemy Core) for their queries and
``uow.emit`` for events. Events go to the outbox table inside the same transaction, so they are
published if and only if the change committed. They are written in one batch just before the
commit: a stock change emits several, and one round trip instead of one each keeps a hot
balance row's lock short. After a commit, hooks registered with ``after_commit`` run (e.g.
in-process event delivery); they never run after a rollback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from onestore.db.engine import BEGIN_MODE
from onestore.db.rows import insert_rows
from onestore.db.tables import outbox
from onestore.kernel.clock import Clock
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id


class UnitOfWork:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        readonly: bool = False,
        durable: bool = True,
        on_events_committed: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self.clock = clock
        self._readonly = readonly
        self._durable = durable
        self._on_events_committed = on_events_committed
        self._conn: Connection | None = None
        self._committed = False
        self._emitted = 0
        self._pending: list[dict[str, object]] = []
        self._after_commit: list[Callable[[], None]] = []
        self._before_commit: list[Callable[[], None]] = []

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("UnitOfWork used outside its 'with' block")
        return self._conn

    def now(self) -> datetime:
        return self.clock.now()

    def __enter__(self) -> Self:
        options: dict[str, object] = {BEGIN_MODE: "DEFERRED" if self._readonly else "IMMEDIATE"}
        if self._readonly and self._engine.dialect.name == "postgresql":
            # Under READ COMMITTED every statement takes its own snapshot anyway, so a read-only
            # unit of work gains nothing from BEGIN … ROLLBACK but two round trips (a third of
            # an availability read). SQLite keeps its deferred transaction: one snapshot.
            # Nothing here enforces read-only (autocommit has no transaction to mark): code in
            # a read-only unit of work must not write, as it never could commit anyway.
            options["isolation_level"] = "AUTOCOMMIT"
        conn = self._engine.connect().execution_options(**options)
        conn.begin()
        self._conn = conn
        if not self._durable and not self._readonly and self._engine.dialect.name == "postgresql":
            # COMMIT returns without waiting for the WAL flush: a crash may lose this
            # transaction, never corrupt anything (PostgreSQL's synchronous_commit=off).
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.conn
        try:
            if not self._committed and conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()
            self._conn = None
        if self._committed and exc_type is None:
            for hook in self._after_commit:
                hook()
            if self._emitted and self._on_events_committed is not None:
                self._on_events_committed()

    def emit(self, event: DomainEvent) -> str:
        """Append ``event`` to the outbox in this transaction; returns the event id."""
        if self._readonly:
            raise RuntimeError("a read-only unit of work cannot emit events")
        event_id = new_id()
        self._pending.append(
            {
                "id": event_id,
                "event_type": event.event_type,
                "aggregate_type": event.aggregate_type,
                "aggregate_id": event.aggregate_id,
                "payload": event.payload,
                "occurred_at": self.now(),
            }
        )
        self._emitted += 1
        return event_id

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._after_commit.append(hook)

    def before_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` inside the transaction just before it commits (after the events are
        written): for writes gathered from many callers into one statement. A hook that raises
        stops the commit; the unit of work then rolls back as for any error."""
        self._before_commit.append(hook)

    def flush_events(self) -> None:
        """Write the events emitted so far to the outbox (``commit`` does it by itself)."""
        if self._pending:
            pending, self._pending = self._pending, []
            insert_rows(self.conn, outbox, pending)

    def commit(self) -> None:
        self.flush_events()
        hooks, self._before_commit = self._before_commit, []
        for hook in hooks:
            hook()
        self.conn.commit()
        self._committed = True

    def rollback(self) -> None:
        self._pending = []
        self.conn.rollback()
