"""Inventory test rig: a small catalog built through the catalog's own use cases, and the two
invariants every test checks after it has moved stock."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from onestore.catalog import network, service, taxonomy
from onestore.catalog.schemas import ProductIn
from onestore.db.database import Database
from onestore.inventory import reservations as reservations_module
from onestore.inventory.tables import balances, movements, reservation_lines, reservations

SKUS = [f"SKU-{i}" for i in range(1, 6)]
LOCATIONS = ["DC-01", "ST-01", "ST-02"]


def _location(uow, code: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    network.create_location(
        uow,
        code=code,
        name=f"Location {code}",
        kind=kind,
        latitude=47.6,
        longitude=-122.3,
        country="US",
        timezone="America/Los_Angeles",
    )


@pytest.fixture
def stock(db: Database) -> Database:
    """SKU-1..SKU-5 (one product), locations DC-01, ST-01, ST-02, channel WEB served by DC-01
    and ST-01. No stock yet."""
    with db.uow() as uow:
        taxonomy.create_unit(uow, code="ea", name="Each")
        body = {
            "code": "P-1",
            "name": "Linen shirt",
            "unit": "ea",
            "dimensions": ["size"],
            "variants": [
                {"sku": sku, "currency": "USD", "list_price": "10.00", "size": sku} for sku in SKUS
            ],
        }
        service.create_product(uow, ProductIn.model_validate(body).to_draft())
        _location(uow, "DC-01", "dc")
        _location(uow, "ST-01", "store")
        _location(uow, "ST-02", "store")
        network.create_channel(
            uow, code="WEB", name="Web", kind="web", currency="USD", locations=["DC-01", "ST-01"]
        )
        uow.commit()
    return db


def run(db: Database, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(uow, *args, **kwargs)`` in one committed unit of work; its result."""
    with db.uow() as uow:
        result = fn(uow, *args, **kwargs)
        uow.commit()
    return result


def assert_books_balance(db: Database) -> None:
    """The ledger sums to on hand for every balance, and reserved equals the units held by
    active reservations (lapsed-but-unswept ones still count until the sweep)."""
    with db.uow(readonly=True) as uow:
        ledger = {
            (r.variant_id, r.location_id): (int(r.on_hand), int(r.in_transit))
            for r in uow.conn.execute(
                select(
                    movements.c.variant_id,
                    movements.c.location_id,
                    func.sum(movements.c.on_hand_delta).label("on_hand"),
                    func.sum(movements.c.in_transit_delta).label("in_transit"),
                ).group_by(movements.c.variant_id, movements.c.location_id)
            )
        }
        held: dict[tuple[str, str], int] = defaultdict(int)
        for r in uow.conn.execute(
            select(reservation_lines)
            .join(reservations, reservations.c.id == reservation_lines.c.reservation_id)
            .where(reservations.c.status == "active")
        ):
            held[(r.variant_id, r.location_id)] += r.quantity
        rows = list(uow.conn.execute(select(balances)))
    keys = {(r.variant_id, r.location_id) for r in rows}
    assert set(ledger) <= keys, "a movement without a balance row"
    for r in rows:
        key = (r.variant_id, r.location_id)
        assert (r.on_hand, r.in_transit) == ledger.get(key, (0, 0)), key
        assert r.reserved == held.get(key, 0), key
        assert r.allow_negative or r.on_hand - r.reserved >= 0, key


@pytest.fixture
def naive(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """``naive(True)`` switches reserve to its deliberately broken read-then-write path."""

    def switch(on: bool) -> None:
        monkeypatch.setattr(reservations_module, "_NAIVE", on)

    return switch


@pytest.fixture
def keys() -> Iterator[Callable[[dict[str, str]], dict[str, str]]]:
    """``keys(headers)`` -> headers plus a fresh Idempotency-Key."""
    counter = itertools.count(1)
    yield lambda headers: {**headers, "Idempotency-Key": f"inv-key-{next(counter)}"}


def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table: a request that must change nothing leaves this equal."""
    from onestore.db.metadata import all_tables

    with db.uow(readonly=True) as uow:
        return {
            t.name: int(uow.conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in all_tables().sorted_tables
        }
