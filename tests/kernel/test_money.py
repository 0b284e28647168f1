"""Money: exact amounts, ISO 4217 minor units from CLDR, half-up rounding, exact allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import MAX_AMOUNT, Money, minor_units, parse_amount, validate_currency


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3)])
def test_minor_units_come_from_cldr(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits
    assert Money.zero(currency).minor_units == digits


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [("12.5", "USD", "12.50 USD"), ("1000", "JPY", "1000 JPY"), ("1.234", "KWD", "1.234 KWD")],
)
def test_of_keeps_the_exact_amount_at_the_currency_scale(
    amount: str, currency: str, expected: str
) -> None:
    money = Money.of(amount, currency)
    assert str(money) == expected
    assert money.amount == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency"), [("12.345", "USD"), ("1.5", "JPY"), ("0.0001", "KWD")]
)
def test_of_refuses_more_decimals_than_the_currency_has(amount: str, currency: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Money.of(amount, currency, field="price")
    assert caught.value.errors[0].field == "price"
    assert "decimal places" in caught.value.errors[0].reason


@pytest.mark.parametrize("bad", [0.1, 12.5, True, float("nan")])
def test_of_refuses_floats_and_bools(bad: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Money.of(bad, "USD")
    assert caught.value.errors[0].field == "amount"


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-inf", "sNaN", Decimal("NaN")])
def test_of_refuses_non_finite_amounts(bad: object) -> None:
    with pytest.raises(ValidationFailed, match="finite"):
        Money.of(bad, "USD")


@pytest.mark.parametrize("bad", ["12,50", "", "1e", "twelve", None, [1]])
def test_of_refuses_text_that_is_not_a_number(bad: object) -> None:
    with pytest.raises(ValidationFailed):
        Money.of(bad, "USD")


def test_of_refuses_amounts_beyond_the_column_range() -> None:
    assert Money.of("999999999999", "JPY").amount == MAX_AMOUNT.to_integral_value(
        rounding="ROUND_DOWN"
    )
    with pytest.raises(ValidationFailed, match="at most"):
        parse_amount(MAX_AMOUNT + 1)


@pytest.mark.parametrize("bad", ["XXY", "US", "dollars", 840, None, ""])
def test_unknown_currency_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Money.of("1", bad)
    assert caught.value.errors[0].field == "currency"
    with pytest.raises(ValidationFailed) as caught:
        Money.of("1", bad, field="unit_price")
    assert caught.value.errors[0].field == "unit_price.currency"


def test_currency_code_is_normalised() -> None:
    assert validate_currency(" usd ") == "USD"
    assert Money.of("1", "eur").currency == "EUR"


def test_constructor_refuses_float_nan_and_unknown_currency() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Money(Decimal("NaN"), "USD")
    with pytest.raises(ValueError, match="currency"):
        Money(Decimal(1), "ABC")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "USD", "2.35"),
        ("2.344", "USD", "2.34"),
        ("-2.345", "USD", "-2.35"),  # half away from zero, symmetric for refunds
        ("0.5", "JPY", "1"),
        ("1.4999", "JPY", "1"),
        ("1.0005", "KWD", "1.001"),
        ("2.675", "USD", "2.68"),  # the classic float trap: 2.675 is 2.67499.. as a float
    ],
)
def test_rounding_is_half_up(amount: str, currency: str, expected: str) -> None:
    assert Money(Decimal(amount), currency).rounded().amount == Decimal(expected)


def test_arithmetic_stays_in_one_currency() -> None:
    a, b = Money.of("10.10", "USD"), Money.of("0.20", "USD")
    assert (a + b).amount == Decimal("10.30")
    assert (a - b).amount == Decimal("9.90")
    assert (-a).amount == Decimal("-10.10")
    assert (a * 3).amount == Decimal("30.30")
    assert (3 * a).amount == Decimal("30.30")
    assert b < a and a > b and a >= a and b <= b
    with pytest.raises(ValueError, match="mismatch"):
        _ = a + Money.of("1", "EUR")
    with pytest.raises(TypeError):
        _ = a * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = a * True


def test_minor_unit_conversion() -> None:
    assert Money.of("12.34", "USD").to_minor() == 1234
    assert Money.of("1234", "JPY").to_minor() == 1234
    assert Money.from_minor(1234, "KWD").amount == Decimal("1.234")
    with pytest.raises(ValueError, match="precision"):
        Money(Decimal("1.005"), "USD").to_minor()


def test_wire_form_is_a_string_with_the_currency_decimals() -> None:
    assert Money.of("5", "USD").as_json() == {"amount": "5.00", "currency": "USD"}
    assert Money.of("5", "JPY").as_json() == {"amount": "5", "currency": "JPY"}
    assert Money.of("5", "KWD").as_json() == {"amount": "5.000", "currency": "KWD"}


def test_allocate_hands_out_remainders_deterministically() -> None:
    parts = Money.of("100.00", "USD").allocate([1, 1, 1])
    assert [p.amount for p in parts] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    parts = Money.of("10", "JPY").allocate([Decimal("0.5"), Decimal("0.25"), Decimal("0.25")])
    assert [p.amount for p in parts] == [Decimal(5), Decimal(3), Decimal(2)]
    parts = Money.of("-0.05", "USD").allocate([1, 1])
    assert [p.amount for p in parts] == [Decimal("-0.03"), Decimal("-0.02")]


def test_allocate_refuses_useless_weights() -> None:
    money = Money.of("1", "USD")
    for weights in ([], [0, 0], [1, -1]):
        with pytest.raises(ValueError):
            money.allocate(weights)


@given(
    units=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(["JPY", "USD", "KWD"]),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_allocate_parts_always_sum_to_the_whole(
    units: int, currency: str, weights: list[int]
) -> None:
    total = Money.from_minor(units, currency)
    parts = total.allocate(weights)
    assert len(parts) == len(weights)
    assert sum((p.amount for p in parts), Decimal(0)) == total.amount
    for part, weight in zip(parts, weights, strict=True):
        assert part.currency == currency
        assert part.to_minor() * (1 if units >= 0 else -1) >= 0  # no sign flips
        exact = Decimal(units) * weight / sum(weights)
        assert abs(part.to_minor() - exact) < 1  # each part within one minor unit of its share
        if weight == 0:
            assert part.to_minor() == 0
