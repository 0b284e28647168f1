"""Tax: which rate applies (most specific jurisdiction, dates, overlaps) and how much tax each
line carries, inclusive and exclusive, rounded per line or per document. Pure; no database."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import Money, minor_units
from onestore.pricing.model import TaxRate, TaxRounding
from onestore.pricing.tax import LineTax, compute_taxes, rate_for

DAY = date(2026, 3, 15)


def m(amount: str, currency: str = "EUR") -> Money:
    return Money.of(amount, currency)


def taxes(
    nets: list[Money],
    rate: str,
    *,
    inclusive: bool,
    rounding: TaxRounding = TaxRounding.LINE,
) -> list[Money]:
    rates = [TaxRate("std", "XX", Decimal(rate))]
    lines = compute_taxes(
        nets,
        ["std"] * len(nets),
        rates,
        jurisdiction="XX",
        day=DAY,
        prices_include_tax=inclusive,
        rounding=rounding,
    )
    assert all(line.rate == Decimal(rate) for line in lines)
    return [line.tax for line in lines]


# -- amounts: inclusive and exclusive, for 0, 2 and 3 decimal currencies ----------------------


@pytest.mark.parametrize(
    ("net", "currency", "rate", "inclusive", "expected"),
    [
        ("10.00", "EUR", "20", True, "1.67"),  # 10 × 20 / 120 = 1.6666…
        ("10.00", "EUR", "20", False, "2.00"),
        ("0.50", "EUR", "5", False, "0.03"),  # 0.025: half-up, not half-even (0.02)
        ("1.05", "EUR", "5", True, "0.05"),
        ("1000", "JPY", "10", True, "91"),  # 90.909…
        ("1234", "JPY", "8", False, "99"),  # 98.72
        ("50", "JPY", "7", False, "4"),  # 3.5 → 4
        ("1.000", "KWD", "5", True, "0.048"),  # 0.047619…
        ("12.345", "KWD", "5", False, "0.617"),  # 0.61725
        ("0.010", "KWD", "5", False, "0.001"),  # 0.0005 → 0.001
        ("7.700", "BHD", "10", True, "0.700"),  # 7.7 × 10 / 110 exactly
        ("0.00", "EUR", "19", False, "0.00"),
    ],
)
def test_one_line_inclusive_and_exclusive(
    net: str, currency: str, rate: str, inclusive: bool, expected: str
) -> None:
    (tax,) = taxes([m(net, currency)], rate, inclusive=inclusive)
    assert tax == m(expected, currency)
    assert tax.amount.as_tuple().exponent == -minor_units(currency)


def test_zero_rate_gives_a_rate_and_no_tax() -> None:
    (line,) = compute_taxes(
        [m("9.99")],
        ["zero"],
        [TaxRate("zero", "GB", Decimal(0))],
        jurisdiction="GB",
        day=DAY,
        prices_include_tax=True,
        rounding=TaxRounding.LINE,
    )
    assert line == LineTax(Decimal(0), m("0.00"))


# -- line vs document rounding --------------------------------------------------------------


def test_line_and_document_rounding_differ_by_a_cent() -> None:
    nets = [m("0.99")] * 3
    line = taxes(nets, "19", inclusive=False, rounding=TaxRounding.LINE)
    document = taxes(nets, "19", inclusive=False, rounding=TaxRounding.DOCUMENT)
    assert line == [m("0.19")] * 3  # 0.1881 each
    assert sum((t.amount for t in line), Decimal(0)) == Decimal("0.57")
    assert document == [m("0.19"), m("0.19"), m("0.18")]  # 2.97 × 19 % = 0.5643 → 0.56
    assert sum((t.amount for t in document), Decimal(0)) == Decimal("0.56")


def test_document_rounding_inclusive_jpy_and_kwd() -> None:
    # 3 × 100 JPY inclusive of 10 %: per line 9.09 → 9 each (27); per document 27.27 → 27
    assert (
        taxes([m("100", "JPY")] * 3, "10", inclusive=True, rounding=TaxRounding.DOCUMENT)
        == [m("9", "JPY")] * 3
    )
    # 3 × 0.105 KWD inclusive of 5 %: 0.005 each → 0.005; 0.015 in all
    nets = [m("0.105", "KWD")] * 3
    assert (
        taxes(nets, "5", inclusive=True, rounding=TaxRounding.DOCUMENT) == [m("0.005", "KWD")] * 3
    )
    # 0.0105 + 0.0105 KWD on top: per line 0.011 + 0.011, per document 0.021
    two = [m("0.210", "KWD")] * 2
    assert taxes(two, "5", inclusive=False) == [m("0.011", "KWD")] * 2
    assert taxes(two, "5", inclusive=False, rounding=TaxRounding.DOCUMENT) == [
        m("0.011", "KWD"),
        m("0.010", "KWD"),
    ]


def test_document_rounding_is_per_rate_and_weighted_by_net() -> None:
    rates = [TaxRate("std", "DE", Decimal(19)), TaxRate("red", "DE", Decimal(7))]
    lines = compute_taxes(
        [m("0.99"), m("10.00"), m("0.99"), m("0.99"), m("3.00")],
        ["std", "red", "std", "std", None],
        rates,
        jurisdiction="DE",
        day=DAY,
        prices_include_tax=False,
        rounding=TaxRounding.DOCUMENT,
    )
    assert [line.rate for line in lines] == [
        Decimal(19),
        Decimal(7),
        Decimal(19),
        Decimal(19),
        None,
    ]
    assert [line.tax for line in lines] == [m("0.19"), m("0.70"), m("0.19"), m("0.18"), m("0.00")]


def test_a_document_share_can_move_a_line_off_its_exact_tax() -> None:
    # 1.00 at 19 % is exactly 0.19, yet per document it shows 0.18: the rate's total
    # 1.18 × 19 % = 0.2242 → 0.22 is shared by net: 1.68 + 1.68 + 18.64 cents, floored to
    # 1 + 1 + 18, and the two leftover cents go to the largest remainders, the small lines.
    nets = [m("0.09"), m("0.09"), m("1.00")]
    assert taxes(nets, "19", inclusive=False) == [m("0.02"), m("0.02"), m("0.19")]
    assert taxes(nets, "19", inclusive=False, rounding=TaxRounding.DOCUMENT) == [
        m("0.02"),
        m("0.02"),
        m("0.18"),
    ]


def test_document_rounding_with_all_zero_nets() -> None:
    nets = [m("0.00"), m("0.00")]
    assert taxes(nets, "19", inclusive=True, rounding=TaxRounding.DOCUMENT) == [m("0.00")] * 2


# -- returns ----------------------------------------------------------------------------------


def test_negative_nets_mirror_the_sale() -> None:
    nets = [m("-0.99")] * 3
    assert taxes(nets, "19", inclusive=False) == [m("-0.19")] * 3
    assert taxes(nets, "19", inclusive=False, rounding=TaxRounding.DOCUMENT) == [
        m("-0.19"),
        m("-0.19"),
        m("-0.18"),
    ]
    assert taxes([m("-0.50")], "5", inclusive=False) == [m("-0.03")]  # ties away from zero
    assert taxes([m("-1000", "JPY")], "10", inclusive=True) == [m("-91", "JPY")]


def test_mixed_signs_at_one_rate_fall_back_to_line_rounding() -> None:
    nets = [m("0.99"), m("-0.99"), m("0.99")]
    assert taxes(nets, "19", inclusive=False, rounding=TaxRounding.DOCUMENT) == [
        m("0.19"),
        m("-0.19"),
        m("0.19"),
    ]


# -- which rate -------------------------------------------------------------------------------


def test_most_specific_jurisdiction_wins() -> None:
    rates = [
        TaxRate("goods", "US", Decimal("5")),
        TaxRate("goods", "US-CA", Decimal("7.25")),
        TaxRate("food", "US", Decimal("0")),
    ]
    assert rate_for(rates, "goods", "US-CA", DAY) == Decimal("7.25")
    assert rate_for(rates, "goods", "us-ca", DAY) == Decimal("7.25")
    assert rate_for(rates, "goods", "US-NY", DAY) == Decimal("5")  # falls back to the country
    assert rate_for(rates, "goods", "US", DAY) == Decimal("5")
    assert rate_for(rates, "food", "US-CA", DAY) == Decimal("0")
    assert rate_for(rates, "goods", "FR", DAY) is None


def test_rates_count_only_inside_their_inclusive_dates() -> None:
    rates = [
        TaxRate("std", "DE", Decimal(16), date(2020, 7, 1), date(2020, 12, 31)),
        TaxRate("std", "DE", Decimal(19), date(2021, 1, 1), None),
        TaxRate("std", "DE", Decimal(19), None, date(2020, 6, 30)),
    ]
    assert rate_for(rates, "std", "DE", date(2020, 6, 30)) == Decimal(19)
    assert rate_for(rates, "std", "DE", date(2020, 7, 1)) == Decimal(16)
    assert rate_for(rates, "std", "DE", date(2020, 12, 31)) == Decimal(16)
    assert rate_for(rates, "std", "DE", date(2021, 1, 1)) == Decimal(19)
    # a subdivision rate not yet in force leaves the country's rate in charge
    later = [TaxRate("goods", "US", Decimal(5)), TaxRate("goods", "US-CA", Decimal(7), DAY)]
    assert rate_for(later, "goods", "US-CA", date(2026, 3, 14)) == Decimal(5)
    assert rate_for(later, "goods", "US-CA", DAY) == Decimal(7)


def test_overlapping_rates_are_a_data_error_naming_tax_rates() -> None:
    rates = [
        TaxRate("std", "FR", Decimal(20), date(2026, 1, 1)),
        TaxRate("std", "FR", Decimal(21), date(2026, 3, 1), date(2026, 3, 31)),
    ]
    assert rate_for(rates, "std", "FR", date(2026, 2, 1)) == Decimal(20)  # no overlap that day
    with pytest.raises(ValidationFailed) as caught:
        rate_for(rates, "std", "FR", DAY)
    (error,) = caught.value.errors
    assert error.field == "tax_rates"
    assert "overlap" in error.reason and "'std'" in error.reason
    with pytest.raises(ValidationFailed):
        compute_taxes(
            [m("1.00")],
            ["std"],
            rates,
            jurisdiction="FR",
            day=DAY,
            prices_include_tax=True,
            rounding=TaxRounding.LINE,
        )


@pytest.mark.parametrize(("group", "jurisdiction"), [(None, "FR"), ("std", None), ("misc", "FR")])
def test_no_group_no_jurisdiction_or_no_rate_means_no_tax(
    group: str | None, jurisdiction: str | None
) -> None:
    rates = [TaxRate("std", "FR", Decimal(20))]
    assert rate_for(rates, group, jurisdiction, DAY) is None
    for rounding in TaxRounding:
        (line,) = compute_taxes(
            [m("12.00")],
            [group],
            rates,
            jurisdiction=jurisdiction,
            day=DAY,
            prices_include_tax=False,
            rounding=rounding,
        )
        assert line == LineTax(None, m("0.00"))


# -- misuse -----------------------------------------------------------------------------------


def test_nets_must_share_one_currency_and_match_the_groups() -> None:
    def run(nets: list[Money], groups: list[str | None]) -> list[LineTax]:
        return compute_taxes(
            nets,
            groups,
            [],
            jurisdiction="FR",
            day=DAY,
            prices_include_tax=True,
            rounding=TaxRounding.DOCUMENT,
        )

    with pytest.raises(ValueError, match="one currency"):
        run([m("1.00"), m("1.00", "USD")], [None, None])
    with pytest.raises(ValueError, match="tax groups"):
        run([m("1.00")], [])
    assert run([], []) == []


# -- property: document rounding adds up -----------------------------------------------------

RATES = ["0", "5.5", "7", "19", "20", "21"]
RATE_TABLE = [TaxRate(f"g{r}", "EU", Decimal(r)) for r in RATES]


@given(
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
    lines=st.lists(
        st.tuples(st.integers(0, 10**7), st.sampled_from(RATES)), min_size=1, max_size=12
    ),
    sign=st.sampled_from([1, -1]),
    inclusive=st.booleans(),
)
def test_document_line_taxes_sum_to_the_rounded_rate_total(
    currency: str, lines: list[tuple[int, str]], sign: int, inclusive: bool
) -> None:
    nets = [Money.from_minor(sign * units, currency) for units, _ in lines]
    result = compute_taxes(
        nets,
        [f"g{rate}" for _, rate in lines],
        RATE_TABLE,
        jurisdiction="EU",
        day=DAY,
        prices_include_tax=inclusive,
        rounding=TaxRounding.DOCUMENT,
    )
    per_rate: dict[Decimal, list[int]] = defaultdict(list)
    for i, (_, rate) in enumerate(lines):
        per_rate[Decimal(rate)].append(i)
    for rate, indexes in per_rate.items():
        net_sum = sum((nets[i].amount for i in indexes), Decimal(0))
        exact = net_sum * rate / (100 + rate if inclusive else 100)
        expected = Money(exact, currency).rounded()
        assert sum((result[i].tax for i in indexes), Money.zero(currency)) == expected
        for i in indexes:
            assert result[i].rate == rate
            # allocate's part is within one unit of the proportional share of the *rounded*
            # total, which is within half a unit of the line's exact tax: so under 1.5 units
            # (not 1: see test_a_document_share_can_move_a_line_off_its_exact_tax)
            line_exact = nets[i].amount * rate / (100 + rate if inclusive else 100)
            gap = abs(result[i].tax.amount - line_exact)
            assert gap < Decimal("1.5").scaleb(-minor_units(currency))
            assert result[i].tax.amount * sign >= 0


@given(
    cents=st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=10),
    rate=st.sampled_from(RATES),
)
def test_mixed_or_not_every_line_is_within_a_cent(cents: list[int], rate: str) -> None:
    nets = [Money.from_minor(c, "EUR") for c in cents]
    line = taxes(nets, rate, inclusive=False, rounding=TaxRounding.LINE)
    document = taxes(nets, rate, inclusive=False, rounding=TaxRounding.DOCUMENT)
    mixed = any(c > 0 for c in cents) and any(c < 0 for c in cents)
    if mixed:
        assert document == line
    for a, b in zip(line, document, strict=True):
        assert abs(a.amount - b.amount) <= Decimal("0.01")
