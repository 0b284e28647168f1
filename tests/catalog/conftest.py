"""Catalog test helpers: a small reference catalog built through the real use cases, request
bodies, and valid barcodes made with the GS1 check digit."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from onestore.catalog import model, network, taxonomy
from onestore.db.database import Database
from onestore.db.tables import outbox

_numbers = itertools.count(1)


def ean13() -> str:
    """A fresh, valid EAN-13 (prefix 200: in-store numbers, never a real product)."""
    return model.with_check_digit(f"200{next(_numbers):09d}")


def upc() -> str:
    return model.with_check_digit(f"0{next(_numbers):010d}")


def variant(sku: str, price: str = "29.95", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"sku": sku, "currency": "USD", "list_price": price, "barcodes": []}
    body.update(extra)
    return body


def product(code: str = "P-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "Linen shirt",
        "brand": "Northwind",
        "category": "fashion-women",
        "unit": "ea",
        "dimensions": ["size"],
        "variants": [
            variant(f"{code}-S", size="S", barcodes=[ean13()]),
            variant(f"{code}-M", "31.50", size="M"),
        ],
    }
    body.update(extra)
    return body


def events(db: Database, event_type: str | None = None) -> int:
    with db.uow(readonly=True) as uow:
        query = select(func.count()).select_from(outbox)
        if event_type is not None:
            query = query.where(outbox.c.event_type == event_type)
        return int(uow.conn.execute(query).scalar_one())


@pytest.fixture
def reference(db: Database) -> Database:
    """Unit ``ea``, categories fashion > fashion-women / fashion-men and home, attribute
    ``material`` (choice), a DC, a store with its store channel and a web channel."""
    with db.uow() as uow:
        taxonomy.create_unit(uow, code="ea", name="Each")
        taxonomy.create_category(uow, code="fashion", name="Fashion")
        taxonomy.create_category(uow, code="fashion-women", name="Women", parent="fashion")
        taxonomy.create_category(uow, code="fashion-men", name="Men", parent="fashion")
        taxonomy.create_category(uow, code="home", name="Home")
        taxonomy.create_attribute(
            uow, code="material", name="Material", value_type="choice", choices=["cotton", "linen"]
        )
        taxonomy.create_attribute(uow, code="weight_g", name="Weight", value_type="number")
        network.create_location(
            uow,
            code="DC-01",
            name="Kent DC",
            kind="dc",
            latitude=47.38,
            longitude=-122.23,
            country="US",
            timezone="America/Los_Angeles",
        )
        network.create_location(
            uow,
            code="ST-01",
            name="Seattle store",
            kind="store",
            latitude=47.61,
            longitude=-122.33,
            country="US",
            timezone="America/Los_Angeles",
        )
        network.create_channel(
            uow, code="WEB", name="Web", kind="web", currency="USD", locations=["DC-01"]
        )
        network.create_channel(
            uow,
            code="ST-01",
            name="Seattle",
            kind="store",
            currency="USD",
            location="ST-01",
            locations=["ST-01"],
        )
        uow.commit()
    return db


@pytest.fixture
def keys() -> Iterator[Callable[[dict[str, str]], dict[str, str]]]:
    """``keys(headers)`` -> headers plus a fresh Idempotency-Key."""
    counter = itertools.count(1)
    yield lambda headers: {**headers, "Idempotency-Key": f"test-key-{next(counter)}"}
