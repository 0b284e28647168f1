"""Import documents for the import, export and CLI tests."""

from __future__ import annotations

import copy
from typing import Any

from onestore.catalog.model import with_check_digit


def barcode(n: int) -> str:
    return with_check_digit(f"871234{n:06d}")


BASE: dict[str, Any] = {
    "format": "onestore.catalog/1",
    "units": [{"code": "ea", "name": "Each", "decimals": 0}],
    "attributes": [
        {
            "code": "material",
            "name": "Material",
            "value_type": "choice",
            "choices": ["cotton", "wool"],
        },
        {"code": "thread_count", "name": "Thread count", "value_type": "number", "choices": None},
    ],
    "categories": [
        {"code": "fashion-women", "name": "Women", "parent": "fashion"},  # child before parent
        {"code": "fashion", "name": "Fashion", "parent": None},
        {"code": "home", "name": "Home", "parent": None},
    ],
    "locations": [
        {
            "code": "DC-01",
            "name": "Kent DC",
            "kind": "dc",
            "latitude": 47.38,
            "longitude": -122.23,
            "street": "1 Main St",
            "city": "Kent",
            "postcode": "98032",
            "region": "WA",
            "country": "US",
            "timezone": "America/Los_Angeles",
        },
        {
            "code": "ST-01",
            "name": "Seattle",
            "kind": "store",
            "latitude": 47.61,
            "longitude": -122.33,
            "street": None,
            "city": "Seattle",
            "postcode": None,
            "region": "WA",
            "country": "US",
            "timezone": "America/Los_Angeles",
        },
    ],
    "channels": [
        {
            "code": "WEB",
            "name": "Web store",
            "kind": "web",
            "currency": "USD",
            "location": None,
            "prices_include_tax": False,
            "locations": ["DC-01"],
        },
        {
            "code": "ST-01",
            "name": "Seattle store",
            "kind": "store",
            "currency": "USD",
            "location": "ST-01",
            "prices_include_tax": False,
            "locations": ["ST-01"],
        },
    ],
    "products": [
        {
            "code": "P-000001",
            "name": "Linen shirt",
            "description": "",
            "brand": "Northwind",
            "category": "fashion-women",
            "unit": "ea",
            "status": "active",
            "dimensions": ["size", "colour"],
            "attributes": {"material": "cotton"},
            "variants": [
                {
                    "sku": "P-000001-S-BLK",
                    "size": "S",
                    "colour": "Black",
                    "style": None,
                    "list_price": "29.95",
                    "currency": "USD",
                    "barcodes": [barcode(1)],
                },
                {
                    "sku": "P-000001-M-BLK",
                    "size": "M",
                    "colour": "Black",
                    "style": None,
                    "list_price": "29.95",
                    "currency": "USD",
                    "barcodes": [barcode(2), with_check_digit("04000000001")],
                },
            ],
        },
        {
            "code": "P-000002",
            "name": "Percale sheet",
            "description": "Crisp.",
            "brand": None,
            "category": "home",
            "unit": "ea",
            "status": "draft",
            "dimensions": [],
            "attributes": {"thread_count": 300},
            "variants": [
                {
                    "sku": "P-000002",
                    "size": None,
                    "colour": None,
                    "style": None,
                    "list_price": "80.00",
                    "currency": "USD",
                    "barcodes": [],
                },
            ],
        },
    ],
    "assortments": [
        {
            "code": "ALL",
            "name": "Everything",
            "valid_from": None,
            "valid_to": None,
            "channels": ["WEB", "ST-01"],
            "lines": [
                {"category": "fashion", "exclude": False},
                {"product": "P-000002", "exclude": True},
            ],
        },
        {
            "code": "WINTER",
            "name": "Winter",
            "valid_from": "2026-11-01",
            "valid_to": "2027-02-28",
            "channels": ["ST-01"],
            "lines": [{"product": "P-000002"}],
        },
    ],
}


def document() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def big_document(products: int = 2000, variants_each: int = 4) -> dict[str, Any]:
    """A catalog the size of the demo: 2,000 products, 8,000 variants and barcodes."""
    doc = document()
    sizes = ["XS", "S", "M", "L", "XL", "XXL"][:variants_each]
    doc["products"] = [
        {
            "code": f"B-{p:05d}",
            "name": f"Tee {p}",
            "brand": "Bulk",
            "category": "fashion-women",
            "unit": "ea",
            "dimensions": ["size"],
            "attributes": {"material": "cotton"},
            "variants": [
                {
                    "sku": f"B-{p:05d}-{size}",
                    "size": size,
                    "currency": "USD",
                    "list_price": f"{10 + p % 50}.95",
                    "barcodes": [barcode(1000 + p * 10 + i)],
                }
                for i, size in enumerate(sizes)
            ],
        }
        for p in range(products)
    ]
    doc["assortments"] = []
    return doc
