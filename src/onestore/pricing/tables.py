"""Pricing tables. Only ``onestore.pricing`` writes them.

Discount definitions are stored as the same JSON document the import file and the API use
(``definitions.discount_to_json``), with the columns people filter on beside it: one format,
parsed and validated in one place. ``pricing_version`` is one row whose number goes up in the
same transaction as every change to prices, discounts, coupons' definitions or tax rates, so a
priced basket (and a store node that priced a sale offline) can say which data it used.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)

from onestore.db.metadata import AMOUNT, ID, metadata

version = Table(
    "pricing_version",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("version", Integer, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

price_groups = Table(
    "pricing_price_groups",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

price_group_links = Table(
    "pricing_price_group_links",
    metadata,
    Column("group_code", String(64), ForeignKey("pricing_price_groups.code"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # channel | store | customer_group | loyalty_tier
    Column("value", String(64), primary_key=True),
)

prices = Table(
    "pricing_prices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("group_code", String(64), ForeignKey("pricing_price_groups.code"), nullable=False),
    Column("sku", String(64), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount >= 0", name="amount_non_negative"),
    UniqueConstraint("group_code", "sku", "currency", "valid_from", name="uq_pricing_prices_key"),
)

discounts = Table(
    "pricing_discounts",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("concurrency", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("definition", JSON, nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

coupons = Table(
    "pricing_coupons",
    metadata,
    Column("code", String(64), primary_key=True),  # stored upper case; matched case-blind
    Column("discount_code", String(64), ForeignKey("pricing_discounts.code"), nullable=False),
    Column("max_uses", Integer, nullable=True),  # None = unlimited; 1 = single use
    Column("max_uses_per_customer", Integer, nullable=True),
    Column("uses", Integer, nullable=False, default=0),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("uses >= 0", name="uses_non_negative"),
    CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_limit"),
    Index("ix_pricing_coupons_discount", "discount_code"),
)

coupon_redemptions = Table(
    "pricing_coupon_redemptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("coupon_code", String(64), ForeignKey("pricing_coupons.code"), nullable=False),
    Column("order_ref", String(64), nullable=False),
    Column("customer_ref", String(64), nullable=True),
    Column("redeemed_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("coupon_code", "order_ref", name="uq_pricing_coupon_redemptions_order"),
    Index("ix_pricing_coupon_redemptions_customer", "coupon_code", "customer_ref"),
)

product_tax_groups = Table(
    "pricing_product_tax_groups",
    metadata,
    Column("product_code", String(64), primary_key=True),
    Column("tax_group", String(32), nullable=False),
)

tax_rates = Table(
    "pricing_tax_rates",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tax_group", String(32), nullable=False),
    Column("jurisdiction", String(16), nullable=False),  # "FR", "US-CA"
    Column("rate", Numeric(7, 4), nullable=False),  # percent
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    CheckConstraint("rate >= 0 AND rate < 100", name="rate_range"),
    UniqueConstraint("tax_group", "jurisdiction", "valid_from", name="uq_pricing_tax_rates_key"),
)

channel_settings = Table(
    "pricing_channel_settings",
    metadata,
    Column("channel_code", String(32), primary_key=True),
    Column("tax_rounding", String(8), nullable=False, default="line"),  # line | document
    Column("compound_across_priorities", Boolean, nullable=False, default=False),
    Column("default_tax_group", String(32), nullable=True),
)

override_limits = Table(
    "pricing_override_limits",
    metadata,
    Column("role", String(32), primary_key=True),
    Column("max_percent", Numeric(7, 4), nullable=False),  # largest cut below the price, in %
    CheckConstraint("max_percent >= 0 AND max_percent <= 100", name="max_percent_range"),
)

price_overrides = Table(
    "pricing_price_overrides",
    metadata,
    Column("id", ID, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("store", String(32), nullable=True),
    Column("currency", String(3), nullable=False),
    Column("from_amount", AMOUNT, nullable=False),
    Column("to_amount", AMOUNT, nullable=False),
    Column("reason_code", String(32), nullable=False),
    Column("requested_by", ID, nullable=False),
    Column("approved_by", ID, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", name="four_eyes"),
)
