"""Inventory tables. Only ``onestore.inventory`` writes them.

``inventory_balances`` is kept in step with the append-only ``inventory_movements`` ledger in the
same transaction: for every balance row, ``on_hand`` equals the sum of its movements'
``on_hand_delta`` (and ``in_transit`` of ``in_transit_delta``). The CHECKs backstop what the
conditional ``UPDATE`` statements already guarantee, so even a bug cannot oversell silently.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)

from onestore.db.metadata import ID, metadata
from onestore.inventory.model import MAX_ON_HAND

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
    CheckConstraint(f"on_hand <= {MAX_ON_HAND}", name="on_hand_within_ceiling"),
    CheckConstraint(f"in_transit <= {MAX_ON_HAND}", name="in_transit_within_ceiling"),
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
    Column("status", String(12), nullable=False),  # active | released | expired | fulfilled
    Column("channel", String(32), nullable=True),  # channel code that made it
    Column("owner", String(100), nullable=True),  # principal scope key that made it
    Column("reference", String(100), nullable=True),  # cart, checkout or order id
    Column("expires_at", DateTime(timezone=True), nullable=True),  # soft only
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('soft', 'order')", name="kind_known"),
    CheckConstraint(
        "status IN ('active', 'released', 'expired', 'fulfilled')", name="status_known"
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

# -- store operations (revision 0003) -------------------------------------------------------------
transfers = Table(
    "inventory_transfers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),  # human: TR-000123
    Column("from_location_id", ID, ForeignKey("catalog_locations.id"), nullable=False),
    Column("to_location_id", ID, ForeignKey("catalog_locations.id"), nullable=False),
    # open (units held at the source by reservation_id) -> shipped -> received; open -> cancelled
    Column("status", String(12), nullable=False),
    Column("reservation_id", ID, ForeignKey("inventory_reservations.id"), nullable=True),
    Column("reference", String(100), nullable=True),
    Column("carrier", String(64), nullable=True),
    Column("tracking", String(100), nullable=True),
    Column("created_by", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("shipped_at", DateTime(timezone=True), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('open', 'shipped', 'received', 'cancelled')", name="status_known"),
    CheckConstraint("from_location_id <> to_location_id", name="two_locations"),
)
Index("ix_inventory_transfers_to_status", transfers.c.to_location_id, transfers.c.status)
Index("ix_inventory_transfers_from_status", transfers.c.from_location_id, transfers.c.status)

transfer_lines = Table(
    "inventory_transfer_lines",
    metadata,
    Column("transfer_id", ID, ForeignKey("inventory_transfers.id"), primary_key=True),
    Column("variant_id", ID, ForeignKey("catalog_variants.id"), primary_key=True),
    Column("line_no", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),  # asked for and shipped
    Column("received", Integer, nullable=True),  # set on receipt; may differ (discrepancy)
    Column("discrepancy_reason", String(64), nullable=True),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("received IS NULL OR received >= 0", name="received_non_negative"),
)

count_tasks = Table(
    "inventory_count_tasks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),  # human: CC-000123
    Column("location_id", ID, ForeignKey("catalog_locations.id"), nullable=False),
    # open -> counted (variances known) -> posted (adjusted); open|counted -> cancelled
    Column("status", String(12), nullable=False),
    Column("reference", String(100), nullable=True),
    Column("created_by", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("counted_at", DateTime(timezone=True), nullable=True),
    Column("posted_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('open', 'counted', 'posted', 'cancelled')", name="status_known"),
)
Index("ix_inventory_count_tasks_location_status", count_tasks.c.location_id, count_tasks.c.status)

count_lines = Table(
    "inventory_count_lines",
    metadata,
    Column("task_id", ID, ForeignKey("inventory_count_tasks.id"), primary_key=True),
    Column("variant_id", ID, ForeignKey("catalog_variants.id"), primary_key=True),
    Column("line_no", Integer, nullable=False),
    Column("expected", Integer, nullable=True),  # on hand in the books when the count was entered
    Column("counted", Integer, nullable=True),
    Column("counted_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("counted IS NULL OR counted >= 0", name="counted_non_negative"),
)

# -- buffer stock policies (revision 0003) --------------------------------------------------------
buffer_policies = Table(
    "inventory_buffer_policies",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(100), nullable=False),
    # What it covers: a SKU or a category (with its sub-categories) or everything, at a location
    # or at the locations serving a channel or everywhere. The most specific match wins.
    Column("variant_id", ID, ForeignKey("catalog_variants.id"), nullable=True),
    Column("category_id", ID, ForeignKey("catalog_categories.id"), nullable=True),
    Column("location_id", ID, ForeignKey("catalog_locations.id"), nullable=True),
    Column("channel_id", ID, ForeignKey("catalog_channels.id"), nullable=True),
    Column("method", String(16), nullable=False),  # fixed | percent | days_of_cover
    Column("units", Integer, nullable=True),  # fixed
    Column("percent", Numeric(5, 2), nullable=True),  # percent of on hand
    Column("days", Numeric(6, 2), nullable=True),  # days of cover
    Column("risk_class", String(1), nullable=True),  # A | B | C (days of cover)
    Column("velocity_days", Integer, nullable=True),  # sales window for the velocity
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("method IN ('fixed', 'percent', 'days_of_cover')", name="method_known"),
    CheckConstraint("variant_id IS NULL OR category_id IS NULL", name="sku_or_category"),
    CheckConstraint("location_id IS NULL OR channel_id IS NULL", name="location_or_channel"),
    CheckConstraint("method <> 'fixed' OR (units IS NOT NULL AND units >= 0)", name="fixed_units"),
    CheckConstraint(
        "method <> 'percent' OR (percent IS NOT NULL AND percent >= 0 AND percent <= 100)",
        name="percent_range",
    ),
    CheckConstraint(
        "method <> 'days_of_cover' OR (days IS NOT NULL AND days > 0 AND risk_class IN "
        "('A', 'B', 'C') AND velocity_days IS NOT NULL AND velocity_days > 0)",
        name="cover_inputs",
    ),
)

buffer_derivations = Table(
    "inventory_buffer_derivations",
    metadata,
    # How the buffer on one balance was last set: by which policy, from which inputs.
    Column("variant_id", ID, ForeignKey("catalog_variants.id"), primary_key=True),
    Column("location_id", ID, ForeignKey("catalog_locations.id"), primary_key=True),
    Column("policy_id", ID, ForeignKey("inventory_buffer_policies.id"), nullable=True),
    Column("buffer", Integer, nullable=False),
    Column("explanation", Text, nullable=False),  # one sentence a merchandiser can read
    Column("inputs", JSON, nullable=False),  # the numbers behind it (on hand, velocity, …)
    Column("computed_at", DateTime(timezone=True), nullable=False),
)
