"""Hypothesis strategies: small random baskets and overlapping discounts, for property tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import strategies as st

from onestore.kernel.money import Money
from onestore.pricing.model import (
    Concurrency,
    Discount,
    ItemFilter,
    Kind,
    Method,
    MixMatchGroup,
    PricingContext,
    PricingLine,
    QuantityTier,
    ThresholdTier,
)

SKUS = ("A", "B", "C", "D")
CATEGORY = {"A": "tops", "B": "tops", "C": "bottoms", "D": "bottoms"}
CONTEXT = PricingContext("WEB", "EUR", datetime(2026, 11, 26, 12))

prices = st.integers(min_value=100, max_value=9000).map(lambda c: Decimal(c).scaleb(-2))
amounts_off = st.integers(min_value=1, max_value=100).map(lambda c: Decimal(c).scaleb(-2))
"""Amounts off stay below the cheapest item, as in real promotions: an amount off a set that is
worth more than the set is a data error the definitions refuse, not a case to optimise."""
concurrency = st.sampled_from(list(Concurrency))
items = st.one_of(
    st.just(ItemFilter()),
    st.sampled_from(SKUS).map(lambda s: ItemFilter(skus=frozenset({s}))),
    st.sampled_from(("tops", "bottoms")).map(lambda c: ItemFilter(categories=frozenset({c}))),
)


@st.composite
def lines(draw: st.DrawFn, max_lines: int = 4, max_quantity: int = 3) -> list[PricingLine]:
    count = draw(st.integers(min_value=1, max_value=max_lines))
    out = []
    for n in range(count):
        sku = draw(st.sampled_from(SKUS))
        out.append(
            PricingLine(
                line_id=str(n + 1),
                sku=sku,
                product=sku,
                categories=frozenset({CATEGORY[sku]}),
                quantity=Decimal(draw(st.integers(min_value=1, max_value=max_quantity))),
                unit_price=Money(draw(prices), "EUR"),
                price_source="list price",
            )
        )
    return out


@st.composite
def discount(draw: st.DrawFn, code: str, thresholds: bool = True) -> Discount:
    kinds = [Kind.SIMPLE, Kind.QUANTITY, Kind.MIX_MATCH] + ([Kind.THRESHOLD] if thresholds else [])
    kind = draw(st.sampled_from(kinds))
    base = dict(
        code=code,
        name=code,
        kind=kind,
        concurrency=draw(concurrency),
        priority=draw(st.sampled_from((0, 0, 10))),
        items=draw(items),
        currency="EUR",
    )
    percent = st.integers(min_value=1, max_value=100).map(Decimal)
    if kind is Kind.SIMPLE:
        method = draw(st.sampled_from((Method.PERCENT, Method.AMOUNT, Method.PRICE)))
        value = {Method.PERCENT: percent, Method.AMOUNT: amounts_off}.get(method, prices)
        return Discount(**base, method=method, value=draw(value))
    if kind is Kind.QUANTITY:
        if draw(st.booleans()):
            first = draw(st.integers(min_value=2, max_value=3))
            low = draw(st.integers(min_value=1, max_value=99))
            high = draw(st.integers(min_value=low, max_value=100))  # tiers never get worse
            tiers = (
                QuantityTier(Decimal(first), Method.PERCENT, Decimal(low)),
                QuantityTier(Decimal(first + 2), Method.PERCENT, Decimal(high)),
            )
            return Discount(**base, tiers=tiers)
        n = draw(st.integers(min_value=2, max_value=3))
        group = MixMatchGroup("deal", base["items"], n)
        return Discount(**base, method=Method.DEAL_PRICE, value=draw(prices), groups=(group,))
    if kind is Kind.MIX_MATCH:
        method = draw(st.sampled_from(list(Method)[1:]))  # not PRICE
        if method is Method.PRICE:
            method = Method.PERCENT
        groups = tuple(
            MixMatchGroup(name, draw(items), draw(st.integers(min_value=1, max_value=2)))
            for name in ("A", "B")[: draw(st.integers(min_value=1, max_value=2))]
        )
        size = sum(g.quantity for g in groups)
        if method is Method.LEAST_EXPENSIVE_FREE and size < 2:
            groups = (MixMatchGroup("A", groups[0].items, 2),)
        value = {Method.PERCENT: percent, Method.AMOUNT: amounts_off}.get(method, prices)
        return Discount(**base, method=method, value=draw(value), groups=groups, free_count=1)
    tiers = (
        ThresholdTier(
            draw(prices), draw(st.sampled_from((Method.PERCENT, Method.AMOUNT))), Decimal(5)
        ),
    )
    return Discount(**base, threshold_tiers=tiers)


@st.composite
def discounts(draw: st.DrawFn, max_count: int = 4, thresholds: bool = True) -> list[Discount]:
    count = draw(st.integers(min_value=0, max_value=max_count))
    return [draw(discount(f"D{n}", thresholds)) for n in range(count)]
