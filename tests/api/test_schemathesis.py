"""Schemathesis over the whole OpenAPI document, in process, as an admin: no operation may
answer 5xx to any generated request, valid or not (plan R38, PR tier: 25 examples each).

The operations are read from ``/openapi.json`` when the tests are collected, so routes other
contexts add later are tested without touching this file. Each backend gets one database for
the whole module (its own, so other tests' clean-ups cannot pull rows from under it): data
created by one operation's examples is there for the next, as in a real run.

Why not ``@schema.parametrize()``: the app needs our database fixtures, and
``schemathesis.pytest.from_fixture`` (4.32) reads ``Function._nodeid``, which pytest 9 no
longer has. So each operation is a pytest parameter and Schemathesis's own Hypothesis
strategies (``APIOperation.as_strategy``, valid and invalid requests mixed) drive the examples.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import Depends, FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from onestore.api.app import create_app
from onestore.api.security import public
from onestore.auth import service as auth_service
from onestore.auth.model import Grant, PrincipalKind, Role
from onestore.db.database import Database
from onestore.db.engine import normalize_url
from onestore.db.migrate import upgrade
from onestore.kernel.clock import FrozenClock
from onestore.settings import Settings

MAX_EXAMPLES = 25
PG_URL = os.environ.get("ONESTORE_TEST_DATABASE_URL")


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the app's OpenAPI document."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return sorted((r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations())


def _listing_app() -> list[tuple[str, str]]:
    db = Database("sqlite://")
    try:
        return _operations(create_app(db))
    finally:
        db.dispose()


OPERATIONS = _listing_app()


@pytest.fixture(scope="module", params=["sqlite"] + (["postgresql"] if PG_URL else []))
def fuzz_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated database of each backend that lives for this module only."""
    clock = FrozenClock()
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path_factory.mktemp("schemathesis") / "fuzz.db"
        shutil.copyfile(template, target)
        url = f"sqlite:///{target}"
        db = Database(url, settings=Settings(database_url=url), clock=clock)
        yield db
        db.dispose()
        return
    assert PG_URL is not None
    base = make_url(normalize_url(PG_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{base.database or 'onestore_test'}_{worker}_fuzz"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    db = Database(url, settings=Settings(database_url=url, db_pool_size=4), clock=clock)
    upgrade(db.engine)
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def fuzz_app(fuzz_db: Database) -> FastAPI:
    return create_app(fuzz_db)


@pytest.fixture(scope="module")
def fuzz_admin(fuzz_db: Database) -> dict[str, str]:
    with fuzz_db.uow() as uow:
        user_id = auth_service.create_staff_user(
            uow,
            username="fuzzadmin",
            display_name="Fuzz Admin",
            password="correct horse battery",
            grants=[Grant(Role.ADMIN, None)],
        )
        issued = auth_service.issue_token(uow, PrincipalKind.STAFF, user_id, "schemathesis")
        uow.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def run_operation(
    app: FastAPI, headers: dict[str, str], method: str, path: str, *, shrink: bool = True
) -> None:
    """Up to MAX_EXAMPLES valid and invalid requests to one operation; fail on any 5xx."""
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method]
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=list(Phase) if shrink else [Phase.explicit, Phase.generate],
    )
    def examples(case: Any) -> None:
        sent = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        case.call_and_validate(headers=sent, checks=[not_a_server_error])

    examples()


def test_the_document_lists_the_operations_we_know() -> None:
    assert ("POST", "/api/v1/staff") in OPERATIONS
    assert ("POST", "/api/v1/auth/tokens") in OPERATIONS
    assert len(OPERATIONS) >= 5


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_errors(
    fuzz_app: FastAPI, fuzz_admin: dict[str, str], method: str, path: str
) -> None:
    run_operation(fuzz_app, fuzz_admin, method, path)


class _Probe(BaseModel):
    n: int


def test_the_run_would_catch_a_server_error() -> None:
    """Sensitivity check: an operation that crashes on every valid body must fail the run."""
    db = Database("sqlite://")
    app = create_app(db)

    @app.post("/api/v1/test-crash", dependencies=[Depends(public)])
    def crash(body: _Probe) -> dict[str, int]:
        raise RuntimeError(f"a bug (n={body.n})")

    assert ("POST", "/api/v1/test-crash") in _operations(app)
    # The in-process transport re-raises the handler's exception (or reports the 500).
    with pytest.raises(Exception, match=r"(?i)server error|a bug"):
        run_operation(app, {}, "POST", "/api/v1/test-crash", shrink=False)
    db.dispose()
