"""Properties of the engine that must hold for every basket (hypothesis)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestore.pricing.book import PriceBook
from onestore.pricing.engine import price
from onestore.pricing.model import Concurrency, Discount, Kind, PricedBasket, PricingLine

from .strategies import CONTEXT, discount, discounts, lines

QUICK = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def priced(offers: list[Discount], basket: list[PricingLine]) -> PricedBasket:
    return price(
        PriceBook.build(version=1, groups=[], prices=[], discounts=offers), basket, CONTEXT
    )


@QUICK
@given(basket=lines(max_lines=6), offers=discounts(max_count=6))
def test_totals_never_negative_and_line_discounts_sum_exactly(
    basket: list[PricingLine], offers: list[Discount]
) -> None:
    out = priced(offers, basket)
    assert out.total.amount >= 0
    assert all(line.net.amount >= 0 for line in out.lines)
    for line in out.lines:  # what the engine does not get by construction
        assert all(d.amount.amount >= 0 for d in line.discounts)
        assert line.discount_total <= line.gross
        assert line.gross == line.unit_price * line.quantity or line.quantity % 1 != 0
    assert (
        sum((line.discount_total for line in out.lines), out.total - out.total)
        == out.discount_total
    )
    for line in out.lines:
        assert (
            sum((d.amount.amount for d in line.discounts), Decimal(0)) == line.discount_total.amount
        )
        assert line.gross - line.discount_total == line.net
    assert out.subtotal - out.discount_total == out.total  # no tax in this context


@QUICK
@given(basket=lines(max_lines=6), offers=discounts(max_count=6), data=st.data())
def test_line_order_never_changes_the_total(
    basket: list[PricingLine], offers: list[Discount], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(basket))
    assert priced(offers, shuffled).total == priced(offers, basket).total


@QUICK
@given(basket=lines(max_lines=6), offers=discounts(max_count=6))
def test_a_basket_priced_twice_gives_the_same_answer(
    basket: list[PricingLine], offers: list[Discount]
) -> None:
    assert priced(offers, basket) == priced(offers, basket)
    assert priced(list(reversed(offers)), basket) == priced(offers, basket)


@QUICK
@given(
    basket=lines(max_lines=4),
    offers=discounts(max_count=4, thresholds=False),
    extra=discount("NEW", thresholds=False),
)
def test_adding_a_best_price_discount_never_raises_the_price(
    basket: list[PricingLine], offers: list[Discount], extra: Discount
) -> None:
    """Within one priority and without thresholds (see docs/pricing.md for why those two are
    the exceptions: a higher priority takes units first, and a threshold sees what is left),
    where the search is exhaustive (components of up to ``Level.SMALL`` = 4 line parts; beyond,
    it follows a beam and reports ``exhaustive`` false)."""
    same = [dataclasses.replace(d, priority=0) for d in offers]
    new = dataclasses.replace(extra, priority=0, concurrency=Concurrency.BEST_PRICE)
    assert new.kind is not Kind.THRESHOLD
    assert priced([*same, new], basket).total <= priced(same, basket).total
