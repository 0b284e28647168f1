"""inventory: balances, movements ledger, reservations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inventory_reservations",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'soft') = (expires_at IS NOT NULL)",
            name=op.f("ck_inventory_reservations_soft_expires"),
        ),
        sa.CheckConstraint(
            "kind IN ('soft', 'order')", name=op.f("ck_inventory_reservations_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'released', 'expired', 'committed')",
            name=op.f("ck_inventory_reservations_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_reservations")),
    )
    with op.batch_alter_table("inventory_reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_reservations_due", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "inventory_balances",
        sa.Column("variant_id", sa.String(length=26), nullable=False),
        sa.Column("location_id", sa.String(length=26), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("in_transit", sa.Integer(), nullable=False),
        sa.Column("buffer", sa.Integer(), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "allow_negative OR on_hand - reserved >= 0",
            name=op.f("ck_inventory_balances_reserved_covered"),
        ),
        sa.CheckConstraint(
            "allow_negative OR on_hand >= 0",
            name=op.f("ck_inventory_balances_on_hand_non_negative"),
        ),
        sa.CheckConstraint("buffer >= 0", name=op.f("ck_inventory_balances_buffer_non_negative")),
        sa.CheckConstraint(
            "in_transit >= 0", name=op.f("ck_inventory_balances_in_transit_non_negative")
        ),
        sa.CheckConstraint(
            "reserved >= 0", name=op.f("ck_inventory_balances_reserved_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["catalog_locations.id"],
            name=op.f("fk_inventory_balances_location_id_catalog_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["catalog_variants.id"],
            name=op.f("fk_inventory_balances_variant_id_catalog_variants"),
        ),
        sa.PrimaryKeyConstraint("variant_id", "location_id", name=op.f("pk_inventory_balances")),
    )
    with op.batch_alter_table("inventory_balances", schema=None) as batch_op:
        batch_op.create_index("ix_inventory_balances_location_id", ["location_id"], unique=False)

    op.create_table(
        "inventory_movements",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("variant_id", sa.String(length=26), nullable=False),
        sa.Column("location_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("on_hand_delta", sa.Integer(), nullable=False),
        sa.Column("in_transit_delta", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "kind IN ('receipt', 'sale', 'return', 'transfer_out', 'transfer_in', 'adjustment', 'count_variance', 'damage')",
            name=op.f("ck_inventory_movements_kind_known"),
        ),
        sa.CheckConstraint(
            "reason_code IS NOT NULL OR kind NOT IN ('adjustment', 'damage')",
            name=op.f("ck_inventory_movements_reason_given"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["catalog_locations.id"],
            name=op.f("fk_inventory_movements_location_id_catalog_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["catalog_variants.id"],
            name=op.f("fk_inventory_movements_variant_id_catalog_variants"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_inventory_movements")),
        sa.UniqueConstraint("id", name=op.f("uq_inventory_movements_id")),
    )
    with op.batch_alter_table("inventory_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_movements_balance", ["variant_id", "location_id"], unique=False
        )

    op.create_table(
        "inventory_reservation_lines",
        sa.Column("reservation_id", sa.String(length=26), nullable=False),
        sa.Column("variant_id", sa.String(length=26), nullable=False),
        sa.Column("location_id", sa.String(length=26), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_inventory_reservation_lines_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["catalog_locations.id"],
            name=op.f("fk_inventory_reservation_lines_location_id_catalog_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["inventory_reservations.id"],
            name=op.f("fk_inventory_reservation_lines_reservation_id_inventory_reservations"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["catalog_variants.id"],
            name=op.f("fk_inventory_reservation_lines_variant_id_catalog_variants"),
        ),
        sa.PrimaryKeyConstraint(
            "reservation_id",
            "variant_id",
            "location_id",
            name=op.f("pk_inventory_reservation_lines"),
        ),
    )
    with op.batch_alter_table("inventory_reservation_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_reservation_lines_balance", ["variant_id", "location_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory_reservation_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_reservation_lines_balance")

    op.drop_table("inventory_reservation_lines")
    with op.batch_alter_table("inventory_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_movements_balance")

    op.drop_table("inventory_movements")
    with op.batch_alter_table("inventory_balances", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_balances_location_id")

    op.drop_table("inventory_balances")
    with op.batch_alter_table("inventory_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_reservations_due")

    op.drop_table("inventory_reservations")
