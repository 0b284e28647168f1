"""Loading the demo into a database: all or nothing, re-runs are no-ops, other catalogs refused,
and stock everywhere with a ledger that sums to every balance.

Runs on SQLite and (when configured) PostgreSQL. Catalogs are shrunk to a few dozen products,
since the full-size load is covered once by the CLI test; one load is checked for everything
(staff passwords are real Argon2 hashes, so each load costs seconds).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from onestore.auth.model import Role
from onestore.auth.service import authenticate_staff, staff_principal
from onestore.catalog.importing import import_catalog
from onestore.catalog.queries import find_variant_by_barcode, list_products
from onestore.catalog.reference import list_channels, list_locations
from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.demo.generator import generate
from onestore.demo.loader import load_demo
from onestore.demo.staff import DEMO_PASSWORD, staff_plan
from onestore.demo.stock import HISTORY_DAYS, OPENED_DAYS_AGO, OPENING_REFERENCE, plan_stock
from onestore.demo.tables import demo_runs
from onestore.inventory import refs
from onestore.inventory.bulk import OPENING_STOCK_LOADED
from onestore.inventory.tables import balances, movements
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import Conflict

SMALL = 40


def test_loads_catalog_staff_and_marker_then_skips_a_rerun(db: Database) -> None:
    stages: list[tuple[str, int, int]] = []
    first = load_demo(
        db, seed=7, scale=1, product_count=SMALL, progress=lambda *a: stages.append(a)
    )
    assert not first.already_present
    assert first.counts["products"] == SMALL
    assert first.counts["staff"] == len(staff_plan(7))
    assert {s for s, _, _ in stages} == {
        "generate",
        "catalog",
        "staff",
        "stock",
        "history",
        "pricing",
    }
    assert first.counts["discounts"] == 9 and first.counts["coupons"] == 1
    assert ("staff", len(staff_plan(7)), len(staff_plan(7))) in stages

    document = generate(seed=7, scale=1, product_count=SMALL)
    with db.uow(readonly=True) as uow:
        assert list_products(uow, limit=1).total == SMALL
        assert len(list_locations(uow)) == len(document["locations"])
        assert len(list_channels(uow)) == len(document["channels"])
        barcode = document["products"][0]["variants"][0]["barcodes"][0]
        assert (
            find_variant_by_barcode(uow, barcode).variant.sku
            == document["products"][0]["variants"][0]["sku"]
        )
        user = authenticate_staff(uow, db.settings, "cashier.s001", DEMO_PASSWORD)
        principal = staff_principal(uow, user.user_id)
        store = next(loc for loc in list_locations(uow) if loc.code == "S001")
        assert principal is not None
        assert [(g.role, g.location_id) for g in principal.grants] == [(Role.CASHIER, store.id)]

    _check_stock(db, document, first.counts)

    again = load_demo(db, seed=7, scale=1, product_count=SMALL)
    assert again.already_present and again.counts == first.counts
    with pytest.raises(Conflict, match="--seed 7 --scale 1"):
        load_demo(db, seed=8, scale=1, product_count=SMALL)
    with db.uow(readonly=True) as uow:
        assert uow.conn.execute(select(func.count()).select_from(demo_runs)).scalar_one() == 1
        assert list_products(uow, limit=1).total == SMALL


def test_refuses_a_database_that_holds_another_catalog(db: Database) -> None:
    document = generate(seed=3, scale=1, product_count=5)
    with db.uow() as uow:
        import_catalog(uow, document)
        uow.commit()
    with pytest.raises(Conflict, match="already holds a catalog"):
        load_demo(db, seed=3, scale=1, product_count=5)
    with db.uow(readonly=True) as uow:
        assert uow.conn.execute(select(func.count()).select_from(demo_runs)).scalar_one() == 0


def _check_stock(db: Database, document: dict[str, Any], counts: dict[str, int]) -> None:
    """Every DC and store holds stock, exactly the seeded plan's (same seed, same stock); the
    ledger sums to every balance; history is dated in the last month, after the opening."""
    plan = plan_stock(document, seed=7)
    assert {k: counts[k] for k in plan.totals()} == plan.totals()
    with db.uow(readonly=True) as uow:
        rows = list(uow.conn.execute(select(balances)))
        ledger = {
            (r.variant_id, r.location_id): int(r.total)
            for r in uow.conn.execute(
                select(
                    movements.c.variant_id,
                    movements.c.location_id,
                    func.sum(movements.c.on_hand_delta).label("total"),
                ).group_by(movements.c.variant_id, movements.c.location_id)
            )
        }
        dated = {
            kind: [
                as_utc(at)
                for (at,) in uow.conn.execute(
                    select(movements.c.occurred_at).where(movements.c.kind == kind)
                )
            ]
            for kind in ("receipt", "sale", "return")
        }
        references = set(
            uow.conn.execute(
                select(movements.c.reference).where(movements.c.kind == "receipt")
            ).scalars()
        )
        sku = refs.skus_by_id(uow, [r.variant_id for r in rows])
        summary = list(
            uow.conn.execute(
                select(outbox.c.payload).where(outbox.c.event_type == OPENING_STOCK_LOADED)
            ).scalars()
        )
        locations = {loc.id: loc for loc in list_locations(uow)}
    held = {locations[r.location_id].code for r in rows}
    assert held == {loc.code for loc in locations.values() if loc.kind in ("dc", "store")}
    assert {(r.variant_id, r.location_id): r.on_hand for r in rows} == ledger
    assert {(sku[r.variant_id], locations[r.location_id].code): r.on_hand for r in rows} == (
        plan.on_hand()
    )
    assert any(r.on_hand == 0 for r in rows) and all(r.reserved == 0 for r in rows)
    assert {
        (sku[r.variant_id], locations[r.location_id].code, r.buffer) for r in rows if r.buffer
    } == set(plan.buffers)
    now = db.clock.now()
    opened = set(dated["receipt"])
    assert references == {OPENING_REFERENCE} and len(opened) == 1
    assert now - timedelta(days=OPENED_DAYS_AGO + 1) < min(opened) < now - timedelta(days=35)
    history = dated["sale"] + dated["return"]
    assert len(history) == len(plan.history)
    assert all(min(opened) < at < now - timedelta(hours=3) for at in history)
    assert min(history) > now - timedelta(days=HISTORY_DAYS + 1)
    assert len(summary) == 1 and summary[0]["balances"] == len(plan.opening)
