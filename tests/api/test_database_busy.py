"""Lock contention reaches the client as 503 + Retry-After, not as a 500, and the CLI as exit 2."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from onestore.api.app import create_app
from onestore.auth import service as auth_service
from onestore.auth.model import Grant, Role
from onestore.db.contention import as_busy
from onestore.db.database import Database
from onestore.kernel.clock import FrozenClock
from onestore.settings import Settings


def test_a_held_lock_becomes_503_with_retry_after(db_url: str, clock: FrozenClock) -> None:
    settings = Settings(database_url=db_url, db_lock_timeout_ms=300, sqlite_busy_timeout_ms=300)
    db = Database(settings=settings, clock=clock)
    with db.uow() as uow:
        auth_service.create_staff_user(
            uow,
            username="blocked",
            display_name="Blocked",
            password="correct horse battery",
            grants=[Grant(Role.CASHIER, None)],
        )
        uow.commit()
    blocker = db.engine.connect()
    try:
        blocker.begin()
        # Hold the write lock (SQLite) / the staff row lock (PostgreSQL) a login needs.
        blocker.execute(text("UPDATE auth_staff_users SET display_name = 'x'"))
        with TestClient(create_app(db), raise_server_exceptions=False) as client:
            response = client.post(
                "/api/v1/auth/tokens",
                json={"username": "blocked", "password": "correct horse battery"},
            )
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("database-busy")
    finally:
        blocker.rollback()
        blocker.close()
        db.dispose()


def test_other_database_errors_are_not_called_busy(db: Database) -> None:
    with db.uow() as uow:
        try:
            uow.conn.execute(text("SELECT * FROM no_such_table"))
        except Exception as exc:
            assert as_busy(exc) is None
        else:
            raise AssertionError("the query should have failed")
