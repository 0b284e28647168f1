"""The pricing benchmark's data: its catalog, its 200 overlapping discounts and its baskets.

Pure and seeded: the catalog and the discounts come from one fixed seed (:data:`SETUP_SEED`),
so every run, on any machine, sets up and reuses the very same rows; the baskets come from the
run's ``--seed``. Every code starts with ``BENCH-`` (products ``BENCH-PR-…``, SKUs
``BENCH-PS-…``: apart from the inventory bench's ``BENCH-P-…``/``BENCH-SKU-…``).

The discounts are a merchandiser's mix that overlaps on purpose: category-wide percents under
product and SKU offers, tiers and "buy 3 for" deals over the same goods as mix-and-match sets,
thresholds over everything or a root category, a few coupons; all three concurrency modes,
priorities 0, 5 and 10, and some scopes that rule a discount out for the bench's sale (another
channel, a future start, evening hours, weekends, a customer group) so the scope filter has work
too. A product or SKU list is a few products of one leaf category (a range); only per-unit
discounts and thresholds reach as wide as a root category (a quarter of the catalog): set offers
over a quarter of a 100-line basket make the best-price search spend its whole budget. Baskets
draw products by a popularity skew (Zipf-like), so categories repeat and offers meet.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from onestore.pricing.basket import BasketIn, BasketLineIn
from onestore.pricing.definitions import parse_discount
from onestore.pricing.model import Discount, TaxRate
from onestore.pricing.settings_files import ChannelSettingsIn, CouponIn, TaxData

PREFIX = "BENCH-"
CHANNEL = f"{PREFIX}WEB"
OTHER_CHANNEL = f"{PREFIX}MKT"
"""A second channel, only for discounts whose scope rules out the bench's sale."""
UNIT = "bench-pr-ea"
CURRENCY = "USD"
SIZES = ("XS", "S", "M", "L", "XL")
ROOTS = 4
LEAVES_PER_ROOT = 4
PRODUCTS = 400
DISCOUNTS = 200
COUPON_DISCOUNTS = 10
SETUP_SEED = 20_260_617
AT = datetime(2026, 6, 17, 14, 30)
"""The sale's local time (a Wednesday afternoon): fixed, so which scopes apply never depends on
the day the bench runs."""
SHIP_TO = ("US", "WA")
TAX_STANDARD = f"{PREFIX}STD"
TAX_REDUCED = f"{PREFIX}RED"
JURISDICTION = "US-WA"
TAX_DATA = TaxData(
    rates=(
        TaxRate(TAX_STANDARD, JURISDICTION, Decimal("10.1")),
        TaxRate(TAX_REDUCED, JURISDICTION, Decimal("2.5")),
    ),
    channels=(ChannelSettingsIn(CHANNEL, default_tax_group=TAX_STANDARD),),
)
"""Standard rate by the channel's default; the products of the first root category reduced."""


def product_code(n: int) -> str:
    return f"{PREFIX}PR-{n:04d}"


def sku_code(n: int) -> str:
    return f"{PREFIX}PS-{n:04d}"


def discount_code(n: int) -> str:
    """``BENCH-D001`` … ``BENCH-D200``."""
    return f"{PREFIX}D{n:03d}"


def coupon_code(n: int) -> str:
    return f"{PREFIX}C{n:03d}"


def root_code(r: int) -> str:
    return f"{PREFIX}CAT-{r + 1}"


def leaf_code(r: int, k: int) -> str:
    return f"{PREFIX}CAT-{r + 1}-{k + 1}"


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    root: str
    leaf: str
    skus: tuple[tuple[str, Decimal], ...]  # (SKU, list price)

    @property
    def low(self) -> Decimal:
        return min(price for _, price in self.skus)


