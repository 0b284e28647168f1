"""Create engines that behave correctly on both SQLite and PostgreSQL.

SQLite: WAL so readers never block the writer, ``synchronous=FULL`` so a committed sale survives
power loss, a busy timeout, foreign keys on, and ``BEGIN IMMEDIATE`` for write units of work so
two writers queue on the lock up front instead of failing with "database is locked" when one
upgrades from reader to writer. Read-only units of work use a deferred ``BEGIN``.

PostgreSQL: psycopg 3, a pool whose connections are checked after they rest, and
``lock_timeout``/``statement_timeout`` on every connection so a stuck lock becomes a clear error
rather than a hung request.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from onestore.settings import Settings, get_settings

BEGIN_MODE = "onestore_sqlite_begin"
"""Execution option on a connection: "IMMEDIATE" (write units of work) or "DEFERRED" (default).

Deferred is the default so that anything that is not a write unit of work — health checks,
Alembic's revision look-up, read-only pages — never queues behind a long write."""


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def dialect_of(url: str) -> str:
    return make_url(normalize_url(url)).get_backend_name()


def make_engine(url: str | None = None, settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = normalize_url(url or settings.database_url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, settings)
    if backend == "postgresql":
        return _postgres_engine(url, settings)
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    engine = create_engine(
        url,
        hide_parameters=True,  # parameters may hold password hashes and tokens: not for logs
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={settings.sqlite_busy_timeout_ms}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(BEGIN_MODE, "DEFERRED")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def _postgres_engine(url: str, settings: Settings) -> Engine:
    options = (
        f"-c lock_timeout={settings.db_lock_timeout_ms} "
        f"-c statement_timeout={settings.db_statement_timeout_ms} "
        "-c idle_in_transaction_session_timeout=60000"
    )
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # Last in, first out: a busy thread (the reservation desk's leader) keeps getting the
        # connection it just used — its prepared statements and its server process's caches
        # are warm — and the ones nobody needs rest (and are checked when they come back).
        pool_use_lifo=True,
        hide_parameters=True,
        connect_args={"options": options},
    )
    _ping_when_idle(engine)
    return engine


IDLE_BEFORE_PING = 2.0
"""Seconds a pooled connection may rest before it is checked on check-out."""


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it rested more than
    :data:`IDLE_BEFORE_PING` seconds; a dead one is replaced before anyone uses it.

    Why not ``pool_pre_ping``: it costs a round trip on every check-out — under load a tenth
    of a checkout's server time — to detect what only happens to connections at rest (a
    database restart or failover, an idle timeout in a proxy). A connection that was busy a
    moment ago is as alive as a ping would say; if it dies in between anyway, the statement
    fails, SQLAlchemy invalidates the pool as disconnected, and the client's retry (with its
    idempotency key) gets a fresh connection."""

    @event.listens_for(engine, "checkin")
    def _rested_since(_dbapi_conn: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < IDLE_BEFORE_PING:
            return  # new, or in use a moment ago
        try:
            dbapi_conn.execute("SELECT 1")
            dbapi_conn.rollback()
        except Exception as err:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError("a pooled connection died while it rested") from err
