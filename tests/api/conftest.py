"""Helpers shared by the API tests: a staff-user request body and row counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from onestore.db.database import Database
from onestore.db.metadata import all_tables

STAFF_URL = "/api/v1/staff"
PROBLEM_JSON = "application/problem+json"


def staff_body(username: str = "bob", role: str = "cashier", **extra: Any) -> dict[str, Any]:
    return {
        "username": username,
        "display_name": username.title(),
        "password": "correct horse battery",
        "grants": [{"role": role}],
        **extra,
    }


def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table: a request that must change nothing leaves this equal."""
    counts = {}
    with db.uow(readonly=True) as uow:
        for table in all_tables().sorted_tables:
            query = select(func.count()).select_from(table)
            counts[table.name] = int(uow.conn.execute(query).scalar_one())
    return counts
