"""Worked examples of the pricing engine, every number computed by hand from the documented rules.

Each basket is priced through ``engine.price`` with a ``PriceBook`` built from discounts written
as the JSON a merchandiser imports and read with ``definitions.parse_discount``, so these tests
pin the file format as well as the arithmetic. ``docs/pricing.md`` walks through the same
examples; the comment above each assertion is the hand calculation.

Rules used (``steps.py``, ``search.py``, ``thresholds.py``, ``tax.py``): every step is rounded
half-up to the currency's minor unit on the amount it applies to (a line, or the units of a set),
a compounded stack runs fixed prices, then amounts off, then percents off, set discounts are
shared over the set's units by their amounts (largest remainder, ties to the earliest), and
threshold discounts come last, on what the lines cost after everything else.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import Money
from onestore.pricing.book import PriceBook
from onestore.pricing.definitions import parse_discount, parse_discounts_document
from onestore.pricing.engine import price
from onestore.pricing.model import (
    PricedBasket,
    PricedLine,
    PricingContext,
    PricingLine,
    TaxRate,
    TaxRounding,
)
from onestore.pricing.price_files import parse_prices_json

AT = datetime(2026, 11, 26, 12, 0)  # a Thursday, noon (local time of the channel)
WEB = PricingContext("WEB", "EUR", AT)


# -- helpers ---------------------------------------------------------------------------------------
def cash(amount: str, currency: str = "EUR") -> Money:
    return Money(Decimal(amount), currency)


def eur(amount: str) -> Money:
    return cash(amount)


def line(
    line_id: str,
    sku: str,
    unit: str,
    quantity: str = "1",
    *,
    product: str | None = None,
    categories: tuple[str, ...] = (),
    currency: str = "EUR",
    tax_group: str | None = None,
) -> PricingLine:
    return PricingLine(
        line_id=line_id,
        sku=sku,
        product=product or sku,
        categories=frozenset(categories),
        quantity=Decimal(quantity),
        unit_price=Money(Decimal(unit), currency),
        price_source="list price",
        tax_group=tax_group,
    )


def run(
    docs: list[dict[str, Any]],
    lines: list[PricingLine],
    ctx: PricingContext = WEB,
    tax_rates: tuple[TaxRate, ...] = (),
) -> PricedBasket:
    discounts = [parse_discount(doc, f"discounts[{i}]") for i, doc in enumerate(docs)]
    book = PriceBook.build(
        version=1, groups=[], prices=[], discounts=discounts, tax_rates=tax_rates
    )
    return price(book, lines, ctx)


def by_id(basket: PricedBasket) -> dict[str, PricedLine]:
    return {p.line_id: p for p in basket.lines}


def applied(p: PricedLine) -> dict[str, Money]:
    """The discounts a line got: code -> amount, in the engine's order (priority, then code)."""
    return {a.code: a.amount for a in p.discounts}


def considered(p: PricedLine) -> dict[str, str]:
    """The discounts that were about a line but gave it nothing: code -> reason."""
    return {c.code: c.reason for c in p.considered}


def shares_add_up(basket: PricedBasket) -> None:
    """Line discounts add up to the basket's discount, line nets to its net (no lost cent)."""
    zero = Money.zero(basket.currency)
    assert sum((p.discount_total for p in basket.lines), zero) == basket.discount_total
    for p in basket.lines:
        assert sum((a.amount for a in p.discounts), zero) == p.discount_total
        assert p.gross - p.discount_total == p.net


# -- simple discounts ------------------------------------------------------------------------------
def test_simple_percent_is_rounded_once_on_the_line() -> None:
    basket = run(
        [
            {
                "code": "SHIRT15",
                "name": "Shirts 15 %",
                "kind": "simple",
                "concurrency": "best_price",
                "items": {"categories": ["shirts"]},
                "method": "percent",
                "value": "15",
            }
        ],
        [line("1", "SH-BLU-M", "19.99", "3", categories=("shirts", "tops"))],
    )
    (shirt,) = basket.lines
    # gross 19.99 × 3 = 59.97; 15 % of 59.97 = 8.9955 → 9.00 (half-up); net 59.97 − 9.00 = 50.97
    assert shirt.gross == eur("59.97")
    assert applied(shirt) == {"SHIRT15": eur("9.00")}
    assert shirt.discounts[0].quantity == Decimal(3)
    assert shirt.net == eur("50.97")
    assert considered(shirt) == {}
    assert basket.total == eur("50.97")
    shares_add_up(basket)


def test_simple_amount_off_is_per_unit() -> None:
    basket = run(
        [
            {
                "code": "MUG125",
                "name": "1.25 off every mug",
                "kind": "simple",
                "concurrency": "best_price",
                "currency": "EUR",
                "items": {"skus": ["MUG"]},
                "method": "amount",
                "value": "1.25",
            }
        ],
        [line("1", "MUG", "8.50", "4")],
    )
    (mug,) = basket.lines
    # gross 8.50 × 4 = 34.00; 1.25 × 4 units = 5.00; net 29.00
    assert applied(mug) == {"MUG125": eur("5.00")}
    assert mug.net == eur("29.00")
    assert basket.total == eur("29.00")


def test_fixed_price_and_a_fixed_price_above_the_current_price() -> None:
    fixed = {
        "code": "CAP999",
        "name": "Caps at 9.99",
        "kind": "simple",
        "concurrency": "best_price",
        "currency": "EUR",
        "items": {"skus": ["CAP"]},
        "method": "price",
        "value": "9.99",
    }
    too_high_cap = fixed | {"code": "CAP14", "name": "Caps at 14.00", "value": "14.00"}
    too_high_hat = fixed | {
        "code": "HAT14",
        "name": "Hats at 14.00",
        "items": {"skus": ["HAT"]},
        "value": "14.00",
    }
    basket = run(
        [fixed, too_high_cap, too_high_hat],
        [line("1", "CAP", "12.00", "2"), line("2", "HAT", "10.00")],
    )
    cap, hat = basket.lines
    # cap: 12.00 × 2 = 24.00; at 9.99 a unit: 24.00 − 9.99 × 2 = 24.00 − 19.98 = 4.02 off
    # CAP14 would be 24.00 − 28.00 = −4.00, which is never a discount (clamped to 0)
    assert applied(cap) == {"CAP999": eur("4.02")}
    assert cap.net == eur("19.98")
    assert considered(cap) == {"CAP14": "a lower price came from CAP999"}
    # hat: 10.00 at "14.00" would raise the price: no discount, and the reason says so
    assert applied(hat) == {}
    assert hat.net == eur("10.00")
    assert considered(hat) == {"HAT14": "gave no lower price for this basket"}
    # total 19.98 + 10.00
    assert basket.total == eur("29.98")


