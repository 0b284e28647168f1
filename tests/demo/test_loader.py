"""Loading the demo into a database: all or nothing, re-runs are no-ops, other catalogs refused.

Runs on SQLite and (when configured) PostgreSQL. Catalogs are shrunk to a few dozen products,
since the full-size load is covered once by the CLI test.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onestore.auth.model import Role
from onestore.auth.service import authenticate_staff, staff_principal
from onestore.catalog.importing import import_catalog
from onestore.catalog.queries import find_variant_by_barcode, list_products
from onestore.catalog.reference import list_channels, list_locations
from onestore.db.database import Database
from onestore.demo.generator import generate
from onestore.demo.loader import load_demo
from onestore.demo.staff import DEMO_PASSWORD, staff_plan
from onestore.demo.tables import demo_runs
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
    assert {s for s, _, _ in stages} == {"generate", "catalog", "staff"}
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