@dataclass(frozen=True, slots=True)
class BenchCatalog:
    products: tuple[Product, ...]
    weights: tuple[float, ...]  # popularity per product, for drawing baskets

    @property
    def skus(self) -> list[str]:
        return [sku for p in self.products for sku, _ in p.skus]

    def in_category(self, code: str) -> list[Product]:
        return [p for p in self.products if code in (p.root, p.leaf)]


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def build_catalog() -> BenchCatalog:
    """400 products of 5 sizes (2,000 SKUs) over 16 leaf categories under 4 roots, list
    prices 5.00–200.00 (log-uniform: many cheap goods, few dear ones)."""
    rng = random.Random(SETUP_SEED)  # noqa: S311 - reproducible bench data, not secrets
    products = []
    for n in range(PRODUCTS):
        r, k = divmod(n % (ROOTS * LEAVES_PER_ROOT), LEAVES_PER_ROOT)
        base = math.exp(rng.uniform(math.log(5), math.log(180)))
        skus = tuple(
            (sku_code(n * len(SIZES) + s), _money(min(200.0, base * (1.1 if size == "XL" else 1))))
            for s, size in enumerate(SIZES)
        )
        products.append(Product(product_code(n), root_code(r), leaf_code(r, k), skus))
    ranks = list(range(PRODUCTS))
    rng.shuffle(ranks)
    weights = tuple(1.0 / (rank + 1) ** 0.9 for rank in ranks)
    return BenchCatalog(tuple(products), weights)


def catalog_document(catalog: BenchCatalog) -> dict[str, Any]:
    """The catalog import document: unit, category tree, the two channels, the products."""
    categories: list[dict[str, Any]] = []
    for r in range(ROOTS):
        categories.append({"code": root_code(r), "name": f"Bench root {r + 1}", "parent": None})
        categories += [
            {"code": leaf_code(r, k), "name": f"Bench {r + 1}.{k + 1}", "parent": root_code(r)}
            for k in range(LEAVES_PER_ROOT)
        ]
    channels = [
        {"code": CHANNEL, "name": "Bench web shop", "kind": "web", "currency": CURRENCY,
         "prices_include_tax": False},
        {"code": OTHER_CHANNEL, "name": "Bench marketplace", "kind": "marketplace",
         "currency": CURRENCY, "prices_include_tax": False},
    ]  # fmt: skip
    products = [
        {
            "code": p.code,
            "name": f"Bench pricing product {p.code[-4:]}",
            "category": p.leaf,
            "unit": UNIT,
            "status": "active",
            "dimensions": ["size"],
            "variants": [
                {"sku": sku, "size": size, "currency": CURRENCY, "list_price": str(price)}
                for (sku, price), size in zip(p.skus, SIZES, strict=True)
            ],
        }
        for p in catalog.products
    ]
    return {
        "format": "onestore.catalog/1",
        "units": [{"code": UNIT, "name": "Bench pricing each", "decimals": 0}],
        "categories": categories,
        "channels": channels,
        "products": products,
    }


def tax_data(catalog: BenchCatalog) -> TaxData:
    reduced = tuple((p.code, TAX_REDUCED) for p in catalog.products if p.root == root_code(0))
    return TaxData(TAX_DATA.rates, reduced, TAX_DATA.channels)


