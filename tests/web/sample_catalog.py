"""A small, hand-written catalog for page and browser tests, loaded through the real importer.

Small enough to read at a glance; it covers what the pages must show: categories, attributes,
products varying by size and colour or by style, several barcodes per variant, a draft, and a
name that is an XSS attempt.
"""

from __future__ import annotations

from typing import Any

from onestore.catalog.model import with_check_digit
from onestore.db.database import Database

SHIRT_WHITE_M = with_check_digit("400000000002")  # EAN-13 on the white M linen shirt
SHIRT_WHITE_M_UPC = with_check_digit("04000000001")  # a second (UPC-A) label on it
LAMP_BRASS = with_check_digit("400000000101")
XSS_NAME = '<script>alert("pwned")</script> Silk scarf'


def _variant(sku: str, price: str, barcodes: list[str], **dimensions: str) -> dict[str, Any]:
    values = {"size": None, "colour": None, "style": None, **dimensions}
    return {"sku": sku, **values, "list_price": price, "currency": "EUR", "barcodes": barcodes}


def document(extra_products: int = 0) -> dict[str, Any]:
    """The catalog; ``extra_products`` adds plain socks products to fill several list pages."""
    products: list[dict[str, Any]] = [
        {
            "code": "SHIRT-LINEN",
            "name": "Linen shirt",
            "description": "A relaxed shirt in washed linen.",
            "brand": "Northwind",
            "category": "fashion.shirts",
            "unit": "ea",
            "status": "active",
            "dimensions": ["size", "colour"],
            "attributes": {"material": "linen", "care": "Machine wash at 30 °C"},
            "variants": [
                _variant(
                    "SHIRT-LINEN-S-WHT",
                    "49.95",
                    [with_check_digit("400000000001")],
                    size="S",
                    colour="white",
                ),
                _variant(
                    "SHIRT-LINEN-M-WHT",
                    "49.95",
                    [SHIRT_WHITE_M, SHIRT_WHITE_M_UPC],
                    size="M",
                    colour="white",
                ),
                _variant(
                    "SHIRT-LINEN-M-NVY",
                    "54.95",
                    [with_check_digit("400000000003")],
                    size="M",
                    colour="navy",
                ),
            ],
        },
        {
            "code": "LAMP-ARC",
            "name": "Arc floor lamp",
            "description": "",
            "brand": "Lumen & Co",
            "category": "home.lighting",
            "unit": "ea",
            "status": "active",
            "dimensions": ["style"],
            "attributes": {},
            "variants": [
                _variant("LAMP-ARC-BRASS", "189.00", [LAMP_BRASS], style="brass"),
                _variant(
                    "LAMP-ARC-BLACK", "179.00", [with_check_digit("400000000102")], style="black"
                ),
            ],
        },
        {
            "code": "SCARF-XSS",
            "name": XSS_NAME,
            "description": "<img src=x onerror=alert(1)>",
            "brand": "Northwind",
            "category": "fashion",
            "unit": "ea",
            "status": "draft",
            "dimensions": ["colour"],
            "attributes": {"care": "<b>hand wash</b>"},
            "variants": [
                _variant(
                    "SCARF-XSS-RED", "29.00", [with_check_digit("400000000201")], colour="red"
                ),
            ],
        },
    ]
    for n in range(1, extra_products + 1):
        products.append(
            {
                "code": f"SOCK-{n:03d}",
                "name": f"Cotton socks no. {n}",
                "description": "",
                "brand": "Northwind",
                "category": "fashion",
                "unit": "ea",
                "status": "active",
                "dimensions": [],
                "attributes": {},
                "variants": [_variant(f"SOCK-{n:03d}-1", "9.95", [])],
            }
        )
    return {
        "format": "onestore.catalog/1",
        "units": [{"code": "ea", "name": "Each", "decimals": 0}],
        "attributes": [
            {
                "code": "material",
                "name": "Material",
                "value_type": "choice",
                "choices": ["linen", "cotton", "silk"],
            },
            {"code": "care", "name": "Care", "value_type": "text", "choices": None},
        ],
        "categories": [
            {"code": "fashion", "name": "Fashion", "parent": None},
            {"code": "fashion.shirts", "name": "Shirts", "parent": "fashion"},
            {"code": "home", "name": "Home", "parent": None},
            {"code": "home.lighting", "name": "Lighting", "parent": "home"},
        ],
        "locations": [],
        "channels": [],
        "products": products,
        "assortments": [],
    }


def load(db: Database, extra_products: int = 0) -> None:
    """Write the sample catalog through the catalog importer, as a retailer's file would be."""
    from onestore.catalog.importing import import_catalog

    with db.uow() as uow:
        import_catalog(uow, document(extra_products))
        uow.commit()
