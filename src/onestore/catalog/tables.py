"""Catalog tables. Only ``onestore.catalog`` writes them; other contexts use its service."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from onestore.db.metadata import AMOUNT, ID, metadata

units = Table(
    "catalog_units",
    metadata,
    Column("code", String(16), primary_key=True),  # "ea", "pair", "m", "kg"
    Column("name", String(100), nullable=False),
    Column("decimals", Integer, nullable=False, default=0),  # 0 = sold in whole units
    CheckConstraint("decimals >= 0 AND decimals <= 4", name="decimals_range"),
)

categories = Table(
    "catalog_categories",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("parent_id", ID, ForeignKey("catalog_categories.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

attribute_definitions = Table(
    "catalog_attributes",
    metadata,
    Column("code", String(64), primary_key=True),  # "material", "care", "fit"
    Column("name", String(200), nullable=False),
    Column("value_type", String(10), nullable=False),  # text | number | boolean | choice
    Column("choices", JSON, nullable=True),  # list of allowed values for "choice"
    CheckConstraint(
        "value_type IN ('text', 'number', 'boolean', 'choice')", name="value_type_known"
    ),
)

products = Table(
    "catalog_products",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),  # the product number people use
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("brand", String(100), nullable=True),
    Column("category_id", ID, ForeignKey("catalog_categories.id"), nullable=True, index=True),
    Column("unit_code", String(16), ForeignKey("catalog_units.code"), nullable=False),
    # The dimensions this product's variants differ on, in order, e.g. ["size", "colour"].
    Column("dimensions", JSON, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # draft | active | discontinued
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('draft', 'active', 'discontinued')", name="status_known"),
)
Index("ix_catalog_products_name", products.c.name)

variants = Table(
    "catalog_variants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("product_id", ID, ForeignKey("catalog_products.id"), nullable=False, index=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("size", String(32), nullable=True),
    Column("colour", String(32), nullable=True),
    Column("style", String(32), nullable=True),
    Column("list_price", AMOUNT, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False, default=1),  # optimistic concurrency (PATCH)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("list_price >= 0", name="list_price_non_negative"),
    CheckConstraint("status IN ('active', 'discontinued')", name="status_known"),
    UniqueConstraint("product_id", "size", "colour", "style"),
)

barcodes = Table(
    "catalog_barcodes",
    metadata,
    # Stored as GTIN-14 so a UPC-A, an EAN-13 and its GTIN-14 form find the same variant.
    Column("gtin", String(14), primary_key=True),
    Column("code", String(14), nullable=False),  # as printed on the label
    Column("kind", String(8), nullable=False),  # EAN-8 | UPC-A | EAN-13 | GTIN-14
    Column("variant_id", ID, ForeignKey("catalog_variants.id"), nullable=False, index=True),
)

locations = Table(
    "catalog_locations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # dc | store | vendor
    Column("latitude", Float, nullable=False),  # coordinates are geometry, not money
    Column("longitude", Float, nullable=False),
    Column("street", String(200), nullable=True),
    Column("city", String(100), nullable=True),
    Column("postcode", String(20), nullable=True),
    Column("region", String(100), nullable=True),
    Column("country", String(2), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('dc', 'store', 'vendor')", name="kind_known"),
    CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
    CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
)

channels = Table(
    "catalog_channels",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # store | web | call_center | marketplace | mobile
    Column("currency", String(3), nullable=False),
    # A store channel is one physical store; other channels have no location of their own.
    Column("location_id", ID, ForeignKey("catalog_locations.id"), nullable=True),
    Column("prices_include_tax", Boolean, nullable=False, default=True),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(
        "kind IN ('store', 'web', 'call_center', 'marketplace', 'mobile')", name="kind_known"
    ),
)

channel_locations = Table(
    "catalog_channel_locations",
    metadata,
    # Which locations' stock a channel may sell (its fulfilment network).
    Column("channel_id", ID, ForeignKey("catalog_channels.id"), primary_key=True),
    Column("location_id", ID, ForeignKey("catalog_locations.id"), primary_key=True),
)

assortments = Table(
    "catalog_assortments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

assortment_channels = Table(
    "catalog_assortment_channels",
    metadata,
    Column("assortment_id", ID, ForeignKey("catalog_assortments.id"), primary_key=True),
    Column("channel_id", ID, ForeignKey("catalog_channels.id"), primary_key=True),
)

assortment_lines = Table(
    "catalog_assortment_lines",
    metadata,
    Column("id", ID, primary_key=True),
    Column("assortment_id", ID, ForeignKey("catalog_assortments.id"), nullable=False, index=True),
    # Exactly one of product_id / category_id: a category line includes its sub-categories.
    Column("product_id", ID, ForeignKey("catalog_products.id"), nullable=True),
    Column("category_id", ID, ForeignKey("catalog_categories.id"), nullable=True),
    Column("exclude", Boolean, nullable=False, default=False),
    CheckConstraint("(product_id IS NULL) <> (category_id IS NULL)", name="product_xor_category"),
)