# -- discounts ------------------------------------------------------------------------------------
class _Maker:
    """Draws one discount document after another from the setup seed."""

    def __init__(self, catalog: BenchCatalog) -> None:
        self.catalog = catalog
        self.rng = random.Random(SETUP_SEED + 1)  # noqa: S311 - reproducible bench data
        self.roots = [root_code(r) for r in range(ROOTS)]
        self.leaves = [leaf_code(r, k) for r in range(ROOTS) for k in range(LEAVES_PER_ROOT)]

    # What a discount is about: a category, a list of products or of SKUs. A list is a few
    # products of one leaf category (a brand, a range), as promotions are; only per-unit
    # discounts and thresholds go as wide as a root category (a quarter of the catalog).
    def _range(self, k: int) -> list[Product]:
        leaf = self.rng.choice(self.leaves)
        return self.rng.sample(self.catalog.in_category(leaf), k)

    def target(
        self, kinds: Sequence[str] = ("category", "products", "skus"), *, roots: bool = True
    ) -> dict[str, Any]:
        """``{"items": …, "goods": [products it covers]}``."""
        kind = self.rng.choice(kinds)
        if kind == "category":
            wide = roots and self.rng.random() < 0.3
            code = self.rng.choice(self.roots if wide else self.leaves)
            items: dict[str, Any] = {"categories": [code]}
            goods = self.catalog.in_category(code)
            if self.rng.random() < 0.15:
                excluded = self.rng.sample(goods, 2)
                items["exclude_products"] = sorted(p.code for p in excluded)
                goods = [p for p in goods if p not in excluded]
            return {"items": items, "goods": goods}
        goods = self._range(self.rng.randint(2, 10))
        if kind == "products":
            return {"items": {"products": sorted(p.code for p in goods)}, "goods": goods}
        skus = sorted({sku for p in goods for sku, _ in self.rng.sample(p.skus, 3)})
        return {"items": {"skus": skus}, "goods": goods}

    def scope(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.06:
            return {"channels": [OTHER_CHANNEL]}  # another channel: ruled out
        if roll < 0.10:
            return {"valid_from": "2026-09-01", "valid_to": "2026-09-30"}  # not yet
        if roll < 0.13:
            return {"start_time": "18:00", "end_time": "21:00"}  # evenings only
        if roll < 0.15:
            return {"weekdays": ["sat", "sun"]}  # weekends only
        if roll < 0.17:
            return {"customer_groups": ["staff"]}  # nobody in the bench is staff
        if roll < 0.23:
            return {"channels": [CHANNEL], "valid_from": "2026-06-01", "valid_to": "2026-06-30"}
        if roll < 0.27:
            return {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start_time": "12:00",
                    "end_time": "16:00"}  # fmt: skip
        return {}

    def common(self, n: int, kind: str, name: str) -> dict[str, Any]:
        concurrency = self.rng.choices(
            ("best_price", "compounded", "exclusive"), weights=(5, 3, 2)
        )[0]
        return {
            "code": discount_code(n),
            "name": f"Bench {name}",
            "kind": kind,
            "concurrency": concurrency,
            "priority": self.rng.choice((0, 0, 0, 5, 10)),
            "currency": CURRENCY,
            "scope": self.scope(),
        }

    def simple(self, n: int) -> dict[str, Any]:
        method = self.rng.choices(("percent", "amount", "price"), weights=(5, 3, 2))[0]
        target = self.target(("products", "skus") if method == "price" else self.kinds())
        if method == "percent":
            value = str(self.rng.choice((5, 10, 15, 20, 25, 30)))
        elif method == "amount":
            value = f"{self.rng.choice((1, 2, 3, 5, 10))}.00"
        else:
            value = str(_money(float(min(p.low for p in target["goods"])) * 0.85))
        doc = self.common(n, "simple", f"{method} {value}")
        return doc | {"items": target["items"], "method": method, "value": value}

    def kinds(self) -> tuple[str, ...]:
        return ("category", "category", "products", "skus")

    def quantity(self, n: int) -> dict[str, Any]:
        if self.rng.random() < 0.5:
            target = self.target(("category", "products"), roots=False)
            tiers = self.rng.choice(
                (
                    [("2", "percent", "5"), ("4", "percent", "10")],
                    [("3", "percent", "10"), ("6", "percent", "20")],
                    [("2", "amount", "1.00"), ("5", "amount", "3.00")],
                )
            )
            doc = self.common(n, "quantity", "tiers")
            tier_docs = [{"min_quantity": q, "method": m, "value": v} for q, m, v in tiers]
            return doc | {"items": target["items"], "tiers": tier_docs}
        target = self.target(("products", "skus"))
        count = self.rng.choice((2, 3))
        price = _money(float(min(p.low for p in target["goods"])) * count * 0.8)
        doc = self.common(n, "quantity", f"buy {count} for {price}")
        return doc | {"items": target["items"], "deal": {"quantity": count, "price": str(price)}}

    def mix_match(self, n: int) -> dict[str, Any]:
        method = self.rng.choices(
            ("deal_price", "percent", "amount", "least_expensive_free"), weights=(1, 1.2, 0.8, 1)
        )[0]
        if self.rng.random() < 0.6:
            a = self.target(("category", "products"), roots=False)
            sets = [("A", self.rng.choice((2, 3)), a)]
        else:
            a = self.target(("category", "products"), roots=False)
            b = self.target(("category", "products"), roots=False)
            sets = [("A", 1, a), ("B", 1, b)]
        groups = [{"name": g, "quantity": q, "items": t["items"]} for g, q, t in sets]
        doc = self.common(n, "mix_match", f"mix and match {method}") | {
            "items": {},
            "groups": groups,
            "method": method,
        }
        if method == "deal_price":
            median = [sorted(p.low for p in t["goods"])[len(t["goods"]) // 2] for _, _, t in sets]
            total = sum(float(m) * q for m, (_, q, _) in zip(median, sets, strict=True))
            doc["value"] = str(_money(total * 0.8))
        elif method == "percent":
            doc["value"] = str(self.rng.choice((10, 15, 20, 30)))
        elif method == "amount":
            doc["value"] = f"{self.rng.choice((5, 10, 15))}.00"
        else:
            doc["free_count"] = 1
        if self.rng.random() < 0.3:
            doc["max_applications"] = self.rng.choice((1, 2, 3))
        return doc

    def threshold(self, n: int, *, coupon: bool = False) -> dict[str, Any]:
        tiers = self.rng.choice(
            (
                [("50.00", "percent", "5"), ("150.00", "percent", "10")],
                [("75.00", "amount", "5.00"), ("200.00", "amount", "20.00")],
                [("100.00", "percent", "7.5")],
            )
        )
        items = {} if self.rng.random() < 0.3 else {"categories": [self.rng.choice(self.roots)]}
        doc = self.common(n, "threshold", "spend and save")
        tier_docs = [{"min_amount": a, "method": m, "value": v} for a, m, v in tiers]
        return doc | {"items": items, "tiers": tier_docs, "coupon_required": coupon}

    def coupon(self, n: int) -> dict[str, Any]:
        if self.rng.random() < 0.5:
            return self.threshold(n, coupon=True)
        root = self.rng.choice(self.roots)
        doc = self.common(n, "simple", "coupon percent")
        value = str(self.rng.choice((15, 20, 25)))
        return doc | {
            "items": {"categories": [root]},
            "method": "percent",
            "value": value,
            "coupon_required": True,
        }


def discount_documents(catalog: BenchCatalog) -> list[dict[str, Any]]:
    """The 200 bench discounts as documents: ~45 % simple, 15 % quantity, 25 % mix and match,
    10 % threshold, 5 % coupon-only, in a seeded order."""
    maker = _Maker(catalog)
    plan = (
        ["simple"] * 90 + ["quantity"] * 30 + ["mix_match"] * 50 + ["threshold"] * 20
        + ["coupon"] * COUPON_DISCOUNTS
    )  # fmt: skip
    assert len(plan) == DISCOUNTS
    maker.rng.shuffle(plan)
    makers = {
        "simple": maker.simple,
        "quantity": maker.quantity,
        "mix_match": maker.mix_match,
        "threshold": maker.threshold,
        "coupon": maker.coupon,
    }
    return [makers[kind](n) for n, kind in enumerate(plan, start=1)]


def bench_discounts(catalog: BenchCatalog) -> list[Discount]:
    return [
        parse_discount(doc, f"discounts[{i}]") for i, doc in enumerate(discount_documents(catalog))
    ]


def bench_coupons(discounts: Sequence[Discount]) -> list[CouponIn]:
    """One unlimited coupon per coupon-only discount: ``BENCH-C001`` …"""
    required = [d.code for d in discounts if d.coupon_required]
    return [CouponIn(coupon_code(i), code) for i, code in enumerate(required, start=1)]


# -- baskets --------------------------------------------------------------------------------------
def baskets(
    catalog: BenchCatalog, size: int, count: int, seed: int, coupons: Sequence[str] = ()
) -> list[BasketIn]:
    """``count`` baskets of ``size`` distinct SKUs: products by popularity, any size of each;
    three lines in four of one unit, the rest 2–4; one basket in twelve brings a coupon."""
    rng = random.Random(seed * 1_000 + size)  # noqa: S311 - reproducible baskets
    products, weights = catalog.products, catalog.weights
    drawn: list[BasketIn] = []
    for _ in range(count):
        skus: dict[str, None] = {}
        while len(skus) < size:
            for p in rng.choices(products, weights, k=size - len(skus)):
                skus[rng.choice(p.skus)[0]] = None
        lines = tuple(
            BasketLineIn(str(n), sku, Decimal(1 if rng.random() < 0.75 else rng.randint(2, 4)))
            for n, sku in enumerate(list(skus)[:size], start=1)
        )
        chosen = (rng.choice(coupons),) if coupons and rng.random() < 1 / 12 else ()
        drawn.append(BasketIn(CHANNEL, lines, coupons=chosen, at=AT, ship_to=SHIP_TO))
    return drawn