# -- quantity discounts ----------------------------------------------------------------------------
SOCK_TIERS = {
    "code": "SOCKS",
    "name": "Socks: 2+ 10 %, 4+ 20 %",
    "kind": "quantity",
    "concurrency": "best_price",
    "items": {"products": ["SOCK"]},
    "tiers": [
        {"min_quantity": "2", "method": "percent", "value": "10"},
        {"min_quantity": "4", "method": "percent", "value": "20"},
    ],
}


def test_quantity_tiers_count_every_line_of_the_product() -> None:
    black = line("1", "SOCK-BLK", "4.00", "2", product="SOCK")
    # tier 1: 2 black + 1 white = 3 units ≥ 2 → 10 % on every unit of both lines
    basket = run([SOCK_TIERS], [black, line("2", "SOCK-WHT", "5.00", "1", product="SOCK")])
    b, w = basket.lines
    # black 4.00 × 2 = 8.00 → 10 % = 0.80 → 7.20; white 5.00 → 10 % = 0.50 → 4.50
    assert applied(b) == {"SOCKS": eur("0.80")}
    assert applied(w) == {"SOCKS": eur("0.50")}
    assert (b.net, w.net) == (eur("7.20"), eur("4.50"))
    # 13.00 − 1.30
    assert basket.total == eur("11.70")

    # tier 2: 2 black + 2 white = 4 units ≥ 4 → 20 % on all of them
    basket = run([SOCK_TIERS], [black, line("2", "SOCK-WHT", "5.00", "2", product="SOCK")])
    b, w = basket.lines
    # black 8.00 → 20 % = 1.60 → 6.40; white 5.00 × 2 = 10.00 → 20 % = 2.00 → 8.00
    assert applied(b) == {"SOCKS": eur("1.60")}
    assert applied(w) == {"SOCKS": eur("2.00")}
    assert (b.net, w.net) == (eur("6.40"), eur("8.00"))
    # 18.00 − 3.60
    assert basket.total == eur("14.40")

    # one sock: below the first tier, and the reason names the shortfall
    basket = run([SOCK_TIERS], [line("1", "SOCK-BLK", "4.00", "1", product="SOCK")])
    (only,) = basket.lines
    assert applied(only) == {}
    assert considered(only) == {"SOCKS": "needs a quantity of at least 2; the basket has 1"}


def test_buy_3_for_10_with_7_units_gives_two_deals_and_one_full_price() -> None:
    basket = run(
        [
            {
                "code": "SOAP3",
                "name": "3 soaps for 10.00",
                "kind": "quantity",
                "concurrency": "best_price",
                "currency": "EUR",
                "items": {"skus": ["SOAP"]},
                "deal": {"quantity": 3, "price": "10.00"},
            }
        ],
        [line("1", "SOAP", "3.99", "7")],
    )
    (soap,) = basket.lines
    # gross 3.99 × 7 = 27.93. Units are split off the line by prefix: the first 3 cost
    # round(27.93 × 3 / 7) = 11.97, the first 6 round(27.93 × 6 / 7) = 23.94, so each set of 3
    # costs 11.97 and the 7th unit 27.93 − 23.94 = 3.99.
    # deal 1: 11.97 → 10.00 (1.97 off); deal 2: 11.97 → 10.00 (1.97 off); unit 7: 3.99
    assert [(a.code, a.quantity, a.amount) for a in soap.discounts] == [
        ("SOAP3", Decimal(6), eur("3.94"))
    ]
    # net 10.00 + 10.00 + 3.99
    assert soap.net == eur("23.99")
    assert basket.total == eur("23.99")


# -- mix and match ---------------------------------------------------------------------------------
def mix(code: str, name: str, groups: list[dict[str, Any]], **rule: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": "mix_match",
        "concurrency": "best_price",
        "currency": "EUR",
        "groups": groups,
        **rule,
    }


def group(name: str, quantity: int, category: str) -> dict[str, Any]:
    return {"name": name, "quantity": quantity, "items": {"categories": [category]}}


def test_mix_and_match_deal_price_shirt_and_tie_for_50() -> None:
    deal = mix(
        "SUIT50",
        "Shirt + tie for 50",
        [group("shirt", 1, "shirts"), group("tie", 1, "ties")],
        method="deal_price",
        value="50.00",
    )
    basket = run(
        [deal],
        [
            line("1", "SHIRT", "40.00", categories=("shirts",)),
            line("2", "TIE", "20.00", categories=("ties",)),
        ],
    )
    shirt, tie = basket.lines
    # set 40.00 + 20.00 = 60.00 → 50.00: 10.00 off, shared by amount over 1000 cents:
    # shirt 1000 × 40/60 = 666.67, tie 333.33 → floors 666 + 333 = 999; the last cent goes to
    # the largest remainder (shirt, .67) → shirt 6.67, tie 3.33
    assert applied(shirt) == {"SUIT50": eur("6.67")}
    assert applied(tie) == {"SUIT50": eur("3.33")}
    assert (shirt.net, tie.net) == (eur("33.33"), eur("16.67"))
    assert basket.total == eur("50.00")
    shares_add_up(basket)


