"""The best-price search against the same search with every limit lifted.

The oracle (``exhaustive.py``) is the same dynamic programme with no enumeration limit, no beam
and no state budget, so where the real search reports ``exhaustive`` and ``exact`` the two
follow the same path: that part only checks the report is honest. The baskets here are big
enough (up to 6 lines of up to 5 units) for the beam, the ranked unit choices and now and then
the state budget to be used, and there the search may find a dearer plan than the oracle but
never a cheaper one (a cheaper one would be
a plan the rules do not allow). The offers are put at one priority for that: priorities are
decided top down, so a dearer plan at a higher priority can leave a lower one more to discount
and end cheaper overall (the rules take the best plan per priority, not across them).
Independent checks of the numbers are the hand-computed worked examples
(``test_worked_examples.py``).
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, event, given, settings

from onestore.pricing.book import PriceBook
from onestore.pricing.engine import price
from onestore.pricing.model import Discount, PricingLine

from .exhaustive import exhaustive_price
from .strategies import CONTEXT, discounts, lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(basket=lines(max_lines=6, max_quantity=5), offers=discounts(thresholds=False))
def test_search_never_beats_the_exhaustive_search_and_matches_it_when_exhaustive(
    basket: list[PricingLine], offers: list[Discount]
) -> None:
    offers = [replace(d, priority=0) for d in offers]
    book = PriceBook.build(version=1, groups=[], prices=[], discounts=offers)
    found = price(book, basket, CONTEXT)
    best = exhaustive_price(book, basket, CONTEXT)
    event("exhaustive" if found.search.exhaustive else "beam or ranked choices")
    assert found.total >= best.total, (found.total, best.total, basket, offers)
    if found.search.exhaustive and found.search.exact:
        assert found.total == best.total, (found.total, best.total, basket, offers)


def test_the_beam_is_reached_by_these_baskets() -> None:
    """Guard for the test above: its baskets do exercise the non-exhaustive paths."""
    reached: list[bool] = []

    @settings(max_examples=120, deadline=None, database=None)
    @given(basket=lines(max_lines=6, max_quantity=5), offers=discounts(thresholds=False))
    def probe(basket: list[PricingLine], offers: list[Discount]) -> None:
        book = PriceBook.build(version=1, groups=[], prices=[], discounts=offers)
        reached.append(not price(book, basket, CONTEXT).search.exhaustive)

    probe()
    assert any(reached)
