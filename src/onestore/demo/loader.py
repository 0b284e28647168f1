"""Write the demo retailer into a database: catalog, staff, stock, pricing and the demo marker,
in one transaction.

Either the whole demo is there or none of it is, and running it again is safe: the marker in
``demo_runs`` says which seed and scale were loaded, so a repeat of the same demo is a no-op
and anything else — another demo, or a catalog someone imported — is refused rather than
mixed into (a half-demo, half-real catalog would mislead every benchmark and screenshot).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from onestore.catalog.importing import import_catalog
from onestore.catalog.queries import list_products
from onestore.catalog.reference import list_locations
from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.demo.generator import counts, digest, generate
from onestore.demo.pricing import load_pricing
from onestore.demo.staff import create_staff, staff_plan
from onestore.demo.stock import load_stock, plan_stock
from onestore.demo.tables import demo_runs
from onestore.kernel.errors import Conflict
from onestore.kernel.ids import new_id

ProgressReport = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages: ``generate``, ``catalog``, ``staff``, ``stock``,
``history``, ``pricing``."""


@dataclass(frozen=True, slots=True)
class DemoLoad:
    seed: int
    scale: int
    already_present: bool  # True: this demo was loaded before and nothing was written now
    counts: dict[str, int]


def load_demo(
    db: Database,
    *,
    seed: int,
    scale: int,
    product_count: int | None = None,
    progress: ProgressReport | None = None,
) -> DemoLoad:
    """Load the demo for ``seed``/``scale`` unless it is already there; see the module doc.

    ``product_count`` shrinks the catalog for tests; the marker still records seed and scale.
    """
    report: ProgressReport = progress or (lambda _stage, _done, _total: None)
    with db.uow() as uow:
        loaded = _loaded_demo(uow, seed, scale)
        if loaded is not None:
            return DemoLoad(seed, scale, already_present=True, counts=loaded)
        report("generate", 0, 1)
        document = generate(seed, scale, product_count=product_count)
        report("generate", 1, 1)
        _import(uow, document, report)
        plan = staff_plan(seed)
        stores = {loc.code: loc.id for loc in list_locations(uow, kind="store")}
        report("staff", 0, len(plan))
        create_staff(uow, plan, stores, lambda done: report("staff", done, len(plan)))
        stock = load_stock(uow, plan_stock(document, seed), report)
        report("pricing", 0, 1)
        pricing = load_pricing(uow, document)
        report("pricing", 1, 1)
        totals = {**counts(document), "staff": len(plan), **stock, **pricing}
        uow.conn.execute(
            demo_runs.insert().values(
                id=new_id(),
                seed=seed,
                scale=scale,
                digest=digest(document),
                counts=totals,
                loaded_at=uow.now(),
            )
        )
        uow.commit()
    return DemoLoad(seed, scale, already_present=False, counts=totals)


def _loaded_demo(uow: UnitOfWork, seed: int, scale: int) -> dict[str, int] | None:
    """The counts of this very demo if it is loaded; raises if anything else is there."""
    runs = uow.conn.execute(select(demo_runs).order_by(demo_runs.c.loaded_at)).all()
    for run in runs:
        if run.seed == seed and run.scale == scale:
            return dict(run.counts)
    if runs:
        other = runs[0]
        raise Conflict(
            f"this database already holds the demo with --seed {other.seed} "
            f"--scale {other.scale}; rerun with those, or use an empty database"
        )
    products = list_products(uow, limit=1).total
    if products:
        raise Conflict(
            f"this database already holds a catalog ({products} products); "
            "the demo only loads into an empty database"
        )
    return None


def _import(uow: UnitOfWork, document: dict[str, Any], report: ProgressReport) -> None:
    """Through the importer a retailer's own file takes, so the demo exercises that path too.

    The importer counts each product twice (checked, then written); the bar shows both halves.
    """
    import_catalog(uow, document, progress=lambda done, total: report("catalog", done, total))