def test_mix_and_match_percent_off_a_set_takes_the_dearest_units() -> None:
    offer = mix("TOPS15", "Any 2 tops 15 % off", [group("tops", 2, "tops")], method="percent")
    offer["value"] = "15"
    del offer["currency"]  # a percent needs no currency
    basket = run(
        [offer],
        [
            line("1", "T30", "30.00", categories=("tops",)),
            line("2", "T20", "20.00", categories=("tops",)),
            line("3", "T10", "10.00", categories=("tops",)),
        ],
    )
    t30, t20, t10 = basket.lines
    # one set of 2 from 3 tops: {30, 20} saves 15 % × 50 = 7.50, {30, 10} 6.00, {20, 10} 4.50
    # → {30, 20}; 7.50 shared 30:20 → 4.50 and 3.00
    assert applied(t30) == {"TOPS15": eur("4.50")}
    assert applied(t20) == {"TOPS15": eur("3.00")}
    assert applied(t10) == {}
    assert considered(t10) == {"TOPS15": "gave no lower price for this basket"}
    # 60.00 − 7.50
    assert basket.total == eur("52.50")


def test_mix_and_match_amount_off_a_set() -> None:
    offer = mix(
        "OUTFIT10",
        "Trousers + belt: 10.00 off",
        [group("trousers", 1, "trousers"), group("belt", 1, "belts")],
        method="amount",
        value="10.00",
    )
    basket = run(
        [offer],
        [
            line("1", "TROUSERS", "44.99", categories=("trousers",)),
            line("2", "BELT", "15.00", categories=("belts",)),
        ],
    )
    trousers, belt = basket.lines
    # set 59.99; 10.00 off shared 44.99:15.00 over 1000 cents: 749.96 and 250.04
    # → floors 749 + 250 = 999, last cent to the larger remainder (.96) → 7.50 and 2.50
    assert applied(trousers) == {"OUTFIT10": eur("7.50")}
    assert applied(belt) == {"OUTFIT10": eur("2.50")}
    assert (trousers.net, belt.net) == (eur("37.49"), eur("12.50"))
    assert basket.total == eur("49.99")


def test_least_expensive_free_3_for_2_pairs_expensive_items() -> None:
    offer = {
        "code": "BOOKS3FOR2",
        "name": "Books: 3 for 2",
        "kind": "mix_match",
        "concurrency": "best_price",
        "groups": [{"name": "books", "quantity": 3, "items": {"categories": ["books"]}}],
        "method": "least_expensive_free",
        "free_count": 1,
    }
    books = ("books",)
    basket = run(
        [offer],
        [
            line("1", "B50", "50.00", categories=books),
            line("2", "B40", "40.00", categories=books),
            line("3", "B30", "30.00", categories=books),
            line("4", "B20", "20.00", categories=books),
            line("5", "B10", "10.00", "2", categories=books),
        ],
    )
    b50, b40, b30, b20, b10 = basket.lines
    # 6 books make 2 sets; each set frees its cheapest book. Some set holds a 10.00 book and
    # frees 10.00; the other set's cheapest is at most the third dearest book, 30.00. So the
    # best is {50, 40, 30} (30 free) + {20, 10, 10} (10 free) = 40.00 off. Freeing "the 2
    # cheapest units of the basket" would give 10 + 10 = 20.00; the sets {50, 40, 20} +
    # {30, 10, 10} give 20 + 10 = 30.00.
    assert applied(b30) == {"BOOKS3FOR2": eur("30.00")}
    assert applied(b10) == {"BOOKS3FOR2": eur("10.00")}
    assert b10.net == eur("10.00")  # 2 × 10.00 − one free
    # the paid books of a set keep their price and carry the set's discount at 0.00: the
    # explanation says which set they paid for, and they are not listed as "considered"
    for paid in (b50, b40, b20):
        assert [(a.code, a.quantity, a.amount) for a in paid.discounts] == [
            ("BOOKS3FOR2", Decimal(1), eur("0.00"))
        ]
        assert paid.net == paid.gross
        assert considered(paid) == {}
    # 160.00 − 40.00
    assert basket.subtotal == eur("160.00")
    assert basket.discount_total == eur("40.00")
    assert basket.total == eur("120.00")
    assert basket.search.exact  # every combination of applications of the offer was tried


def test_two_group_set_takes_only_the_units_it_needs() -> None:
    offer = mix(
        "2SHIRTS1TIE",
        "2 shirts + 1 tie for 60",
        [group("shirts", 2, "shirts"), group("tie", 1, "ties")],
        method="deal_price",
        value="60.00",
    )
    basket = run(
        [offer],
        [
            line("1", "SHIRT", "25.00", "3", categories=("shirts",)),
            line("2", "TIE", "20.00", categories=("ties",)),
        ],
    )
    shirts, tie = basket.lines
    # one set (one tie): 2 shirts (the first 2 of 3 units: round(75.00 × 2/3) = 50.00) + tie
    # 20.00 = 70.00 → 60.00, 10.00 off shared 50:20 over 1000 cents: 714.29 and 285.71 → floors
    # 714 + 285, last cent to the larger remainder (tie, .71) → shirts 7.14, tie 2.86
    assert [(a.code, a.quantity, a.amount) for a in shirts.discounts] == [
        ("2SHIRTS1TIE", Decimal(2), eur("7.14"))
    ]
    assert applied(tie) == {"2SHIRTS1TIE": eur("2.86")}
    # shirts 75.00 − 7.14 = 67.86 (the third shirt pays 25.00); tie 17.14
    assert (shirts.net, tie.net) == (eur("67.86"), eur("17.14"))
    # 60.00 for the set + 25.00 for the third shirt
    assert basket.total == eur("85.00")
    shares_add_up(basket)


