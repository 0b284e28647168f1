"""Auth tables. Secrets are stored only as hashes (Argon2 for passwords, SHA-256 for tokens)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from onestore.db.metadata import ID, metadata

staff_users = Table(
    "auth_staff_users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

role_assignments = Table(
    "auth_role_assignments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("auth_staff_users.id"), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    # NULL = every location (HQ roles); otherwise the store this role applies to.
    Column("location_id", ID, ForeignKey("catalog_locations.id"), nullable=True),
    UniqueConstraint("user_id", "role", "location_id"),
    CheckConstraint(
        "role IN ('admin', 'merchandiser', 'store_manager', 'cashier', "
        "'customer_service', 'finance')",
        name="role_known",
    ),
)

customer_accounts = Table(
    "auth_customer_accounts",
    metadata,
    # A shopper who can sign in. The unified customer profile (customers context) links to it.
    Column("id", ID, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "auth_api_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("principal_kind", String(10), nullable=False),  # staff | customer
    Column("principal_id", ID, nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("principal_kind IN ('staff', 'customer')", name="principal_kind_known"),
)

web_sessions = Table(
    "auth_web_sessions",
    metadata,
    # Sessions live in the database so any stateless worker can serve any request.
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("auth_staff_users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)
