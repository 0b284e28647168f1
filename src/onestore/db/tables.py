"""Tables the data layer itself owns: the event outbox and the idempotency-key store."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from onestore.db.metadata import ID, metadata

outbox = Table(
    "outbox",
    metadata,
    # seq gives publishing order; id is the event's identity and the NATS de-duplication key.
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", ID, nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("aggregate_type", String(50), nullable=False),
    Column("aggregate_id", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
)
_PENDING = outbox.c.published_at.is_(None)
Index("ix_outbox_pending", outbox.c.seq, postgresql_where=_PENDING, sqlite_where=_PENDING)
"""Only the events still to publish (a partial index): the relay's and the in-process bus's
"what is pending" query stays a few-row read however long the outbox grows, whatever the
planner's statistics say (a full (published_at, seq) index lost to the primary key on stale
statistics and walked all 217,000 published rows: 89 ms per drain)."""

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    # scope = the caller's principal + the operation, so two callers' keys never collide.
    Column("scope", String(300), nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(12), nullable=False),  # in_flight | completed
    # Who holds the claim: a takeover after the lease changes it, so a slow first worker can
    # no longer complete (its business transaction then rolls back) or release the key.
    Column("claim_token", String(32), nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("scope", "key"),
)
Index("ix_idempotency_keys_created_at", idempotency_keys.c.created_at)
