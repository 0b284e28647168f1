"""The best-price search finds the same lowest total as trying every choice of units."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings

from onestore.pricing.book import PriceBook
from onestore.pricing.engine import price
from onestore.pricing.model import Discount, PricingLine

from .exhaustive import exhaustive_price
from .strategies import CONTEXT, discounts, lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(basket=lines(), offers=discounts(thresholds=False))
def test_search_matches_exhaustive_enumeration(
    basket: list[PricingLine], offers: list[Discount]
) -> None:
    book = PriceBook.build(version=1, groups=[], prices=[], discounts=offers)
    found = price(book, basket, CONTEXT)
    best = exhaustive_price(book, basket, CONTEXT)
    assert found.search.exact
    if found.search.exhaustive:
        assert found.total == best.total, (found.total, best.total, basket, offers)
    else:  # a set offer over 64 unit choices took ranked ones: within a cent per line
        slack = Decimal("0.01") * len(basket)
        assert best.total.amount <= found.total.amount <= best.total.amount + slack
