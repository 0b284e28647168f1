"""Pricing test rig: a small shop built through the catalog's own use cases, and pricing data
loaded through the pricing documents (the same parsers the import files and the API use)."""

from __future__ import annotations

from typing import Any

import pytest

from onestore.catalog import network, service, taxonomy
from onestore.catalog.schemas import ProductIn
from onestore.db.database import Database
from onestore.pricing import writes
from onestore.pricing.definitions import parse_discount
from onestore.pricing.price_files import parse_prices_json
from onestore.pricing.settings_files import parse_discounts_file, parse_tax


def _product(
    uow: Any, code: str, category: str, unit: str, variants: list[tuple[str, str]]
) -> None:
    body = {
        "code": code,
        "name": f"Product {code}",
        "unit": unit,
        "category": category,
        "dimensions": ["size"] if len(variants) > 1 else [],
        "variants": [
            {
                "sku": sku,
                "currency": "USD",
                "list_price": price,
                **({"size": sku} if len(variants) > 1 else {}),
            }
            for sku, price in variants
        ],
    }
    service.create_product(uow, ProductIn.model_validate(body).to_draft())


@pytest.fixture
def shop(db: Database) -> Database:
    """Categories tops > tshirts and bottoms; products TEE (TEE-S/M 20.00), SHIRT 40.00,
    JEANS 60.00, APPLES sold by the kg (3.00); store S1 in Washington (US-WA), store S2 in
    Oregon; channels WEB (USD, prices without tax, taxed where it ships) and POS-S1 (prices
    with tax)."""
    with db.uow() as uow:
        taxonomy.create_unit(uow, code="ea", name="Each")
        taxonomy.create_unit(uow, code="kg", name="Kilogram", decimals=3)
        taxonomy.create_category(uow, code="tops", name="Tops")
        taxonomy.create_category(uow, code="tshirts", name="T-shirts", parent="tops")
        taxonomy.create_category(uow, code="bottoms", name="Bottoms")
        taxonomy.create_category(uow, code="food", name="Food")
        _product(uow, "TEE", "tshirts", "ea", [("TEE-S", "20.00"), ("TEE-M", "20.00")])
        _product(uow, "SHIRT", "tops", "ea", [("SHIRT-1", "40.00")])
        _product(uow, "JEANS", "bottoms", "ea", [("JEANS-1", "60.00")])
        _product(uow, "APPLES", "food", "kg", [("APPLES-1", "3.00")])
        for code, region, zone in (
            ("S1", "WA", "America/Los_Angeles"),
            ("S2", "OR", "America/Los_Angeles"),
        ):
            network.create_location(
                uow,
                code=code,
                name=f"Store {code}",
                kind="store",
                latitude=47.6,
                longitude=-122.3,
                country="US",
                region=region,
                timezone=zone,
            )
        network.create_channel(
            uow, code="WEB", name="Web", kind="web", currency="USD", prices_include_tax=False
        )
        network.create_channel(
            uow,
            code="POS-S1",
            name="Store 1 tills",
            kind="store",
            currency="USD",
            location="S1",
            prices_include_tax=True,
        )
        uow.commit()
    return db


def load_discounts(
    db: Database, *docs: dict[str, Any], coupons: list[dict[str, Any]] | None = None
) -> int:
    """Import discount documents (and coupons) as one file would; the new pricing version."""
    discounts, parsed_coupons = parse_discounts_file(
        {"format": "onestore.discounts/1", "discounts": list(docs), "coupons": coupons or []}
    )
    with db.uow() as uow:
        change = writes.import_discounts(uow, discounts)
        if parsed_coupons:
            change = writes.import_coupons(uow, parsed_coupons)
        uow.commit()
    return change.version


def load_prices(db: Database, doc: dict[str, Any]) -> int:
    with db.uow() as uow:
        change = writes.import_prices(
            uow, parse_prices_json({"format": "onestore.prices/1", **doc})
        )
        uow.commit()
    return change.version


def load_tax(db: Database, doc: dict[str, Any]) -> int:
    with db.uow() as uow:
        change = writes.import_tax(uow, parse_tax({"format": "onestore.tax/1", **doc}))
        uow.commit()
    return change.version


__all__ = ["load_discounts", "load_prices", "load_tax", "parse_discount"]
