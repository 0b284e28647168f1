"""Pricing writes: every change moves the version; concurrent first writes of one code do not
collide (the version row's lock serializes them)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from onestore.db.database import Database
from onestore.pricing import tables as t
from onestore.pricing import writes
from onestore.pricing.books import current_version
from onestore.pricing.definitions import parse_discount
from onestore.settings import Settings

DOC = {
    "code": "NEW1",
    "name": "New",
    "kind": "simple",
    "concurrency": "best_price",
    "method": "percent",
    "value": "5",
}


@pytest.fixture
def wide(shop: Database, db_url: str) -> Iterator[Database]:
    settings = Settings(database_url=db_url, db_pool_size=16, sqlite_busy_timeout_ms=60_000)
    database = Database(settings=settings, clock=shop.clock)
    yield database
    database.dispose()


def test_racing_first_writes_of_one_code_all_land(wide: Database) -> None:
    with wide.uow(readonly=True) as uow:
        before = current_version(uow)

    def put(n: int) -> str:
        discount = parse_discount(dict(DOC, name=f"New {n}"))
        with wide.uow() as uow:
            writes.import_discounts(uow, [discount])
            uow.commit()
        return "ok"

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(put, range(48))) == ["ok"] * 48
    with wide.uow(readonly=True) as uow:
        revision = uow.conn.execute(select(t.discounts.c.revision)).scalar_one()
        assert revision == 48  # one insert, then 47 updates, none lost
        assert current_version(uow) == before + 48


def test_reimport_keeps_a_switched_off_discount_off(shop: Database) -> None:
    discount = parse_discount(DOC)
    for step in (
        lambda uow: writes.import_discounts(uow, [discount]),
        lambda uow: writes.set_discount_active(uow, "NEW1", False),
        lambda uow: writes.import_discounts(uow, [discount]),
    ):
        with shop.uow() as uow:
            step(uow)
            uow.commit()
    with shop.uow(readonly=True) as uow:
        assert uow.conn.execute(select(t.discounts.c.is_active)).scalar_one() is False
