"""Inventory tables. Only ``onestore.inventory`` writes them.

``inventory_balances`` is kept in step with the append-only ``inventory_movements`` ledger in the
same transaction: for every balance row, ``on_hand`` equals the sum of its movements'
``on_hand_delta`` (and ``in_transit`` of ``in_transit_delta``). The CHECKs backstop what the
conditional ``UPDATE`` statements already guarantee, so even a bug cannot oversell silently.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from onestore.db.metadata import ID, metadata

balances = Table(
    "inventory_balances",
    metadata,
    Column("variant_id", ID, ForeignKey("catalog_variants.id"), primary_key=True),
    Column("location_id", ID, ForeignKey("catalog_locations.id"), primary_key=True),
    Column("on_hand", Integer, nullable=False, default=0),
    Column("reserved", Integer, nullable=False, default=0),
    Column("in_transit", Integer, nullable=False, default=0),
    Column("buffer", Integer, nullable=False, default=0),
    Column("allow_negative", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("reserved >= 0", name="reserved_non_negative"),
    CheckConstraint("in_transit >= 0", name="in_transit_non_negative"),
    CheckConstraint("buffer >= 0", name="buffer_non_negative"),
    CheckConstraint("allow_negative OR on_hand >= 0", name="on_hand_non_negative"),
    CheckConstraint("allow_negative OR on_hand - reserved >= 0", name="reserved_covered"),
)
Index("ix_inventory_balances_location_id", balances.c.location_id)

movements = Table(
    "inventory_movements",
    metadata,
    # seq orders the ledger; id is the movement's identity (ULID).
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", ID, nullable=False, unique=True),
    Column("variant_id", ID, ForeignKey("catalog_variants.id"), nullable=False),
    Column("location_id", ID, ForeignKey("catalog_locations.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("in_transit_delta", Integer, nullable=False, default=0),
    Column("reason_code", String(64), nullable=True),
    Column("reference", String(100), nullable=True),  # order, transfer or receipt document
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=True),  # principal scope key, or a system job name
    CheckConstraint(
        "kind IN ('receipt', 'sale', 'return', 'transfer_out', 'transfer_in', 'adjustment', "
        "'count_variance', 'damage')",
        name="kind_known",
    ),
    CheckConstraint(
        "reason_code IS NOT NULL OR kind NOT IN ('adjustment', 'damage')", name="reason_given"
    ),
)
Index("ix_inventory_movements_balance", movements.c.variant_id, movements.c.location_id)

reservations = Table(
    "inventory_reservations",
    metadata,
    Column("id", ID, primary_key=True),  # a client-made ULID is honoured
    Column("kind", String(8), nullable=False),  # soft | order
    Column("status", String(12), nullable=False),  # active | released | expired | committed
    Column("channel", String(32), nullable=True),  # channel code that made it
    Column("owner", String(100), nullable=True),  # principal scope key that made it
    Column("reference", String(100), nullable=True),  # cart, checkout or order id
    Column("expires_at", DateTime(timezone=True), nullable=True),  # soft only
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('soft', 'order')", name="kind_known"),
    CheckConstraint(
        "status IN ('active', 'released', 'expired', 'committed')", name="status_known"
    ),
    CheckConstraint("(kind = 'soft') = (expires_at IS NOT NULL)", name="soft_expires"),
)
Index("ix_inventory_reservations_due", reservations.c.status, reservations.c.expires_at)

reservation_lines = Table(
    "inventory_reservation_lines",
    metadata,
    Column("reservation_id", ID, ForeignKey("inventory_reservations.id"), primary_key=True),
    Column("variant_id", ID, ForeignKey("catalog_variants.id"), primary_key=True),
    Column("location_id", ID, ForeignKey("catalog_locations.id"), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("line_no", Integer, nullable=False),  # position of the line in the request
    CheckConstraint("quantity > 0", name="quantity_positive"),
)
Index(
    "ix_inventory_reservation_lines_balance",
    reservation_lines.c.variant_id,
    reservation_lines.c.location_id,
)
