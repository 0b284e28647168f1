"""Export the whole catalog as an ``onestore.catalog/1`` document — exactly what the importer
reads, so export → import is a round trip that changes nothing.

Every section is read in one query (products in three: products, variants, barcodes), rows are
ordered by code so two exports of the same catalog are byte-identical, and prices are decimal
strings with the currency's own decimals.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from onestore.catalog import reference
from onestore.catalog.import_plan import FORMAT
from onestore.catalog.queries import money
from onestore.catalog.tables import barcodes, categories, products, variants
from onestore.db.uow import UnitOfWork


def export_document(uow: UnitOfWork) -> dict[str, Any]:
    """The catalog as a document (a dict ready for ``json.dumps``)."""
    return {
        "format": FORMAT,
        "units": [
            {"code": u.code, "name": u.name, "decimals": u.decimals}
            for u in reference.list_units(uow)
        ],
        "attributes": [
            {
                "code": a.code,
                "name": a.name,
                "value_type": a.value_type,
                "choices": a.choices if a.value_type == "choice" else None,
            }
            for a in reference.list_attributes(uow)
        ],
        "categories": [
            {"code": c.code, "name": c.name, "parent": c.parent_code}
            for c in reference.list_categories(uow)
        ],
        "locations": [
            {
                "code": loc.code,
                "name": loc.name,
                "kind": loc.kind,
                "latitude": loc.latitude,
                "longitude": loc.longitude,
                "street": loc.street,
                "city": loc.city,
                "postcode": loc.postcode,
                "region": loc.region,
                "country": loc.country,
                "timezone": loc.timezone,
                "is_active": loc.is_active,
            }
            for loc in reference.list_locations(uow)
        ],
        "channels": [
            {
                "code": ch.code,
                "name": ch.name,
                "kind": ch.kind,
                "currency": ch.currency,
                "location": ch.location,
                "prices_include_tax": ch.prices_include_tax,
                "is_active": ch.is_active,
                "locations": ch.locations,
            }
            for ch in reference.list_channels(uow)
        ],
        "products": export_products(uow),
        "assortments": [
            {
                "code": a.code,
                "name": a.name,
                "valid_from": a.valid_from.isoformat() if a.valid_from else None,
                "valid_to": a.valid_to.isoformat() if a.valid_to else None,
                "channels": a.channels,
                "lines": [
                    {"product": ln.product, "exclude": ln.exclude}
                    if ln.product
                    else {"category": ln.category, "exclude": ln.exclude}
                    for ln in sorted(
                        a.lines, key=lambda ln: (ln.exclude, ln.category or "", ln.product or "")
                    )
                ],
            }
            for a in reference.list_assortments(uow)
        ],
    }


def export_products(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every product with its variants (by SKU) and their barcodes as printed."""
    codes: dict[str, list[str]] = defaultdict(list)
    for b in uow.conn.execute(
        select(barcodes.c.variant_id, barcodes.c.code).order_by(barcodes.c.gtin)
    ):
        codes[b.variant_id].append(b.code)
    by_product: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in uow.conn.execute(select(variants).order_by(variants.c.sku)):
        by_product[v.product_id].append(
            {
                "sku": v.sku,
                "size": v.size,
                "colour": v.colour,
                "style": v.style,
                "list_price": money(v.list_price, v.currency).as_json()["amount"],
                "currency": v.currency,
                "status": v.status,
                "barcodes": codes[v.id],
            }
        )
    rows = uow.conn.execute(
        select(products, categories.c.code.label("category_code"))
        .select_from(products.outerjoin(categories, categories.c.id == products.c.category_id))
        .order_by(products.c.code)
    )
    return [
        {
            "code": p.code,
            "name": p.name,
            "description": p.description,
            "brand": p.brand,
            "category": p.category_code,
            "unit": p.unit_code,
            "status": p.status,
            "dimensions": list(p.dimensions),
            "attributes": dict(p.attributes),
            "variants": by_product[p.id],
        }
        for p in rows
    ]


def dumps(document: dict[str, Any]) -> str:
    """The document as the JSON text ``onestore export catalog`` writes."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
