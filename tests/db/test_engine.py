"""Engine settings that make the two backends safe, checked on the live connection.

SQLite: WAL, synchronous=FULL, foreign keys, busy timeout, and BEGIN IMMEDIATE so a second
writer queues instead of failing. PostgreSQL: lock_timeout and statement_timeout in effect, and
a blocked lock turning into an error within the timeout instead of a hung request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from onestore.db import engine as engine_module
from onestore.db.contention import as_busy
from onestore.db.database import Database
from onestore.db.engine import dialect_of, make_engine, normalize_url
from onestore.db.tables import outbox
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id
from onestore.settings import Settings


def _outbox_row() -> dict[str, object]:
    return {
        "id": new_id(),
        "event_type": "test.row",
        "aggregate_type": "thing",
        "aggregate_id": "1",
        "payload": {},
        "occurred_at": func.current_timestamp(),
    }


def _rows(db: Database) -> int:
    with db.uow(readonly=True) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(outbox)).scalar_one())


def test_urls_are_normalised_to_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u:pw@h/db") == "postgresql+psycopg://u:pw@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert dialect_of("postgresql://u@h/db") == "postgresql"
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://u@h/db")


# -- SQLite ---------------------------------------------------------------------------------
def test_sqlite_pragmas_are_in_effect(sqlite_db: Database) -> None:
    url = sqlite_db.engine.url.render_as_string()
    engine = make_engine(url, Settings(database_url=url, sqlite_busy_timeout_ms=4321))
    try:
        with engine.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 4321
    finally:
        engine.dispose()


def test_sqlite_enforces_foreign_keys(sqlite_db: Database) -> None:
    from onestore.auth.tables import role_assignments

    with pytest.raises(IntegrityError), sqlite_db.uow() as uow:
        uow.conn.execute(
            role_assignments.insert().values(id=new_id(), user_id=new_id(), role="admin")
        )


def test_sqlite_second_writer_waits_for_the_first(sqlite_db: Database) -> None:
    """BEGIN IMMEDIATE: the second writer blocks on BEGIN, then runs; nobody errors."""
    first_holds_lock, second_trying, second_began = (threading.Event() for _ in range(3))
    errors: list[BaseException] = []

    def second() -> None:
        try:
            first_holds_lock.wait()
            second_trying.set()
            with sqlite_db.uow() as uow:
                second_began.set()
                uow.conn.execute(outbox.insert().values(**_outbox_row()))
                uow.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    with sqlite_db.uow() as uow:
        uow.conn.execute(outbox.insert().values(**_outbox_row()))
        first_holds_lock.set()
        second_trying.wait()
        # While we hold the write lock the second writer must still be waiting on BEGIN.
        assert not second_began.wait(timeout=0.3)
        uow.commit()
    thread.join(timeout=10)
    assert errors == []
    assert second_began.is_set()
    assert _rows(sqlite_db) == 2


def test_sqlite_reader_is_not_blocked_by_a_writer(sqlite_db: Database) -> None:
    """Read-only units of work use a deferred BEGIN, so WAL lets them read during a write."""
    with sqlite_db.uow() as writer:
        writer.conn.execute(outbox.insert().values(**_outbox_row()))
        started = time.monotonic()
        assert _rows(sqlite_db) == 0  # the uncommitted row is invisible, and we did not wait
        assert time.monotonic() - started < 1
        writer.commit()
    assert _rows(sqlite_db) == 1


def test_sqlite_deferred_read_then_write_fails_which_is_why_writers_begin_immediate(
    sqlite_db: Database,
) -> None:
    """Negative control: the same two writers with a deferred BEGIN collide with an error."""
    both_read = threading.Barrier(2)
    first_committed = threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def writer(name: str) -> None:
        try:
            with sqlite_db.uow(readonly=True) as uow:  # deferred BEGIN
                uow.conn.execute(select(func.count()).select_from(outbox)).scalar_one()
                both_read.wait()
                if name == "second":
                    first_committed.wait()
                uow.conn.execute(outbox.insert().values(**_outbox_row()))
                uow.commit()
            outcome[name] = None
        except BaseException as exc:
            outcome[name] = exc
        finally:
            if name == "first":
                first_committed.set()

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcome["first"] is None
    assert isinstance(outcome["second"], OperationalError)
    assert "locked" in str(outcome["second"])


# -- PostgreSQL -----------------------------------------------------------------------------
@pytest.fixture
def pg_small_timeouts(pg_db: Database) -> Iterator[Engine]:
    """A second engine on the same test database with a 200 ms lock and 300 ms statement limit."""
    url = pg_db.engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, db_lock_timeout_ms=200, db_statement_timeout_ms=300)
    engine = make_engine(url, settings)
    yield engine
    engine.dispose()


def test_pg_timeouts_are_in_effect(pg_db: Database, pg_small_timeouts: Engine) -> None:
    with pg_db.engine.connect() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "5s"
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "30s"
        assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "1min"
    with pg_small_timeouts.connect() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "200ms"
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"


def test_pg_blocked_lock_is_an_error_within_the_timeout(
    pg_db: Database, pg_small_timeouts: Engine
) -> None:
    with pg_db.uow() as uow:
        uow.emit(DomainEvent("test.row", "thing", "1"))
        uow.commit()
    with pg_db.uow() as holder:
        holder.conn.execute(select(outbox.c.seq).with_for_update()).all()
        started = time.monotonic()
        with pytest.raises(DBAPIError) as caught, pg_small_timeouts.begin() as conn:
            conn.execute(outbox.update().values(published_at=func.now()))
        elapsed = time.monotonic() - started
    assert getattr(caught.value.orig, "sqlstate", None) == "55P03"  # lock_not_available
    assert 0.15 <= elapsed < 3


def test_pg_slow_statement_is_cancelled(pg_small_timeouts: Engine) -> None:
    started = time.monotonic()
    with pytest.raises(DBAPIError) as caught, pg_small_timeouts.connect() as conn:
        conn.execute(text("SELECT pg_sleep(5)"))
    assert getattr(caught.value.orig, "sqlstate", None) == "57014"  # query_canceled
    assert time.monotonic() - started < 3


@pytest.fixture
def pg_own_pool(pg_db: Database) -> Iterator[Engine]:
    """An engine of its own (one pooled connection) so a test may kill its connections."""
    url = pg_db.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, Settings(database_url=url, db_pool_size=1))
    yield engine
    engine.dispose()


def _kill_pooled_connection(engine: Engine, pg_db: Database) -> None:
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with pg_db.engine.connect() as killer:
        assert killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    time.sleep(0.2)  # the backend is gone; the pool still holds its socket


def test_pg_a_connection_that_died_while_resting_is_replaced_before_use(
    pg_db: Database, pg_own_pool: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING", 0.0)
    _kill_pooled_connection(pg_own_pool, pg_db)
    with pg_own_pool.connect() as conn:  # checked on check-out, replaced: no error
        assert conn.execute(text("SELECT 41 + 1")).scalar_one() == 42


def test_pg_a_connection_used_a_moment_ago_is_not_pinged(
    pg_db: Database, pg_own_pool: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: within the rest allowance nothing is checked, so the
    dead connection surfaces — as "busy, retry", and the retry gets a new connection."""
    monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING", 3600.0)
    _kill_pooled_connection(pg_own_pool, pg_db)
    with pytest.raises(OperationalError) as caught, pg_own_pool.connect() as conn:
        conn.execute(text("SELECT 1"))
    busy = as_busy(caught.value)
    assert busy is not None and busy.status == 503
    with pg_own_pool.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
