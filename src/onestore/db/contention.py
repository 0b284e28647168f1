"""Recognise database contention so it reaches callers as "busy, retry" rather than a bug.

PostgreSQL reports a ``lock_timeout`` as SQLSTATE 55P03, a ``statement_timeout`` as 57014, a
deadlock as 40P01 and a serialization failure as 40001; SQLite says "database is locked" when
``busy_timeout`` runs out. A connection lost mid-request (a database restart) is the same kind
of trouble: SQLAlchemy has already dropped the pool's connections, and a retry gets a new one.
All of them leave the transaction rolled back and are safe to retry.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from onestore.kernel.errors import DatabaseBusy

RETRYABLE_SQLSTATES = {
    "55P03": "lock timeout",
    "57014": "statement timeout",
    "40P01": "deadlock",
    "40001": "serialization failure",
}


def as_busy(exc: BaseException) -> DatabaseBusy | None:
    """The :class:`DatabaseBusy` this error means, or None if it is something else."""
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        # If it broke during COMMIT the change may have been saved: a write with an
        # idempotency key is safe to retry (the retry replays it); say so, for the others.
        return DatabaseBusy(
            "database connection lost; a write cut off during its commit may have been "
            "saved: retry with the same idempotency key, or check before doing it again"
        )
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return DatabaseBusy(f"database busy ({RETRYABLE_SQLSTATES[sqlstate]}); retry shortly")
    message = str(exc.orig).lower()
    if "database is locked" in message or "database is busy" in message:
        return DatabaseBusy("database busy (locked); retry shortly")
    return None
