"""Migrations: the Alembic scripts build exactly the schema the code's tables describe.

On an empty database, ``upgrade head`` then an autogenerate comparison against the metadata
must find no difference (a table or column added without a migration fails here), and
``downgrade base`` must undo everything. Runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from onestore.db.engine import make_engine, normalize_url
from onestore.db.metadata import all_tables
from onestore.db.migrate import alembic_config, current_revision, downgrade, upgrade

PG_URL = os.environ.get("ONESTORE_TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a brand-new, empty database of each backend."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    assert PG_URL is not None
    base = make_url(normalize_url(PG_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{base.database or 'onestore_test'}_{worker}_migrations"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"},
        )
        return list(compare_metadata(context, all_tables()))


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_upgrade_head_matches_the_metadata_exactly(empty_engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config(empty_engine)).get_current_head()
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head
    assert _differences(empty_engine) == []
    assert _tables(empty_engine) == {t.name for t in all_tables().sorted_tables} | {
        "alembic_version"
    }


def test_downgrade_to_base_removes_everything_and_upgrade_works_again(
    empty_engine: Engine,
) -> None:
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    assert current_revision(empty_engine) is None
    assert _tables(empty_engine) == {"alembic_version"}
    upgrade(empty_engine)
    assert _differences(empty_engine) == []


def test_the_comparison_would_notice_a_missing_migration(empty_engine: Engine) -> None:
    """Sensitivity check: drop one index behind Alembic's back and the comparison sees it."""
    upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_outbox_pending"))
    assert _differences(empty_engine) != []


def test_migration_history_is_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    assert len(script.get_heads()) == 1, "two migration heads: merge them"
    for revision in script.walk_revisions():
        assert revision.doc, f"migration {revision.revision} needs a one-line description"


def test_0003_upgrades_and_downgrades_a_database_with_reservations(empty_engine: Engine) -> None:
    """Revision 0003 rebuilds inventory_reservations on SQLite (a CHECK changes) while lines
    reference it: data survives both ways, 'committed' holds become 'fulfilled' and back, and
    foreign keys are enforced again afterwards."""
    from onestore.catalog import network, service, taxonomy
    from onestore.catalog.schemas import ProductIn
    from onestore.db.database import Database

    upgrade(empty_engine, "0002")
    db = Database(empty_engine.url.render_as_string(hide_password=False))
    try:
        with db.uow() as uow:
            taxonomy.create_unit(uow, code="ea", name="Each")
            body = {
                "code": "P",
                "name": "Shirt",
                "unit": "ea",
                "dimensions": ["size"],
                "variants": [{"sku": "S1", "currency": "USD", "list_price": "1.00", "size": "M"}],
            }
            service.create_product(uow, ProductIn.model_validate(body).to_draft())
            network.create_location(
                uow,
                code="L1",
                name="Store",
                kind="store",
                latitude=47.6,
                longitude=-122.3,
                country="US",
                timezone="UTC",
            )
            uow.conn.execute(
                text(
                    "INSERT INTO inventory_reservations (id, kind, status, created_at, updated_at)"
                    " VALUES ('01J00000000000000000000001', 'order', 'committed',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            uow.conn.execute(
                text(
                    "INSERT INTO inventory_reservation_lines SELECT '01J00000000000000000000001',"
                    " v.id, l.id, 2, 0 FROM catalog_variants v, catalog_locations l"
                )
            )
            uow.commit()
    finally:
        db.dispose()

    def statuses() -> list[str]:
        with empty_engine.connect() as conn:
            return list(conn.execute(text("SELECT status FROM inventory_reservations")).scalars())

    upgrade(empty_engine)
    assert statuses() == ["fulfilled"]
    downgrade(empty_engine, "0002")
    assert statuses() == ["committed"]
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inventory_reservation_lines")).scalar() == 1
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
