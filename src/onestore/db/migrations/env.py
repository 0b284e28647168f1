"""Alembic environment: uses the engine handed over by ``onestore.db.migrate``."""

from alembic import context

from onestore.db.engine import BEGIN_MODE
from onestore.db.metadata import all_tables

target_metadata = all_tables()
engine = context.config.attributes["engine"]

# A migration is a write: take SQLite's write lock up front like every write unit of work.
with engine.connect().execution_options(**{BEGIN_MODE: "IMMEDIATE"}) as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
