"""The demo stock plan: deterministic, everywhere it should be, shaped like a retailer's stock,
and a history that never sells a unit that is not there. Pure: no database."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean, median
from typing import Any

import pytest

from onestore.catalog.model import descendants
from onestore.demo import geography
from onestore.demo.categories import SMALL_STORE_SKIPS
from onestore.demo.generator import generate
from onestore.demo.stock import (
    BUFFER_STORES,
    HISTORY_DAYS,
    SALES,
    SELL_OUTS,
    StockPlan,
    plan_stock,
)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return generate(seed=7, scale=1)


@pytest.fixture(scope="module")
def plan(document: dict[str, Any]) -> StockPlan:
    return plan_stock(document, seed=7)


def _products_by_sku(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["sku"]: p for p in document["products"] for v in p["variants"]}


def test_same_seed_gives_the_same_stock_and_another_seed_other_stock() -> None:
    small = generate(seed=3, scale=1, product_count=150)
    first = plan_stock(small, seed=3)
    assert plan_stock(generate(seed=3, scale=1, product_count=150), seed=3) == first
    assert first.totals() == plan_stock(small, seed=3).totals()
    other = plan_stock(generate(seed=4, scale=1, product_count=150), seed=4)
    assert other.opening != first.opening


def test_every_dc_and_store_holds_stock_and_vendors_none(
    document: dict[str, Any], plan: StockPlan
) -> None:
    kinds = {loc["code"]: loc["kind"] for loc in document["locations"]}
    held = {location for _, location, _ in plan.opening}
    assert held == {code for code, kind in kinds.items() if kind in ("dc", "store")}
    assert len({(sku, loc) for sku, loc, _ in plan.opening}) == len(plan.opening)
    totals = plan.totals()
    assert totals["stock_locations"] == 27
    assert 80_000 <= totals["stock_balances"] <= 160_000


def test_dcs_are_deep_and_stores_shallow(document: dict[str, Any], plan: StockPlan) -> None:
    product = _products_by_sku(document)
    dc: dict[str, list[int]] = defaultdict(list)
    for sku, loc, q in plan.opening:
        if loc.startswith("DC-"):
            dc[product[sku]["status"]].append(q)
    active_dc, remnants = dc["active"], dc["discontinued"]
    store = [q for sku, loc, q in plan.opening if not loc.startswith("DC-")]
    assert all(40 <= q <= 400 for q in active_dc)
    assert remnants and all(1 <= q <= 20 for q in remnants)  # discontinued: selling off
    assert all(1 <= q <= 12 for q in store)
    assert median(active_dc) > 10 * median(store)
    skus = {
        v["sku"] for p in document["products"] if p["status"] == "active" for v in p["variants"]
    }
    at_main_dc = {sku for sku, loc, _ in plan.opening if loc == "DC-01"}
    assert len(at_main_dc & skus) > 0.9 * len(skus)  # "most SKUs"


def test_drafts_online_only_and_small_store_skips_are_never_in_a_store(
    document: dict[str, Any], plan: StockPlan
) -> None:
    product = _products_by_sku(document)
    assert not [sku for sku, _, _ in plan.opening if product[sku]["status"] == "draft"]
    lines = next(a for a in document["assortments"] if a["code"] == "STORES-FULL")["lines"]
    online_only = {ln["product"] for ln in lines if "product" in ln}
    assert online_only
    stores = [(sku, loc) for sku, loc, _ in plan.opening if not loc.startswith("DC-")]
    assert not [sku for sku, _ in stores if product[sku]["code"] in online_only]
    parents = {c["code"]: c["parent"] for c in document["categories"]}
    skipped = descendants(SMALL_STORE_SKIPS, parents)
    small = {s.code for s in geography.STORES if s.small}
    assert not [sku for sku, loc in stores if loc in small and product[sku]["category"] in skipped]


def test_best_sellers_are_carried_in_more_stores_and_middle_sizes_deeper(
    document: dict[str, Any], plan: StockPlan
) -> None:
    product = _products_by_sku(document)
    depth: dict[str, list[int]] = defaultdict(list)
    stores: dict[str, set[str]] = defaultdict(set)
    for sku, loc, q in plan.opening:
        code = product[sku]["code"]
        if loc == "DC-01":
            depth[code].append(q)
        elif not loc.startswith("DC-"):
            stores[code].add(loc)
    ranked = sorted(depth, key=lambda code: mean(depth[code]))
    tenth = len(ranked) // 10
    assert mean(len(stores[c]) for c in ranked[-tenth:]) > 1.5 * mean(
        len(stores[c]) for c in ranked[:tenth]
    )

    at_dc = {sku: q for sku, loc, q in plan.opening if loc == "DC-01"}
    middle: list[int] = []
    ends: list[int] = []
    for p in document["products"]:
        run = list(dict.fromkeys(v["size"] for v in p["variants"] if v["size"]))
        if len(run) < 5 or p["status"] != "active":
            continue
        for v in p["variants"]:
            if v["sku"] in at_dc:
                position = run.index(v["size"])
                if position == len(run) // 2:
                    middle.append(at_dc[v["sku"]])
                elif position in (0, len(run) - 1):
                    ends.append(at_dc[v["sku"]])
    assert mean(middle) > 1.3 * mean(ends)


def test_history_is_a_month_of_sales_that_never_oversells(plan: StockPlan) -> None:
    history = plan.history
    sales = [m for m in history if m.kind == "sale"]
    returns = [m for m in history if m.kind == "return"]
    assert SALES // 2 <= len(sales) <= SALES + 3 * SELL_OUTS
    assert 0 < len(returns) < len(sales) // 5
    assert [(-m.days_ago, m.minute) for m in history] == sorted(
        (-m.days_ago, m.minute) for m in history
    )
    assert all(1 <= m.days_ago <= HISTORY_DAYS and 9 * 60 <= m.minute < 21 * 60 for m in history)
    assert all(not m.location.startswith("DC-") and m.quantity >= 1 for m in history)
    on_hand = {(sku, loc): q for sku, loc, q in plan.opening}
    for m in history:  # replayed in order, on hand never goes below zero
        on_hand[(m.sku, m.location)] += m.quantity if m.kind == "return" else -m.quantity
        assert on_hand[(m.sku, m.location)] >= 0, m
    assert on_hand == plan.on_hand()
    assert plan.totals()["out_of_stock"] >= SELL_OUTS
    assert len({m.reference for m in history}) == len(history)


def test_buffers_are_small_at_full_format_stores_and_covered(plan: StockPlan) -> None:
    on_hand = plan.on_hand()
    small = {s.code for s in geography.STORES if s.small}
    stores = {loc for _, loc, _ in plan.buffers}
    assert len(stores) == BUFFER_STORES and not stores & small
    assert all(1 <= units <= 2 and units < on_hand[(sku, loc)] for sku, loc, units in plan.buffers)
