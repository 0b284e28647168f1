"""foundation: outbox, idempotency keys, auth, catalog, demo marker

Revision ID: 0001
Revises:
Create Date: 2026-11-25 20:16:51.906256
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_api_tokens",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("principal_kind", sa.String(length=10), nullable=False),
        sa.Column("principal_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "principal_kind IN ('staff', 'customer')",
            name=op.f("ck_auth_api_tokens_principal_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_api_tokens_token_hash")),
    )
    with op.batch_alter_table("auth_api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_api_tokens_principal_id"), ["principal_id"], unique=False
        )

    op.create_table(
        "auth_customer_accounts",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_customer_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_auth_customer_accounts_email")),
    )
    op.create_table(
        "auth_staff_users",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_auth_staff_users_username")),
    )
    op.create_table(
        "catalog_assortments",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_assortments")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_assortments_code")),
    )
    op.create_table(
        "catalog_attributes",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value_type", sa.String(length=10), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "value_type IN ('text', 'number', 'boolean', 'choice')",
            name=op.f("ck_catalog_attributes_value_type_known"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_attributes")),
    )
    op.create_table(
        "catalog_categories",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["catalog_categories.id"],
            name=op.f("fk_catalog_categories_parent_id_catalog_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_categories_code")),
    )
    op.create_table(
        "catalog_locations",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('dc', 'store', 'vendor')", name=op.f("ck_catalog_locations_kind_known")
        ),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90", name=op.f("ck_catalog_locations_latitude_range")
        ),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_catalog_locations_longitude_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_locations_code")),
    )
    op.create_table(
        "catalog_units",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "decimals >= 0 AND decimals <= 4", name=op.f("ck_catalog_units_decimals_range")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_units")),
    )
    op.create_table(
        "demo_runs",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_runs")),
        sa.UniqueConstraint("seed", "scale", name=op.f("uq_demo_runs_seed_scale")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_created_at", ["created_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("aggregate_type", sa.String(length=50), nullable=False),
        sa.Column("aggregate_id", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_unpublished", ["published_at", "seq"], unique=False)

    op.create_table(
        "auth_role_assignments",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("location_id", sa.String(length=26), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'merchandiser', 'store_manager', 'cashier', 'customer_service', 'finance')",
            name=op.f("ck_auth_role_assignments_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["catalog_locations.id"],
            name=op.f("fk_auth_role_assignments_location_id_catalog_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_staff_users.id"],
            name=op.f("fk_auth_role_assignments_user_id_auth_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_role_assignments")),
        sa.UniqueConstraint(
            "user_id",
            "role",
            "location_id",
            name=op.f("uq_auth_role_assignments_user_id_role_location_id"),
        ),
    )
    with op.batch_alter_table("auth_role_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_role_assignments_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "auth_web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_staff_users.id"],
            name=op.f("fk_auth_web_sessions_user_id_auth_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_auth_web_sessions")),
    )
    with op.batch_alter_table("auth_web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_web_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "catalog_channels",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("location_id", sa.String(length=26), nullable=True),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('store', 'web', 'call_center', 'marketplace', 'mobile')",
            name=op.f("ck_catalog_channels_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["catalog_locations.id"],
            name=op.f("fk_catalog_channels_location_id_catalog_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_channels")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_channels_code")),
    )
    op.create_table(
        "catalog_products",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("category_id", sa.String(length=26), nullable=True),
        sa.Column("unit_code", sa.String(length=16), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'discontinued')",
            name=op.f("ck_catalog_products_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["catalog_categories.id"],
            name=op.f("fk_catalog_products_category_id_catalog_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["catalog_units.code"],
            name=op.f("fk_catalog_products_unit_code_catalog_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_products")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_products_code")),
    )
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_products_category_id"), ["category_id"], unique=False
        )
        batch_op.create_index("ix_catalog_products_name", ["name"], unique=False)

    op.create_table(
        "catalog_assortment_channels",
        sa.Column("assortment_id", sa.String(length=26), nullable=False),
        sa.Column("channel_id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["assortment_id"],
            ["catalog_assortments.id"],
            name=op.f("fk_catalog_assortment_channels_assortment_id_catalog_assortments"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["catalog_channels.id"],
            name=op.f("fk_catalog_assortment_channels_channel_id_catalog_channels"),
        ),
        sa.PrimaryKeyConstraint(
            "assortment_id", "channel_id", name=op.f("pk_catalog_assortment_channels")
        ),
    )
    op.create_table(
        "catalog_assortment_lines",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("assortment_id", sa.String(length=26), nullable=False),
        sa.Column("product_id", sa.String(length=26), nullable=True),
        sa.Column("category_id", sa.String(length=26), nullable=True),
        sa.Column("exclude", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (category_id IS NULL)",
            name=op.f("ck_catalog_assortment_lines_product_xor_category"),
        ),
        sa.ForeignKeyConstraint(
            ["assortment_id"],
            ["catalog_assortments.id"],
            name=op.f("fk_catalog_assortment_lines_assortment_id_catalog_assortments"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["catalog_categories.id"],
            name=op.f("fk_catalog_assortment_lines_category_id_catalog_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_catalog_assortment_lines_product_id_catalog_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_assortment_lines")),
    )
    with op.batch_alter_table("catalog_assortment_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_assortment_lines_assortment_id"), ["assortment_id"], unique=False
        )

    op.create_table(
        "catalog_channel_locations",
        sa.Column("channel_id", sa.String(length=26), nullable=False),
        sa.Column("location_id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["catalog_channels.id"],
            name=op.f("fk_catalog_channel_locations_channel_id_catalog_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["catalog_locations.id"],
            name=op.f("fk_catalog_channel_locations_location_id_catalog_locations"),
        ),
        sa.PrimaryKeyConstraint(
            "channel_id", "location_id", name=op.f("pk_catalog_channel_locations")
        ),
    )
    op.create_table(
        "catalog_variants",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("product_id", sa.String(length=26), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("size", sa.String(length=32), nullable=True),
        sa.Column("colour", sa.String(length=32), nullable=True),
        sa.Column("style", sa.String(length=32), nullable=True),
        sa.Column("list_price", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'discontinued')", name=op.f("ck_catalog_variants_status_known")
        ),
        sa.CheckConstraint(
            "list_price >= 0", name=op.f("ck_catalog_variants_list_price_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_catalog_variants_product_id_catalog_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_variants")),
        sa.UniqueConstraint(
            "product_id",
            "size",
            "colour",
            "style",
            name=op.f("uq_catalog_variants_product_id_size_colour_style"),
        ),
        sa.UniqueConstraint("sku", name=op.f("uq_catalog_variants_sku")),
    )
    with op.batch_alter_table("catalog_variants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_variants_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "catalog_barcodes",
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("code", sa.String(length=14), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("variant_id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["catalog_variants.id"],
            name=op.f("fk_catalog_barcodes_variant_id_catalog_variants"),
        ),
        sa.PrimaryKeyConstraint("gtin", name=op.f("pk_catalog_barcodes")),
    )
    with op.batch_alter_table("catalog_barcodes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_barcodes_variant_id"), ["variant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("catalog_barcodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_barcodes_variant_id"))

    op.drop_table("catalog_barcodes")
    with op.batch_alter_table("catalog_variants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_variants_product_id"))

    op.drop_table("catalog_variants")
    op.drop_table("catalog_channel_locations")
    with op.batch_alter_table("catalog_assortment_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_assortment_lines_assortment_id"))

    op.drop_table("catalog_assortment_lines")
    op.drop_table("catalog_assortment_channels")
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_products_name")
        batch_op.drop_index(batch_op.f("ix_catalog_products_category_id"))

    op.drop_table("catalog_products")
    op.drop_table("catalog_channels")
    with op.batch_alter_table("auth_web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_web_sessions_user_id"))

    op.drop_table("auth_web_sessions")
    with op.batch_alter_table("auth_role_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_role_assignments_user_id"))

    op.drop_table("auth_role_assignments")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unpublished")

    op.drop_table("outbox")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_keys_created_at")

    op.drop_table("idempotency_keys")
    op.drop_table("demo_runs")
    op.drop_table("catalog_units")
    op.drop_table("catalog_locations")
    op.drop_table("catalog_categories")
    op.drop_table("catalog_attributes")
    op.drop_table("catalog_assortments")
    op.drop_table("auth_staff_users")
    op.drop_table("auth_customer_accounts")
    with op.batch_alter_table("auth_api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_api_tokens_principal_id"))

    op.drop_table("auth_api_tokens")
