"""Single-backend fixtures for behaviour that exists on one backend only (pragmas, timeouts).

They sit beside the two-backend ``db`` fixture so that backend-specific tests run once, on
their backend, instead of being skipped on the other.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from onestore.db.database import Database
from onestore.db.metadata import all_tables
from onestore.kernel.clock import FrozenClock
from onestore.settings import Settings


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path, clock: FrozenClock) -> Iterator[Database]:
    target = tmp_path / "onestore.db"
    shutil.copyfile(sqlite_template, target)
    url = f"sqlite:///{target}"
    database = Database(url, settings=Settings(database_url=url), clock=clock)
    yield database
    database.dispose()


@pytest.fixture
def pg_db(request: pytest.FixtureRequest, clock: FrozenClock) -> Database:
    if not os.environ.get("ONESTORE_TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL tests need ONESTORE_TEST_DATABASE_URL")
    engine: Engine = request.getfixturevalue("pg_engine")
    names = ", ".join(f'"{t.name}"' for t in all_tables().sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    url = engine.url.render_as_string(hide_password=False)
    return Database(settings=Settings(database_url=url), clock=clock, engine=engine)
