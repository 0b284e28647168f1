"""Alembic environment: uses the engine handed over by ``onestore.db.migrate``."""

from alembic import context

from onestore.db.engine import BEGIN_MODE
from onestore.db.metadata import all_tables

target_metadata = all_tables()
engine = context.config.attributes["engine"]

# A migration is a write: take SQLite's write lock up front like every write unit of work.
with engine.connect().execution_options(**{BEGIN_MODE: "IMMEDIATE"}) as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite changes a constraint by rebuilding the table (copy, drop, rename). With foreign
        # keys enforced, dropping a table that other rows reference fails (or cascades), so they
        # are switched off for the migration — outside any transaction, where the pragma takes
        # effect — and every reference is checked before the change commits.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
    finally:
        if sqlite:
            # Alembic has committed; what is left open is an empty transaction SQLAlchemy began
            # (closing would roll it back too), and the pragma only works outside one.
            if connection.in_transaction():
                connection.rollback()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
