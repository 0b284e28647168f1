"""Edge cases a review of the first version found, each pinned so it stays fixed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from onestore.db.database import Database
from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import Money
from onestore.pricing import coupons, writes
from onestore.pricing.book import PriceBook
from onestore.pricing.definitions import parse_discount
from onestore.pricing.engine import price
from onestore.pricing.model import PricingContext, PricingLine
from onestore.pricing.settings_files import CouponIn

from .conftest import load_discounts

CTX = PricingContext("WEB", "EUR", datetime(2026, 11, 26, 12))


def line(sku: str, quantity: str, unit: str) -> PricingLine:
    return PricingLine(
        sku, sku, sku, frozenset(), Decimal(quantity), Money(Decimal(unit), "EUR"), "list price"
    )


def test_thousands_of_units_in_a_deal_are_priced_not_a_500() -> None:
    deal = parse_discount(
        {"code": "B2", "name": "2 for 5", "kind": "quantity", "concurrency": "best_price",
         "currency": "EUR", "deal": {"quantity": 2, "price": "5.00"}}
    )  # fmt: skip
    out = price(
        PriceBook.build(version=1, groups=[], prices=[], discounts=[deal]),
        [line("A", "2500", "3.00")],
        CTX,
    )
    assert out.total == Money(Decimal("6250.00"), "EUR")  # 1,250 deals of 5.00
    assert not out.search.exact  # too big to search: taken greedily, and said so


def test_a_compounded_threshold_alone_is_an_option_and_tiers_see_the_amount_before_thresholds() -> (
    None
):
    common = {"kind": "threshold", "concurrency": "compounded", "currency": "EUR"}
    five = {"min_amount": "100.00", "method": "amount", "value": "5.00"}
    pct = {"min_amount": "100.00", "method": "percent", "value": "20"}
    docs = [
        {"code": "A-FIVE", "name": "5 off 100", **common, "tiers": [five]},
        {"code": "B-PCT", "name": "20% off 100", **common, "tiers": [pct]},
    ]
    book = PriceBook.build(
        version=1, groups=[], prices=[], discounts=[parse_discount(d) for d in docs]
    )
    out = price(book, [line("A", "1", "100.00")], CTX)
    # the stack: 100 − 5 = 95, then 20 % of 95 = 19 → 76.00; 20 % alone gives 80.00
    assert out.total == Money(Decimal("76.00"), "EUR")
    codes = {a.code for a in out.lines[0].discounts}
    assert codes == {"A-FIVE", "B-PCT"}


def test_a_mix_and_match_refuses_top_level_item_rules() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_discount(
            {"code": "M", "name": "M", "kind": "mix_match", "concurrency": "best_price",
             "items": {"exclude_skus": ["GIFT"]}, "method": "least_expensive_free",
             "groups": [{"name": "A", "quantity": 3}]}
        )  # fmt: skip
    assert caught.value.errors[0].field == "items"


def test_a_cancelled_order_that_redeems_again_counts_again(shop: Database) -> None:
    load_discounts(
        shop,
        {"code": "W", "name": "W", "kind": "simple", "concurrency": "compounded",
         "coupon_required": True, "method": "percent", "value": "5"},
        coupons=[{"code": "w5", "discount": "W", "max_uses": 5}],
    )  # fmt: skip

    def step(fn):  # type: ignore[no-untyped-def]
        with shop.uow() as uow:
            out = fn(uow)
            uow.commit()
        return out

    day = date(2026, 11, 26)
    assert step(lambda uow: coupons.redeem(uow, ["W5"], order_ref="O", customer=None, day=day)) == [
        "W5"
    ]
    assert step(lambda uow: coupons.release(uow, "O")) == ["W5"]
    assert step(lambda uow: coupons.release(uow, "O")) == []  # given back once only
    assert step(lambda uow: coupons.redeem(uow, ["W5"], order_ref="O", customer=None, day=day)) == [
        "W5"
    ]
    step(lambda uow: coupons.redeem(uow, ["W5"], order_ref="P", customer=None, day=day))
    with pytest.raises(ValidationFailed) as caught:
        step(lambda uow: writes.import_coupons(uow, [CouponIn("W5", "W", max_uses=1)]))
    assert caught.value.errors[0].field == "coupons[0].max_uses"