def test_overlapping_sets_the_search_beats_first_match_greedy() -> None:
    document = {
        "format": "onestore.discounts/1",
        "discounts": [
            mix("ANY2TOPS", "Any 2 tops for 30", [group("tops", 2, "tops")], method="deal_price")
            | {"value": "30.00"},
            mix(
                "OUTFIT",
                "Top + bottom for 35",
                [group("top", 1, "tops"), group("bottom", 1, "bottoms")],
                method="deal_price",
                value="35.00",
            ),
        ],
    }
    discounts = parse_discounts_document(document)
    book = PriceBook.build(version=1, groups=[], prices=[], discounts=discounts)
    basket = price(
        book,
        [
            line("1", "TOP", "26.00", "2", categories=("tops",)),
            line("2", "BOTTOM", "24.00", "2", categories=("bottoms",)),
        ],
        WEB,
    )
    tops, bottoms = basket.lines
    # Greedy, first offer first (and also "biggest single saving first"): ANY2TOPS on both tops
    # 52.00 → 30.00 (saves 22.00), then no top is left for OUTFIT: 30.00 + 48.00 = 78.00.
    # Best: OUTFIT twice, each 26.00 + 24.00 = 50.00 → 35.00 (saves 15.00): 70.00 (saves 30.00).
    # Each set's 15.00 is shared 26:24 → 7.80 and 7.20; two sets per line.
    assert applied(tops) == {"OUTFIT": eur("15.60")}
    assert applied(bottoms) == {"OUTFIT": eur("14.40")}
    assert (tops.net, bottoms.net) == (eur("36.40"), eur("33.60"))
    assert considered(tops) == {"ANY2TOPS": "a lower price came from OUTFIT"}
    assert considered(bottoms) == {}
    assert basket.total == eur("70.00")
    assert basket.search.exact


# -- threshold discounts ---------------------------------------------------------------------------
COAT40 = {
    "code": "COAT40",
    "name": "Coats 40 %",
    "kind": "simple",
    "concurrency": "best_price",
    "items": {"skus": ["COAT"]},
    "method": "percent",
    "value": "40",
}
SPEND100 = {
    "code": "SPEND100",
    "name": "Spend 100, get 10 off",
    "kind": "threshold",
    "concurrency": "best_price",
    "currency": "EUR",
    "tiers": [{"min_amount": "100.00", "method": "amount", "value": "10.00"}],
}


def test_threshold_sees_the_amount_after_line_discounts_saleor_17453() -> None:
    # coat 150.00 − 40 % (60.00) = 90.00. The undiscounted 150.00 would reach 100.00; the
    # amount the customer pays does not, so no threshold discount.
    basket = run([COAT40, SPEND100], [line("1", "COAT", "150.00")])
    (coat,) = basket.lines
    assert applied(coat) == {"COAT40": eur("60.00")}
    assert considered(coat) == {
        "SPEND100": "needs a qualifying amount of at least 100.00; the basket has 90.00"
    }
    assert basket.total == eur("90.00")

    # with a 20.00 scarf: 90.00 + 20.00 = 110.00 ≥ 100.00 → 10.00 off, shared 90:20 over 1000
    # cents: 818.18 and 181.82 → floors 818 + 181, last cent to the scarf (.82) → 8.18 and 1.82
    basket = run([COAT40, SPEND100], [line("1", "COAT", "150.00"), line("2", "SCARF", "20.00")])
    coat, scarf = basket.lines
    assert applied(coat) == {"COAT40": eur("60.00"), "SPEND100": eur("8.18")}
    assert applied(scarf) == {"SPEND100": eur("1.82")}
    assert (coat.net, scarf.net) == (eur("81.82"), eur("18.18"))
    # 170.00 − 60.00 − 10.00
    assert basket.total == eur("100.00")
    shares_add_up(basket)


def test_percent_threshold_with_tiers() -> None:
    tiers = {
        "code": "SPEND-TIERS",
        "name": "5 % from 100, 10 % from 200",
        "kind": "threshold",
        "concurrency": "best_price",
        "currency": "EUR",
        "tiers": [
            {"min_amount": "100.00", "method": "percent", "value": "5"},
            {"min_amount": "200.00", "method": "percent", "value": "10"},
        ],
    }
    # 199.99 reaches tier 1 only: 5 % = 9.9995 → 10.00; net 189.99
    basket = run([tiers], [line("1", "LAMP", "199.99")])
    assert applied(basket.lines[0]) == {"SPEND-TIERS": eur("10.00")}
    assert basket.total == eur("189.99")
    # 120.00 + 80.00 = 200.00 reaches tier 2: 10 % = 20.00, shared 120:80 → 12.00 and 8.00
    basket = run([tiers], [line("1", "LAMP", "120.00"), line("2", "SHADE", "80.00")])
    lamp, shade = basket.lines
    assert applied(lamp) == {"SPEND-TIERS": eur("12.00")}
    assert applied(shade) == {"SPEND-TIERS": eur("8.00")}
    assert basket.total == eur("180.00")


def test_threshold_limited_by_items() -> None:
    shoes = {
        "code": "SHOES100",
        "name": "Spend 100 on shoes, get 15 off",
        "kind": "threshold",
        "concurrency": "best_price",
        "currency": "EUR",
        "items": {"categories": ["shoes"]},
        "tiers": [{"min_amount": "100.00", "method": "amount", "value": "15.00"}],
    }
    # basket 80.00 + 40.00 = 120.00, but only the shoes count: 80.00 < 100.00
    basket = run(
        [shoes],
        [line("1", "BOOT", "80.00", categories=("shoes",)), line("2", "BAG", "40.00")],
    )
    boot, bag = basket.lines
    assert applied(boot) == {}
    assert considered(boot) == {
        "SHOES100": "needs a qualifying amount of at least 100.00; the basket has 80.00"
    }
    assert considered(bag) == {}  # the threshold is not about bags at all
    assert basket.total == eur("120.00")

    # another pair of shoes: 80.00 + 30.00 = 110.00 → 15.00 off the shoes only, shared 80:30
    # over 1500 cents: 1090.91 and 409.09 → floors 1090 + 409, last cent to .91 → 10.91, 4.09
    basket = run(
        [shoes],
        [
            line("1", "BOOT", "80.00", categories=("shoes",)),
            line("2", "BAG", "40.00"),
            line("3", "SANDAL", "30.00", categories=("shoes",)),
        ],
    )
    boot, bag, sandal = basket.lines
    assert applied(boot) == {"SHOES100": eur("10.91")}
    assert applied(bag) == {}
    assert applied(sandal) == {"SHOES100": eur("4.09")}
    # 150.00 − 15.00
    assert basket.total == eur("135.00")


