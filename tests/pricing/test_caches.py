"""The engine's caches change nothing: the same baskets priced with every cache forgetting
what it is told give the very same answer, explanation included.

The caches are keyed by what their answer depends on (``search.Level``: candidate applications
by the units left on the offer's own pieces, set values by the picks, tier parts per piece;
``Sale``: scope per discount and kind of line, explanation verdicts per line signature). A key
that misses something would show here as a difference, on random baskets with several
priorities, thresholds, weighed goods and compounding across priorities — which
``test_search_exact`` cannot see: its oracle is the same search class, caches and all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestore.pricing import engine, sale
from onestore.pricing.book import PriceBook
from onestore.pricing.model import Discount, PricingLine
from onestore.pricing.search import Level
from onestore.pricing.service import priced_to_json

from .strategies import CONTEXT, discounts, lines


class Forgetful(dict):  # type: ignore[type-arg]
    """A dict that never keeps anything: every look-up misses, so everything is recomputed."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return default


class UncachedLevel(Level):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next = Forgetful()
        self._sets = Forgetful()
        self._tiers = Forgetful()
        self._leftover = Forgetful()


class UncachedSale(sale.Sale):
    """``Sale`` whose pure caches forget (the thresholds' before-any-threshold amounts are not
    a cache but a fact of the order of application, so they stay)."""

    def __post_init__(self) -> None:
        self.refusals = Forgetful()
        self.shortfalls = Forgetful()
        self.explained = Forgetful()
        self.verdicts = Forgetful()
        self._live = Forgetful()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    basket=lines(max_lines=6, max_quantity=4),
    offers=discounts(max_count=6),
    across=st.booleans(),
)
def test_caches_change_nothing(
    basket: list[PricingLine], offers: list[Discount], across: bool
) -> None:
    ctx = replace(CONTEXT, compound_across_priorities=across)
    book = PriceBook.build(version=1, groups=[], prices=[], discounts=offers)
    cached = priced_to_json(engine.price(book, basket, ctx))
    fresh_book = PriceBook.build(version=1, groups=[], prices=[], discounts=offers)
    original = engine.Sale
    engine.Sale = UncachedSale  # type: ignore[misc]
    try:
        uncached = priced_to_json(engine.price(fresh_book, basket, ctx, search=UncachedLevel))
    finally:
        engine.Sale = original  # type: ignore[misc]
    assert cached == uncached
