"""pricing: price groups, prices, discounts, coupons, tax, overrides, data version

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 05:40:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(26)
AMOUNT = sa.Numeric(18, 4)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    version = op.create_table(
        "pricing_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", WHEN, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_pricing_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_version")),
    )
    op.bulk_insert(version, [{"id": 1, "version": 1, "changed_at": datetime.now(UTC)}])
    op.create_table(
        "pricing_price_groups",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_pricing_price_groups")),
    )
    op.create_table(
        "pricing_price_group_links",
        sa.Column("group_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["pricing_price_groups.code"],
            name=op.f("fk_pricing_price_group_links_group_code_pricing_price_groups"),
        ),
        sa.PrimaryKeyConstraint(
            "group_code", "kind", "value", name=op.f("pk_pricing_price_group_links")
        ),
    )
    op.create_table(
        "pricing_prices",
        sa.Column("id", ID, nullable=False),
        sa.Column("group_code", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_pricing_prices_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["pricing_price_groups.code"],
            name=op.f("fk_pricing_prices_group_code_pricing_price_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_prices")),
        sa.UniqueConstraint(
            "group_code", "sku", "currency", "valid_from", name="uq_pricing_prices_key"
        ),
    )
    op.create_index("ix_pricing_prices_sku", "pricing_prices", ["sku"])
    op.create_table(
        "pricing_discounts",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("concurrency", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_pricing_discounts")),
    )
    op.create_table(
        "pricing_coupons",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("discount_code", sa.String(64), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_customer", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_pricing_coupons_uses_non_negative")),
        sa.CheckConstraint(
            "max_uses IS NULL OR uses <= max_uses",
            name=op.f("ck_pricing_coupons_uses_within_limit"),
        ),
        sa.ForeignKeyConstraint(
            ["discount_code"],
            ["pricing_discounts.code"],
            name=op.f("fk_pricing_coupons_discount_code_pricing_discounts"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_pricing_coupons")),
    )
    op.create_index("ix_pricing_coupons_discount", "pricing_coupons", ["discount_code"])
    op.create_table(
        "pricing_coupon_redemptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("coupon_code", sa.String(64), nullable=False),
        sa.Column("order_ref", sa.String(64), nullable=False),
        sa.Column("customer_ref", sa.String(64), nullable=True),
        sa.Column("redeemed_at", WHEN, nullable=False),
        sa.Column("released_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["coupon_code"],
            ["pricing_coupons.code"],
            name=op.f("fk_pricing_coupon_redemptions_coupon_code_pricing_coupons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_coupon_redemptions")),
        sa.UniqueConstraint("coupon_code", "order_ref", name="uq_pricing_coupon_redemptions_order"),
    )
    op.create_index(
        "ix_pricing_coupon_redemptions_customer",
        "pricing_coupon_redemptions",
        ["coupon_code", "customer_ref"],
    )
    op.create_table(
        "pricing_product_tax_groups",
        sa.Column("product_code", sa.String(64), nullable=False),
        sa.Column("tax_group", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("product_code", name=op.f("pk_pricing_product_tax_groups")),
    )
    op.create_table(
        "pricing_tax_rates",
        sa.Column("id", ID, nullable=False),
        sa.Column("tax_group", sa.String(32), nullable=False),
        sa.Column("jurisdiction", sa.String(16), nullable=False),
        sa.Column("rate", sa.Numeric(7, 4), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "rate >= 0 AND rate < 100", name=op.f("ck_pricing_tax_rates_rate_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_tax_rates")),
        sa.UniqueConstraint(
            "tax_group", "jurisdiction", "valid_from", name="uq_pricing_tax_rates_key"
        ),
    )
    op.create_table(
        "pricing_channel_settings",
        sa.Column("channel_code", sa.String(32), nullable=False),
        sa.Column("tax_rounding", sa.String(8), nullable=False),
        sa.Column("compound_across_priorities", sa.Boolean(), nullable=False),
        sa.Column("default_tax_group", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("channel_code", name=op.f("pk_pricing_channel_settings")),
    )
    op.create_table(
        "pricing_override_limits",
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("max_percent", sa.Numeric(7, 4), nullable=False),
        sa.CheckConstraint(
            "max_percent >= 0 AND max_percent <= 100",
            name=op.f("ck_pricing_override_limits_max_percent_range"),
        ),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_pricing_override_limits")),
    )
    op.create_table(
        "pricing_price_overrides",
        sa.Column("id", ID, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("store", sa.String(32), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("from_amount", AMOUNT, nullable=False),
        sa.Column("to_amount", AMOUNT, nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("requested_by", ID, nullable=False),
        sa.Column("approved_by", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> requested_by",
            name=op.f("ck_pricing_price_overrides_four_eyes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_price_overrides")),
    )


def downgrade() -> None:
    for table in (
        "pricing_price_overrides",
        "pricing_override_limits",
        "pricing_channel_settings",
        "pricing_tax_rates",
        "pricing_product_tax_groups",
        "pricing_coupon_redemptions",
        "pricing_coupons",
        "pricing_discounts",
        "pricing_prices",
        "pricing_price_group_links",
        "pricing_price_groups",
        "pricing_version",
    ):
        op.drop_table(table)
