"""The one ``MetaData`` every context's ``tables.py`` registers on.

A naming convention makes constraint names identical on SQLite and PostgreSQL, so Alembic
migrations can refer to them by name on both.
"""

from __future__ import annotations

from sqlalchemy import MetaData, Numeric, String

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(26)
"""ULID primary keys (see ``kernel.ids``)."""

AMOUNT = Numeric(18, 4)
"""Money amounts: exact on both backends; four places covers every ISO 4217 minor unit."""


def all_tables() -> MetaData:
    """Import every context's tables so ``metadata`` is complete (Alembic, tests)."""
    from onestore.auth import tables as _auth  # noqa: F401
    from onestore.catalog import tables as _catalog  # noqa: F401
    from onestore.db import tables as _db  # noqa: F401
    from onestore.demo import tables as _demo  # noqa: F401
    from onestore.inventory import tables as _inventory  # noqa: F401
    from onestore.pricing import tables as _pricing  # noqa: F401

    return metadata