def test_threshold_does_not_count_a_line_with_an_exclusive_discount() -> None:
    tv = {
        "code": "TV10",
        "name": "TVs 10 %, nothing else",
        "kind": "simple",
        "concurrency": "exclusive",
        "items": {"skus": ["TV"]},
        "method": "percent",
        "value": "10",
    }
    spend = {
        "code": "SPEND100P",
        "name": "Spend 100, get 10 %",
        "kind": "threshold",
        "concurrency": "best_price",
        "currency": "EUR",
        "tiers": [{"min_amount": "100.00", "method": "percent", "value": "10"}],
    }
    basket = run([tv, spend], [line("1", "TV", "300.00"), line("2", "CABLE", "120.00")])
    television, cable = basket.lines
    # TV 300.00 − 10 % = 270.00, exclusive: it neither counts towards nor gets the threshold.
    # The threshold counts the cable only: 120.00 ≥ 100.00 → 10 % = 12.00 → 108.00.
    # (Counting the TV would give 10 % of 390.00 = 39.00.)
    assert applied(television) == {"TV10": eur("30.00")}
    assert considered(television) == {"SPEND100P": "this line carries an exclusive discount"}
    assert applied(cable) == {"SPEND100P": eur("12.00")}
    # 270.00 + 108.00
    assert basket.total == eur("378.00")


# -- concurrency and priorities --------------------------------------------------------------------
def simple(
    code: str,
    method: str,
    value: str,
    concurrency: str,
    skus: list[str] | None = None,
    priority: int = 0,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "code": code,
        "name": code,
        "kind": "simple",
        "concurrency": concurrency,
        "priority": priority,
        "method": method,
        "value": value,
    }
    if method != "percent":
        doc["currency"] = "EUR"
    if skus:
        doc["items"] = {"skus": skus}
    return doc


STACK = [
    simple("STACK-AMT", "amount", "5.00", "compounded"),
    simple("STACK-PCT", "percent", "10", "compounded"),
]


def test_exclusive_beats_the_stack_when_bigger_and_loses_when_smaller() -> None:
    item = [line("1", "X", "100.00")]
    # the stack on 100.00: 5.00 off first → 95.00, then 10 % of 95.00 = 9.50 → 14.50 in all
    # exclusive 25 % = 25.00 > 14.50: the exclusive discount alone
    basket = run([simple("EXCL25", "percent", "25", "exclusive"), *STACK], item)
    (x,) = basket.lines
    assert applied(x) == {"EXCL25": eur("25.00")}
    assert considered(x) == {
        "STACK-AMT": "exclusive discount EXCL25 applies to these units",
        "STACK-PCT": "exclusive discount EXCL25 applies to these units",
    }
    assert x.net == eur("75.00")
    # exclusive 10 % = 10.00 < 14.50: the stack
    basket = run([simple("EXCL10", "percent", "10", "exclusive"), *STACK], item)
    (x,) = basket.lines
    assert applied(x) == {"STACK-AMT": eur("5.00"), "STACK-PCT": eur("9.50")}
    assert considered(x) == {"EXCL10": "a lower price came from STACK-AMT, STACK-PCT"}
    assert x.net == eur("85.50")


def test_best_price_against_a_compounded_stack_applied_amount_first() -> None:
    basket = run(
        [simple("BP20", "percent", "20", "best_price"), *STACK],
        [line("1", "DEAR", "100.00"), line("2", "CHEAP", "40.00")],
    )
    dear, cheap = basket.lines
    # 100.00: best price 20 % = 20.00; stack 5.00 + 10 % × 95.00 = 14.50 → best price wins
    assert applied(dear) == {"BP20": eur("20.00")}
    assert considered(dear) == {
        "STACK-AMT": "a lower price came from BP20",
        "STACK-PCT": "a lower price came from BP20",
    }
    assert dear.net == eur("80.00")
    # 40.00: best price 20 % = 8.00; stack 5.00 + 10 % × 35.00 = 8.50 → the stack wins
    # (percent first would have been 4.00 + 5.00 = 9.00: the documented order is amount first)
    assert applied(cheap) == {"STACK-AMT": eur("5.00"), "STACK-PCT": eur("3.50")}
    assert considered(cheap) == {"BP20": "a lower price came from STACK-AMT, STACK-PCT"}
    assert cheap.net == eur("31.50")
    assert basket.total == eur("111.50")


@pytest.mark.parametrize("reverse", [False, True])
def test_two_compounded_discounts_amount_then_percent_whatever_the_creation_order(
    reverse: bool,
) -> None:
    # "A-PCT" sorts before "Z-AMT" by code and may be created first or last: the order of
    # steps is still amount off, then percent off
    docs = [
        simple("A-PCT", "percent", "25", "compounded"),
        simple("Z-AMT", "amount", "10.00", "compounded"),
    ]
    basket = run(docs[::-1] if reverse else docs, [line("1", "X", "80.00")])
    (x,) = basket.lines
    # 80.00 − 10.00 = 70.00; 25 % × 70.00 = 17.50; net 52.50 (percent first: 80 − 20 − 10 = 50)
    assert applied(x) == {"A-PCT": eur("17.50"), "Z-AMT": eur("10.00")}
    assert x.net == eur("52.50")


def test_a_line_discounted_at_priority_10_is_done_for_priority_0() -> None:
    basket = run(
        [
            simple("P10", "percent", "10", "best_price", ["A"], priority=10),
            simple("P0", "percent", "30", "best_price", ["A", "B"]),
        ],
        [line("1", "A", "50.00"), line("2", "B", "50.00")],
    )
    a, b = basket.lines
    # A: priority 10 first, 10 % = 5.00; the bigger priority-0 30 % does not apply any more
    assert applied(a) == {"P10": eur("5.00")}
    assert considered(a) == {"P0": "already discounted at priority 10 (P10)"}
    # B has nothing at priority 10, so priority 0 applies: 30 % = 15.00
    assert applied(b) == {"P0": eur("15.00")}
    # 45.00 + 35.00
    assert basket.total == eur("80.00")


