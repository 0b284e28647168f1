"""Build the demo retailer's catalog document (``onestore.catalog/1``) from a seed and a scale.

Pure: no database, no clock, no ids. Every choice comes from one ``random.Random(seed)``
consumed in a fixed order, so the same seed and scale give the same document byte for byte
(benchmarks on two machines compare like with like, and a bug report can say "seed 7").
The document is written through the catalog importer, exactly as a retailer's own file would
be, so the demo also exercises the import path end to end.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
from collections.abc import Iterator
from typing import Any

from onestore.demo import geography
from onestore.demo import wordlists as w
from onestore.demo.barcodes import ean13
from onestore.demo.categories import (
    BRANCHES,
    LEAVES,
    MATERIAL_PREMIUM,
    SMALL_STORE_SKIPS,
    Dimension,
    Leaf,
)

FORMAT = "onestore.catalog/1"
PRODUCTS_PER_SCALE = 2000
MAX_SCALE = 100
ONLINE_ONLY_SHARE = 0.02
"""Share of products sold only online (kept out of every store assortment)."""

_ENDINGS = (("95", 45), ("99", 35), ("00", 20))


def generate(seed: int, scale: int = 1, *, product_count: int | None = None) -> dict[str, Any]:
    """The whole catalog document. ``product_count`` overrides ``scale`` (small test catalogs)."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}")
    count = PRODUCTS_PER_SCALE * scale if product_count is None else product_count
    if count < 1:
        raise ValueError("product_count must be at least 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    locations = geography.locations(rng)
    products, online_only = _products(rng, count)
    return {
        "format": FORMAT,
        "units": [
            {"code": "ea", "name": "Each", "decimals": 0},
            {"code": "pair", "name": "Pair", "decimals": 0},
            {"code": "set", "name": "Set", "decimals": 0},
        ],
        "attributes": _attribute_definitions(),
        "categories": _categories(),
        "locations": locations,
        "channels": geography.channels(),
        "products": products,
        "assortments": _assortments(online_only),
    }


def canonical_json(document: dict[str, Any]) -> str:
    """One spelling of a document, so equal documents have equal text and digest."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def counts(document: dict[str, Any]) -> dict[str, int]:
    """How much is in a document, for summaries and the demo marker."""
    variants = [v for p in document["products"] for v in p["variants"]]
    return {
        "categories": len(document["categories"]),
        "locations": len(document["locations"]),
        "channels": len(document["channels"]),
        "products": len(document["products"]),
        "variants": len(variants),
        "barcodes": sum(len(v["barcodes"]) for v in variants),
        "assortments": len(document["assortments"]),
    }


# -- reference data ----------------------------------------------------------------------------
def _attribute_definitions() -> list[dict[str, Any]]:
    def choice(code: str, name: str, values: tuple[str, ...]) -> dict[str, Any]:
        return {"code": code, "name": name, "value_type": "choice", "choices": list(values)}

    return [
        choice("material", "Material", w.MATERIAL_CHOICES),
        choice("care", "Care", w.CARE_CHOICES),
        choice("fit", "Fit", w.FIT_CHOICES),
        choice("country_of_origin", "Country of origin", w.ORIGIN_CHOICES),
        {"code": "thread_count", "name": "Thread count", "value_type": "number", "choices": None},
        {
            "code": "dishwasher_safe",
            "name": "Dishwasher safe",
            "value_type": "boolean",
            "choices": None,
        },
        {
            "code": "max_bulb_watts",
            "name": "Maximum bulb wattage",
            "value_type": "number",
            "choices": None,
        },
    ]


def _categories() -> list[dict[str, Any]]:
    rows = [{"code": code, "name": name, "parent": parent} for code, name, parent in BRANCHES]
    rows.extend({"code": leaf.code, "name": leaf.name, "parent": leaf.parent} for leaf in LEAVES)
    return rows


# -- products ----------------------------------------------------------------------------------
def _leaf_sequence(rng: random.Random, count: int) -> list[Leaf]:
    """Exactly ``count`` leaves, split by weight (largest remainder), in shuffled order.

    Exact shares rather than independent draws keep every category populated even in small
    test catalogs and make the per-category counts identical across seeds.
    """
    total = sum(leaf.weight for leaf in LEAVES)
    exact = [count * leaf.weight / total for leaf in LEAVES]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(LEAVES)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[: count - sum(shares)]:
        shares[i] += 1
    sequence = [leaf for leaf, n in zip(LEAVES, shares, strict=True) for _ in range(n)]
    rng.shuffle(sequence)
    return sequence


def _products(rng: random.Random, count: int) -> tuple[list[dict[str, Any]], list[str]]:
    products: list[dict[str, Any]] = []
    online_only: list[str] = []
    barcode_numbers = itertools.count()
    for number, leaf in enumerate(_leaf_sequence(rng, count), start=1):
        code = f"P-{number:06d}"
        product = _product(rng, code, leaf, barcode_numbers)
        if rng.random() < ONLINE_ONLY_SHARE and product["status"] == "active":
            online_only.append(code)
        products.append(product)
    return products, online_only


def _product(rng: random.Random, code: str, leaf: Leaf, barcodes: Iterator[int]) -> dict[str, Any]:
    fashion = leaf.code.startswith("fashion")
    item = rng.choice(list(leaf.items))
    material = rng.choice(leaf.items[item])
    adjective = rng.choice(w.FASHION_ADJECTIVES if fashion else w.HOME_ADJECTIVES)
    brand = rng.choice(w.FASHION_BRANDS if fashion else w.HOME_BRANDS)
    roll = rng.random()
    status = "draft" if roll < 0.03 else "discontinued" if roll < 0.07 else "active"
    attributes = _attributes(rng, leaf, material)
    feature = rng.choice(w.FASHION_FEATURES if fashion else w.HOME_FEATURES)
    description = (
        f"{adjective.capitalize()} {item} in {material}, from {brand}. {feature} "
        f"Care: {attributes['care']}."
    )
    # "Classic jeans", not "Classic denim jeans": name the material only when there is a choice.
    named = item if len(leaf.items[item]) == 1 else f"{material} {item}"
    low, high = leaf.price
    base = rng.uniform(low, high) * MATERIAL_PREMIUM.get(material, 1.0)
    ending = rng.choices([e for e, _ in _ENDINGS], weights=[n for _, n in _ENDINGS])[0]
    return {
        "code": code,
        "name": f"{adjective.capitalize()} {named}",
        "description": description,
        "brand": brand,
        "category": leaf.code,
        "unit": leaf.unit,
        "status": status,
        "dimensions": [d.name for d in leaf.dimensions],
        "attributes": attributes,
        "variants": _variants(rng, code, leaf.dimensions, base, ending, barcodes),
    }


def _attributes(rng: random.Random, leaf: Leaf, material: str) -> dict[str, Any]:
    values: dict[str, Any] = {"material": material, "care": w.CARE_BY_MATERIAL[material]}
    if leaf.fit:
        values["fit"] = rng.choice(w.FIT_CHOICES)
    values["country_of_origin"] = rng.choice(w.ORIGIN_CHOICES)
    if "thread_count" in leaf.extra and material in ("percale", "sateen"):
        values["thread_count"] = rng.choice((200, 300, 400, 600))
    if "dishwasher_safe" in leaf.extra:
        values["dishwasher_safe"] = w.CARE_BY_MATERIAL[material] == "dishwasher safe"
    if "max_bulb_watts" in leaf.extra:
        values["max_bulb_watts"] = rng.choice((40, 60, 75, 100))
    return values


def _pick(rng: random.Random, dimension: Dimension) -> list[int]:
    """Indexes into the dimension's pool: a run of neighbours, or a sample in pool order."""
    size = len(dimension.pool)
    k = rng.randint(min(dimension.low, size), min(dimension.high, size))
    if dimension.window:
        start = rng.randrange(size - k + 1)
        return list(range(start, start + k))
    return sorted(rng.sample(range(size), k))


def _variants(
    rng: random.Random,
    code: str,
    dimensions: tuple[Dimension, ...],
    base: float,
    ending: str,
    barcodes: Iterator[int],
) -> list[dict[str, Any]]:
    axes = [[(d, i) for i in _pick(rng, d)] for d in dimensions]
    variants = []
    for combination in itertools.product(*axes):
        values: dict[str, str | None] = {"size": None, "colour": None, "style": None}
        factor = 1.0
        tokens = [code]
        for dimension, index in combination:
            value = dimension.pool[index]
            values[dimension.name] = value
            tokens.append(_sku_token(dimension.name, value))
            if dimension.priced:
                factor += 0.2 * index
        variants.append(
            {
                "sku": "-".join(tokens),
                **values,
                "list_price": _price(base * factor, ending),
                "currency": geography.CURRENCY,
                "barcodes": [ean13(next(barcodes))],
            }
        )
    return variants


def _sku_token(dimension: str, value: str) -> str:
    """A short, upper-case, punctuation-free form of a dimension value for the SKU."""
    if dimension == "colour":
        return w.COLOURS[value]
    return re.sub(r"[^0-9A-Z]", "", value.upper().replace(".5", "H"))


def _price(amount: float, ending: str) -> str:
    """A shelf price: whole dollars ending .95/.99, or a round .00 (to $5 from $20 up)."""
    dollars = max(int(amount), 4)
    if ending == "00":
        if dollars >= 20:
            dollars = max(5 * round(dollars / 5), 20)
        return f"{dollars}.00"
    return f"{dollars}.{ending}"


# -- assortments -------------------------------------------------------------------------------
def _assortments(online_only: list[str]) -> list[dict[str, Any]]:
    """Web, mobile and call center sell everything; stores most; the marketplace a selection."""
    full = [geography.store_channel_code(s) for s in geography.STORES if not s.small]
    small = [geography.store_channel_code(s) for s in geography.STORES if s.small]
    everything = [
        {"category": "fashion", "exclude": False},
        {"category": "home", "exclude": False},
    ]
    store_only = [{"product": code, "exclude": True} for code in online_only]

    def assortment(code: str, name: str, channels: list[str], lines: list[Any]) -> dict[str, Any]:
        return {
            "code": code,
            "name": name,
            "valid_from": None,
            "valid_to": None,
            "channels": channels,
            "lines": lines,
        }

    return [
        assortment("ONLINE", "Online range", ["WEB", "MOBILE", "CALL-CENTER"], everything),
        assortment(
            "MARKETPLACE",
            "Marketplace selection",
            ["MARKETPLACE"],
            [
                {"category": "fashion", "exclude": False},
                {"category": "home-kitchen", "exclude": False},
                {"category": "home-decor", "exclude": False},
                {"category": "fashion-accessories-socks", "exclude": True},
            ],
        ),
        assortment("STORES-FULL", "Full store range", full, everything + store_only),
        assortment(
            "STORES-SMALL",
            "Small store range",
            small,
            everything + [{"category": c, "exclude": True} for c in SMALL_STORE_SKIPS] + store_only,
        ),
        {
            **assortment(
                "WINTER-THROWS",
                "Winter throws in small stores",
                small,
                [{"category": "home-bedding-throws", "exclude": False}],
            ),
            "valid_from": "2026-11-01",
            "valid_to": "2027-02-28",
        },
    ]
