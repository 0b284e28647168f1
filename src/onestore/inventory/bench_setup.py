"""Setting up and checking the inventory benchmark's own rows (codes ``BENCH-…``).

Kept apart from the phases in ``bench.py``: the bench writes its catalog through the importer and
its stock through ``service.receive``, and afterwards proves nothing oversold on the rows it used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from onestore.catalog.importing import import_catalog
from onestore.db.database import Database
from onestore.inventory import refs, service
from onestore.inventory.tables import balances as balance_table
from onestore.inventory.tables import movements, reservation_lines
from onestore.inventory.tables import reservations as reservation_table
from onestore.kernel.errors import OnestoreError

PREFIX = "BENCH-"
LOCATIONS = [f"{PREFIX}L{i:02d}" for i in range(1, 9)]
HOT_LOCATION = LOCATIONS[0]
UNIT = "bench-ea"
ADMIN = "bench-admin"
ADMIN_PASSWORD = "bench admin password only for loopback"  # noqa: S105 - a throwaway bench user
RAW_STOCK = 1_000_000
"""Free units the raw phase may take from its row (it gives them all back at the end)."""
HOT_STOCK = 100_000
SPREAD_STOCK = 200
RESTOCK = 10_000
BASKET = 50
TTL = timedelta(minutes=15)
BASE = "/api/v1/inventory"


class BenchError(OnestoreError):
    """The bench cannot run: no schema, a phase where nothing succeeded, a server that never
    answered."""


def sku(n: int) -> str:
    return f"{PREFIX}SKU-{n:05d}"


# -- setup ----------------------------------------------------------------------------------------
def bench_document(skus: int) -> dict[str, Any]:
    location_rows = [
        {
            "code": code,
            "name": f"Bench location {code[len(PREFIX) :]}",
            "kind": "dc" if i == 0 else "store",
            "latitude": 47.0 + i / 100,
            "longitude": -122.0,
            "street": None,
            "city": "Bench",
            "postcode": None,
            "region": None,
            "country": "US",
            "timezone": "UTC",
        }
        for i, code in enumerate(LOCATIONS)
    ]
    products: list[dict[str, Any]] = [
        {
            "code": f"{PREFIX}P-{n:05d}",
            "name": f"Bench product {n}",
            "description": "",
            "brand": None,
            "category": None,
            "unit": UNIT,
            "status": "active",
            "dimensions": [],
            "attributes": {},
            "variants": [
                {
                    "sku": sku(n),
                    "size": None,
                    "colour": None,
                    "style": None,
                    "list_price": "1.00",
                    "currency": "USD",
                    "barcodes": [],
                }
            ],
        }
        for n in range(skus)
    ]
    return {
        "format": "onestore.catalog/1",
        "units": [{"code": UNIT, "name": "Bench each", "decimals": 0}],
        "locations": location_rows,
        "products": products,
    }


def bench_ids(db: Database, skus: int) -> tuple[dict[str, str], dict[str, str]]:
    with db.uow(readonly=True) as uow:
        variant_ids = refs.known_variant_ids(uow, [sku(n) for n in range(skus)])
        location_ids = refs.known_location_ids(uow, LOCATIONS)
    return variant_ids, location_ids


def ensure_catalog(db: Database, skus: int) -> tuple[dict[str, str], dict[str, str]]:
    variant_ids, location_ids = bench_ids(db, skus)
    if all(sku(n) in variant_ids for n in range(skus)) and len(location_ids) == len(LOCATIONS):
        return variant_ids, location_ids
    with db.uow() as uow:
        import_catalog(uow, bench_document(skus))
        uow.commit()
    return bench_ids(db, skus)


def free_units(db: Database, variant_id: str, location_id: str) -> int:
    with db.uow(readonly=True) as uow:
        row = uow.conn.execute(
            select(balance_table).where(
                balance_table.c.variant_id == variant_id,
                balance_table.c.location_id == location_id,
            )
        ).first()
    return 0 if row is None else row.on_hand - row.reserved - row.buffer


def stock_up(db: Database, wanted: Sequence[tuple[str, str, str, int]]) -> None:
    """(sku, variant id, location id, free units wanted) -> receipts for what is missing."""
    with db.uow() as uow:
        for code, variant_id, location_id, target in wanted:
            row = uow.conn.execute(
                select(balance_table).where(
                    balance_table.c.variant_id == variant_id,
                    balance_table.c.location_id == location_id,
                )
            ).first()
            free = 0 if row is None else row.on_hand - row.reserved - row.buffer
            while free < target:
                step = min(target - free, 1_000_000)
                service.receive(uow, code, HOT_LOCATION, step, reference="bench", actor="bench")
                free += step
        uow.commit()


def admin_token(db: Database) -> str:
    from onestore.auth import service as auth_service
    from onestore.auth.model import Grant, PrincipalKind, Role
    from onestore.auth.tables import staff_users

    # The server runs on the wall clock, whatever clock ``db`` has.
    expiry = datetime.now(UTC) + timedelta(hours=2)
    with db.uow() as uow:
        user_id = uow.conn.execute(
            select(staff_users.c.id).where(staff_users.c.username == ADMIN)
        ).scalar_one_or_none()
        if user_id is None:
            user_id = auth_service.create_staff_user(
                uow,
                username=ADMIN,
                display_name="Benchmark admin",
                password=ADMIN_PASSWORD,
                grants=[Grant(Role.ADMIN, None)],
            )
        issued = auth_service.issue_token(
            uow, PrincipalKind.STAFF, user_id, "bench", expires_at=expiry
        )
        uow.commit()
    return issued.token


# -- checks ---------------------------------------------------------------------------------------
@dataclass
class Check:
    rows: int
    oversold: int
    ledger_mismatch: int
    reserved_mismatch: int


def check_rows(db: Database, variant_ids: Sequence[str], location_ids: Sequence[str]) -> Check:
    keys_in = (
        balance_table.c.variant_id.in_(variant_ids),
        balance_table.c.location_id.in_(location_ids),
    )
    with db.uow(readonly=True) as uow:
        rows = list(uow.conn.execute(select(balance_table).where(*keys_in)))
        ledger = {
            (r.variant_id, r.location_id): int(r.total)
            for r in uow.conn.execute(
                select(
                    movements.c.variant_id,
                    movements.c.location_id,
                    func.sum(movements.c.on_hand_delta).label("total"),
                )
                .where(
                    movements.c.variant_id.in_(variant_ids),
                    movements.c.location_id.in_(location_ids),
                )
                .group_by(movements.c.variant_id, movements.c.location_id)
            )
        }
        held: dict[tuple[str, str], int] = defaultdict(int)
        for r in uow.conn.execute(
            select(
                reservation_lines.c.variant_id,
                reservation_lines.c.location_id,
                reservation_lines.c.quantity,
            )
            .join(reservation_table, reservation_table.c.id == reservation_lines.c.reservation_id)
            .where(
                reservation_table.c.status == "active",
                reservation_lines.c.variant_id.in_(variant_ids),
                reservation_lines.c.location_id.in_(location_ids),
            )
        ):
            held[(r.variant_id, r.location_id)] += r.quantity
    oversold = sum(
        1 for r in rows if r.reserved < 0 or (not r.allow_negative and r.on_hand - r.reserved < 0)
    )
    ledger_mismatch = sum(
        1 for r in rows if r.on_hand != ledger.get((r.variant_id, r.location_id), 0)
    )
    reserved_mismatch = sum(
        1 for r in rows if r.reserved != held.get((r.variant_id, r.location_id), 0)
    )
    return Check(len(rows), oversold, ledger_mismatch, reserved_mismatch)


def restock(db: Database, code: str) -> None:
    """A reserve found the hot SKU sold out: put more on its shelf (counted apart)."""
    with db.uow() as uow:
        service.receive(uow, code, HOT_LOCATION, RESTOCK, reference="bench restock", actor="bench")
        uow.commit()