def test_compound_across_priorities_stacks_only_on_compounded_discounts() -> None:
    docs = [
        simple("HI-C", "percent", "10", "compounded", ["A"], priority=10),
        simple("HI-B", "percent", "10", "best_price", ["B"], priority=10),
        simple("LO-C", "amount", "5.00", "compounded", ["A", "B"]),
    ]
    lines = [line("1", "A", "100.00"), line("2", "B", "100.00")]

    # default: a line discounted at priority 10 gets nothing at priority 0
    a, b = run(docs, lines).lines
    assert applied(a) == {"HI-C": eur("10.00")}
    assert considered(a) == {"LO-C": "already discounted at priority 10 (HI-C)"}
    assert applied(b) == {"HI-B": eur("10.00")}
    assert considered(b) == {"LO-C": "already discounted at priority 10 (HI-B)"}

    # compound across priorities: A carries only compounded discounts, so LO-C stacks on top,
    # on what priority 10 left: 100.00 − 10 % = 90.00, then − 5.00 = 85.00 (priorities run top
    # down, so here the amount comes after the percent). B's best price closes it.
    basket = run(docs, lines, replace(WEB, compound_across_priorities=True))
    a, b = basket.lines
    assert applied(a) == {"HI-C": eur("10.00"), "LO-C": eur("5.00")}
    assert considered(a) == {}
    assert a.net == eur("85.00")
    assert applied(b) == {"HI-B": eur("10.00")}
    assert considered(b) == {"LO-C": "already discounted at priority 10 (HI-B)"}
    assert b.net == eur("90.00")
    assert basket.total == eur("175.00")


# -- buy X get Y: regressions seen in peers --------------------------------------------------------
def test_buy_x_get_y_with_a_fixed_amount_stays_an_amount_medusa_14934() -> None:
    offer = mix(
        "COFFEE-MUG",
        "Buy 2 coffees, get 5.00 off a mug",
        [group("buy", 2, "coffee"), group("get", 1, "mugs")],
        method="amount",
        value="5.00",
    )
    basket = run(
        [offer],
        [
            line("1", "COFFEE", "9.00", "2", categories=("coffee",)),
            line("2", "MUG", "15.00", categories=("mugs",)),
        ],
    )
    coffee, mug = basket.lines
    # one set: 18.00 + 15.00 = 33.00; 5.00 off (not 5 % = 1.65, not 500 %), shared 18:15 over
    # 500 cents: 272.73 and 227.27 → floors 272 + 227, last cent to .73 → 2.73 and 2.27
    assert applied(coffee) == {"COFFEE-MUG": eur("2.73")}
    assert applied(mug) == {"COFFEE-MUG": eur("2.27")}
    assert basket.discount_total == eur("5.00")
    assert basket.total == eur("28.00")

    # twice the goods, twice the sets: 10.00 off, each set shared as above
    basket = run(
        [offer],
        [
            line("1", "COFFEE", "9.00", "4", categories=("coffee",)),
            line("2", "MUG", "15.00", "2", categories=("mugs",)),
        ],
    )
    coffee, mug = basket.lines
    assert [(a.quantity, a.amount) for a in coffee.discounts] == [(Decimal(4), eur("5.46"))]
    assert [(a.quantity, a.amount) for a in mug.discounts] == [(Decimal(2), eur("4.54"))]
    # 36.00 + 30.00 − 10.00
    assert basket.total == eur("56.00")


