"""The demo marker: which demo (seed, scale) was written into this database, and when.

``onestore demo`` reads it to tell "already loaded, nothing to do" from "another demo or a real
catalog is here, refuse", so re-running the command is safe and never mixes two catalogs.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table, UniqueConstraint

from onestore.db.metadata import ID, metadata

demo_runs = Table(
    "demo_runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("seed", Integer, nullable=False),
    Column("scale", Integer, nullable=False),
    # SHA-256 of the canonical document: tells a run of today's generator from an older one.
    Column("digest", String(64), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("seed", "scale"),
)
