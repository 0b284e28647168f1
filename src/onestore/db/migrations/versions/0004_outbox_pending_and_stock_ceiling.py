"""outbox: a partial index of pending events; balances: a ceiling on on hand and in transit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("published_at IS NULL")
CEILING = 1_000_000_000  # inventory.model.MAX_ON_HAND when this revision was written


def upgrade() -> None:
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["seq"],
        unique=False,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    # A balance over the ceiling would fail the new CHECK: refuse clearly rather than half-migrate.
    over = op.get_bind().execute(
        sa.text("SELECT count(*) FROM inventory_balances WHERE on_hand > :c OR in_transit > :c"),
        {"c": CEILING},
    )
    if over.scalar_one():
        raise RuntimeError(f"balances hold more than {CEILING} units: fix them, then upgrade")
    with op.batch_alter_table("inventory_balances") as batch:
        batch.create_check_constraint("on_hand_within_ceiling", sa.text(f"on_hand <= {CEILING}"))
        batch.create_check_constraint(
            "in_transit_within_ceiling", sa.text(f"in_transit <= {CEILING}")
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory_balances") as batch:
        batch.drop_constraint(
            op.f("ck_inventory_balances_in_transit_within_ceiling"), type_="check"
        )
        batch.drop_constraint(op.f("ck_inventory_balances_on_hand_within_ceiling"), type_="check")
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "seq"], unique=False)
    op.drop_index(
        "ix_outbox_pending", table_name="outbox", postgresql_where=PENDING, sqlite_where=PENDING
    )