@pytest.mark.parametrize(
    ("units", "free", "net"), [("5", "10.00", "40.00"), ("6", "20.00", "40.00")]
)
def test_buy_2_get_1_free_frees_one_unit_per_set_medusa_11259(
    units: str, free: str, net: str
) -> None:
    offer = {
        "code": "B2G1",
        "name": "Buy 2, get 1 free",
        "kind": "mix_match",
        "concurrency": "best_price",
        "groups": [{"name": "soap", "quantity": 3, "items": {"skus": ["SOAP"]}}],
        "method": "least_expensive_free",
    }
    basket = run([offer], [line("1", "SOAP", "10.00", units)])
    (soap,) = basket.lines
    # 5 units: one set of 3 → 1 free (10.00), 2 units at full price → 40.00
    # 6 units: two sets → 2 free (20.00) → 40.00. Never every unit free.
    assert applied(soap) == {"B2G1": eur(free)}
    assert soap.net == eur(net)
    # the discount is on the units of the sets (3 or 6), not on the whole line
    assert soap.discounts[0].quantity == 3 * (Decimal(units) // 3)


# -- currencies with 0 and 3 decimals, tax inclusive and exclusive ---------------------------------
JPY_DISCOUNTS = [
    {
        "code": "JP15",
        "name": "15 % off everything",
        "kind": "simple",
        "concurrency": "best_price",
        "method": "percent",
        "value": "15",
    },
    {
        "code": "JP-SPEND",
        "name": "Spend 3000 yen, get 1000 off",
        "kind": "threshold",
        "concurrency": "best_price",
        "currency": "JPY",
        "tiers": [{"min_amount": "3000", "method": "amount", "value": "1000"}],
    },
]


@pytest.mark.parametrize(
    ("inclusive", "rounding", "taxes", "total"),
    [
        # inclusive: tax = net × 10/110 inside the net
        # per line: 818/11 = 74.36 → 74, 626/11 = 56.91 → 57, 1585/11 = 144.09 → 144 (275)
        (True, TaxRounding.LINE, ("74", "57", "144"), "3029"),
        # per document: 3029/11 = 275.36 → 275, shared 818:626:1585 → 74.27, 56.83, 143.90
        # → floors 74 + 56 + 143 = 273, the 2 left to .90 and .83 → 74, 57, 144
        (True, TaxRounding.DOCUMENT, ("74", "57", "144"), "3029"),
        # exclusive: 10 % on top; per line 81.8 → 82, 62.6 → 63, 158.5 → 159 (304)
        (False, TaxRounding.LINE, ("82", "63", "159"), "3333"),
        # per document: 302.9 → 303, shared → 81.83, 62.62, 158.55 → floors 81 + 62 + 158 = 301,
        # the 2 left to .83 and .62 → 82, 63, 158: one yen less than line rounding
        (False, TaxRounding.DOCUMENT, ("82", "63", "158"), "3332"),
    ],
)
def test_yen_basket_percent_threshold_and_tax(
    inclusive: bool, rounding: TaxRounding, taxes: tuple[str, ...], total: str
) -> None:
    ctx = PricingContext(
        "WEB",
        "JPY",
        AT,
        jurisdiction="JP",
        prices_include_tax=inclusive,
        tax_rounding=rounding,
    )
    lines = [
        line("1", "TEA", "1280", currency="JPY", tax_group="std"),
        line("2", "CUP", "980", currency="JPY", tax_group="std"),
        line("3", "POT", "2480", currency="JPY", tax_group="std"),
    ]
    basket = run(JPY_DISCOUNTS, lines, ctx, (TaxRate("std", "JP", Decimal(10)),))
    tea, cup, pot = basket.lines
    # 15 %: 1280 → 192 off → 1088; 980 → 147 → 833; 2480 → 372 → 2108 (whole yen, no rounding)
    # threshold on 1088 + 833 + 2108 = 4029 ≥ 3000 → 1000 off, shared over 1000 yen by amount:
    # 270.04, 206.75, 523.21 → floors 270 + 206 + 523 = 999, the last yen to .75 → 270, 207, 523
    assert applied(tea) == {"JP15": cash("192", "JPY"), "JP-SPEND": cash("270", "JPY")}
    assert applied(cup) == {"JP15": cash("147", "JPY"), "JP-SPEND": cash("207", "JPY")}
    assert applied(pot) == {"JP15": cash("372", "JPY"), "JP-SPEND": cash("523", "JPY")}
    # nets 1088 − 270 = 818, 833 − 207 = 626, 2108 − 523 = 1585; sum 3029
    assert (tea.net, cup.net, pot.net) == (
        cash("818", "JPY"),
        cash("626", "JPY"),
        cash("1585", "JPY"),
    )
    assert basket.subtotal == cash("4740", "JPY")
    assert basket.discount_total == cash("1711", "JPY")  # 711 line + 1000 threshold
    assert tuple(p.tax for p in basket.lines) == tuple(cash(t, "JPY") for t in taxes)
    assert basket.tax_total == sum((cash(t, "JPY") for t in taxes), cash("0", "JPY"))
    assert basket.total == cash(total, "JPY")
    assert all(p.net.amount.as_tuple().exponent == 0 for p in basket.lines)
    shares_add_up(basket)


KWD_DISCOUNTS = [
    {
        "code": "KW75",
        "name": "7.5 % off everything",
        "kind": "simple",
        "concurrency": "best_price",
        "method": "percent",
        "value": "7.5",
    },
    {
        "code": "KW-SPEND",
        "name": "Spend 20 KWD, get 1 off",
        "kind": "threshold",
        "concurrency": "best_price",
        "currency": "KWD",
        "tiers": [{"min_amount": "20.000", "method": "amount", "value": "1.000"}],
    },
]


@pytest.mark.parametrize(
    ("inclusive", "rounding", "taxes", "total"),
    [
        # inclusive 5 %: net × 5/105 = net/21: 10.857/21 = 0.517 exactly, 8.470/21 = 0.40333
        # → 0.403; per document 19.327/21 = 0.92033 → 0.920 shared → 0.517, 0.403 as well
        (True, TaxRounding.LINE, ("0.517", "0.403"), "19.327"),
        (True, TaxRounding.DOCUMENT, ("0.517", "0.403"), "19.327"),
        # exclusive 5 % on top: 0.54285 → 0.543, 0.4235 → 0.424 (half-up): 0.967
        (False, TaxRounding.LINE, ("0.543", "0.424"), "20.294"),
        # per document: 19.327 × 5 % = 0.96635 → 0.966, shared 10.857:8.470 → 542.65 and
        # 423.35 fils → floors 542 + 423 = 965, the last fils to .65 → 0.543 and 0.423
        (False, TaxRounding.DOCUMENT, ("0.543", "0.423"), "20.293"),
    ],
)
def test_three_decimal_basket_percent_threshold_and_tax(
    inclusive: bool, rounding: TaxRounding, taxes: tuple[str, ...], total: str
) -> None:
    ctx = PricingContext(
        "WEB",
        "KWD",
        AT,
        jurisdiction="KW",
        prices_include_tax=inclusive,
        tax_rounding=rounding,
    )
    lines = [
        line("1", "OUD", "12.345", currency="KWD", tax_group="std"),
        line("2", "SOAP", "3.210", "3", currency="KWD", tax_group="std"),
    ]
    basket = run(KWD_DISCOUNTS, lines, ctx, (TaxRate("std", "KW", Decimal(5)),))
    oud, soap = basket.lines
    # 7.5 %: 12.345 × 0.075 = 0.925875 → 0.926 → 11.419; 3.210 × 3 = 9.630 × 0.075 = 0.72225
    # → 0.722 → 8.908. Threshold on 11.419 + 8.908 = 20.327 ≥ 20.000 → 1.000 off, shared over
    # 1000 fils: 561.77 and 438.23 → floors 561 + 438 = 999, last fils to .77 → 0.562, 0.438
    assert applied(oud) == {"KW75": cash("0.926", "KWD"), "KW-SPEND": cash("0.562", "KWD")}
    assert applied(soap) == {"KW75": cash("0.722", "KWD"), "KW-SPEND": cash("0.438", "KWD")}
    # nets 11.419 − 0.562 = 10.857 and 8.908 − 0.438 = 8.470; sum 19.327
    assert (oud.net, soap.net) == (cash("10.857", "KWD"), cash("8.470", "KWD"))
    assert basket.discount_total == cash("2.648", "KWD")  # 21.975 − 19.327
    assert tuple(p.tax for p in basket.lines) == tuple(cash(t, "KWD") for t in taxes)
    assert basket.total == cash(total, "KWD")
    shares_add_up(basket)


# -- scope: why a discount did not apply -----------------------------------------------------------
SCOPED = [
    simple("CH-POS", "percent", "10", "best_price") | {"scope": {"channels": ["POS"]}},
    simple("DEC", "percent", "10", "best_price") | {"scope": {"valid_from": "2026-12-01"}},
    simple("OCT", "percent", "10", "best_price")
    | {"scope": {"valid_from": "2026-10-01", "valid_to": "2026-10-31"}},
    simple("EVENING", "percent", "10", "best_price")
    | {"scope": {"start_time": "17:00", "end_time": "19:00"}},
    simple("WEEKEND", "percent", "10", "best_price") | {"scope": {"weekdays": ["sat", "sun"]}},
    simple("COUPON5", "amount", "5.00", "best_price") | {"coupon_required": True},
    simple("STAFF", "percent", "30", "best_price") | {"scope": {"customer_groups": ["staff"]}},
]


def test_scope_reasons_are_listed_in_considered() -> None:
    basket = run(SCOPED, [line("1", "GIFT", "20.00")])
    (gift,) = basket.lines
    # Thursday 26 November 2026, 12:00, on WEB, no coupon, no customer group: nothing applies
    assert applied(gift) == {}
    assert gift.net == eur("20.00")
    assert considered(gift) == {
        "CH-POS": "not offered on channel WEB",
        "COUPON5": "needs its coupon code",
        "DEC": "starts 2026-12-01",
        "EVENING": "only 17:00–19:00",
        "OCT": "ended 2026-10-31",
        "STAFF": "for customer groups staff",
        "WEEKEND": "not offered on Thursday",
    }
    assert [c.code for c in gift.considered] == sorted(considered(gift))  # by code


def test_scope_opens_with_the_coupon_and_the_customer_group() -> None:
    ctx = replace(WEB, coupon_discounts=frozenset({"COUPON5"}))
    (gift,) = run(SCOPED, [line("1", "GIFT", "20.00")], ctx).lines
    # the coupon unlocks 5.00 off: 15.00
    assert applied(gift) == {"COUPON5": eur("5.00")}
    assert gift.net == eur("15.00")
    ctx = replace(ctx, affiliations=frozenset({"staff"}), at=datetime(2026, 12, 5, 18, 30))
    (gift,) = run(SCOPED, [line("1", "GIFT", "20.00")], ctx).lines
    # Saturday 5 December, 18:30: DEC, EVENING, WEEKEND (10 % = 2.00), COUPON5 (5.00) and STAFF
    # (30 % = 6.00) are all in scope; best price: STAFF alone, 20.00 − 6.00 = 14.00
    assert applied(gift) == {"STAFF": eur("6.00")}
    assert gift.net == eur("14.00")
    assert considered(gift)["CH-POS"] == "not offered on channel WEB"
    assert considered(gift)["OCT"] == "ended 2026-10-31"
    for code in ("COUPON5", "DEC", "EVENING", "WEEKEND"):
        assert considered(gift)[code] == "a lower price came from STAFF"


# -- price resolution ------------------------------------------------------------------------------
PRICES = {
    "format": "onestore.prices/1",
    "price_groups": [
        {"code": "WEBPRICE", "name": "Web prices", "channels": ["WEB"]},
        {"code": "GOLD", "name": "Gold members", "loyalty_tiers": ["gold"]},
        {"code": "STAFF", "name": "Staff", "priority": 10, "customer_groups": ["staff"]},
    ],
    "prices": [
        {"group": "WEBPRICE", "sku": "TS-BLK-M", "amount": "19.00", "currency": "EUR"},
        {"group": "GOLD", "sku": "TS-BLK-M", "amount": "17.50", "currency": "EUR"},
        {"group": "STAFF", "sku": "TS-BLK-M", "amount": "18.00", "currency": "EUR"},
        {
            "group": "WEBPRICE",
            "sku": "TS-BLK-M",
            "amount": "15.00",
            "currency": "USD",
            "valid_from": "2026-12-01",
        },
    ],
}


@pytest.mark.parametrize(
    ("ctx", "expected", "source"),
    [
        # only WEBPRICE applies on WEB: 19.00 (list price 20.00 is not used)
        (WEB, "19.00", "price group WEBPRICE"),
        # WEBPRICE 19.00 and GOLD 17.50 at the same priority 0: the lower price
        (replace(WEB, loyalty_tier="gold"), "17.50", "price group GOLD"),
        # STAFF has priority 10: it decides, although GOLD is lower
        (
            replace(WEB, loyalty_tier="gold", affiliations=frozenset({"staff"})),
            "18.00",
            "price group STAFF",
        ),
        # on POS no group applies: the list price
        (PricingContext("POS", "EUR", AT), "20.00", "list price"),
    ],
)
def test_price_resolution(ctx: PricingContext, expected: str, source: str) -> None:
    data = parse_prices_json(PRICES)
    book = PriceBook.build(version=1, groups=data.groups, prices=data.prices, discounts=[])
    found = book.resolve_price(
        "TS-BLK-M", eur("20.00"), ctx, book.applicable_groups(ctx), field="lines[0].sku"
    )
    assert found == (eur(expected), source)


def test_price_resolution_without_a_price_in_the_sale_currency() -> None:
    data = parse_prices_json(PRICES)
    book = PriceBook.build(version=1, groups=data.groups, prices=data.prices, discounts=[])
    # the USD web price starts on 1 December; the list price is in EUR: no price in USD
    ctx = PricingContext("WEB", "USD", AT)
    with pytest.raises(ValidationFailed) as caught:
        book.resolve_price(
            "TS-BLK-M", eur("20.00"), ctx, book.applicable_groups(ctx), field="lines[0].sku"
        )
    assert "has no price in USD" in str(caught.value)
    ctx = PricingContext("WEB", "USD", datetime(2026, 12, 1, 9))
    found = book.resolve_price(
        "TS-BLK-M", eur("20.00"), ctx, book.applicable_groups(ctx), field="lines[0].sku"
    )
    assert found == (Money(Decimal("15.00"), "USD"), "price group WEBPRICE")
