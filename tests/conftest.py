"""Test rig: every DB test runs on SQLite, and also on PostgreSQL when
``ONESTORE_TEST_DATABASE_URL`` is set (CI sets it).

The schema is built by the real Alembic migrations once per session and backend; each test
then starts from empty tables (a copied SQLite file; TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from onestore.db.database import Database
from onestore.db.engine import make_engine, normalize_url
from onestore.db.metadata import all_tables
from onestore.db.migrate import upgrade
from onestore.kernel.clock import FrozenClock
from onestore.settings import Settings

PG_URL = os.environ.get("ONESTORE_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    assert PG_URL is not None
    base = make_url(normalize_url(PG_URL))
    name = f"{base.database or 'onestore_test'}_{_worker()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in all_tables().sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for this test; its URL."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "onestore.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    engine: Engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def settings(db_url: str) -> Settings:
    # Events delivered inside each request, so a test sees its subscribers' effects at once;
    # the background mode servers run has its own tests (tests/events/test_bus_background.py).
    return Settings(database_url=db_url, event_delivery="request")


@pytest.fixture
def db(
    db_url: str, settings: Settings, clock: FrozenClock, request: pytest.FixtureRequest
) -> Iterator[Database]:
    if db_url.startswith("postgresql"):
        engine: Engine = request.getfixturevalue("pg_engine")
        database = Database(settings=settings, clock=clock, engine=engine)
        yield database
        return
    database = Database(db_url, settings=settings, clock=clock)
    yield database
    database.dispose()


# -- API fixtures -------------------------------------------------------------------------------
@pytest.fixture
def app(db: Database):
    from onestore.api.app import create_app

    return create_app(db)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_staff(db: Database):
    """``make_staff(role, location_id=None) -> (user_id, bearer_headers)``: staff with a token."""
    from onestore.auth import service as auth_service
    from onestore.auth.model import Grant, PrincipalKind, Role

    counter = iter(range(1, 10_000))

    def _make(role: str, location_id: str | None = None) -> tuple[str, dict[str, str]]:
        n = next(counter)
        with db.uow() as uow:
            user_id = auth_service.create_staff_user(
                uow,
                username=f"{role}{n}",
                display_name=f"{role.title()} {n}",
                password="correct horse battery",
                grants=[Grant(Role(role), location_id)],
            )
            issued = auth_service.issue_token(uow, PrincipalKind.STAFF, user_id, "test")
            uow.commit()
        return user_id, {"Authorization": f"Bearer {issued.token}"}

    return _make


@pytest.fixture
def admin_headers(make_staff) -> dict[str, str]:
    return make_staff("admin")[1]
