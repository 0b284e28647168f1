"""Discount documents: JSON to Discount and back, and every refusal naming its field. Pure."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onestore.kernel.errors import ValidationFailed
from onestore.pricing.definitions import (
    FORMAT,
    discount_to_json,
    parse_discount,
    parse_discounts_document,
)
from onestore.pricing.model import (
    Concurrency,
    Discount,
    ItemFilter,
    Kind,
    Method,
    MixMatchGroup,
    QuantityTier,
    Scope,
    ThresholdTier,
)

TOPS = ItemFilter(categories=frozenset({"TOPS"}), exclude_skus=frozenset({"TS-RED-S"}))


def doc(**fields: Any) -> dict[str, Any]:
    """A valid simple discount, with ``fields`` replacing or adding keys (None removes one)."""
    base: dict[str, Any] = {
        "code": "SUMMER10",
        "name": "Summer 10%",
        "kind": "simple",
        "concurrency": "best_price",
        "method": "percent",
        "value": "10",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def quantity(**fields: Any) -> dict[str, Any]:
    return doc(**{"kind": "quantity", "method": None, "value": None, "currency": "EUR", **fields})


def mix(**fields: Any) -> dict[str, Any]:
    groups = [{"name": "A", "quantity": 2}, {"name": "B", "quantity": 1}]
    values = {"groups": groups, "method": "deal_price", "value": "25.00", **fields}
    return doc(**{"kind": "mix_match", "currency": "EUR", **values})


def threshold(**fields: Any) -> dict[str, Any]:
    tiers = [{"min_amount": "100.00", "method": "amount", "value": "10.00"}]
    base = {"kind": "threshold", "method": None, "value": None, "currency": "EUR", "tiers": tiers}
    return doc(**{**base, **fields})


def tier(minimum: str, method: str = "percent", value: str = "10") -> dict[str, str]:
    return {"min_quantity": minimum, "method": method, "value": value}


def spend(minimum: str, method: str = "percent", value: str = "10") -> dict[str, str]:
    return {"min_amount": minimum, "method": method, "value": value}


def errors(raw: Any) -> dict[str, str]:
    """The refusals of ``raw`` as a one-discount file: {field path: reason}."""
    with pytest.raises(ValidationFailed) as caught:
        parse_discounts_document({"format": FORMAT, "discounts": [doc(code="OK"), raw]})
    return {e.field: e.reason for e in caught.value.errors}


def refused(raw: Any, field: str) -> str:
    """The reason ``raw`` (as ``discounts[1]``) is refused at ``field``, the only error."""
    found = errors(raw)
    assert list(found) == [f"discounts[1].{field}"], found
    return found[f"discounts[1].{field}"]


# -- round trips ----------------------------------------------------------------------------------
SCOPE = Scope(
    channels=frozenset({"WEB", "POS"}),
    stores=frozenset({"S001"}),
    affiliations=frozenset({"staff"}),
    loyalty_tiers=frozenset({"gold"}),
    valid_from=date(2026, 12, 1),
    valid_to=date(2026, 12, 31),
    weekdays=frozenset({0, 1, 6}),
    start_time=time(22, 0),
    end_time=time(2, 0),
)

EXAMPLES = [
    Discount(
        "S1", "Ten percent", Kind.SIMPLE, Concurrency.BEST_PRICE, 10, SCOPE, TOPS, value=Decimal(10)
    ),
    Discount(
        "S2",
        "Two off",
        Kind.SIMPLE,
        Concurrency.COMPOUNDED,
        -5,
        method=Method.AMOUNT,
        value=Decimal("2.00"),
        currency="EUR",
        coupon_required=True,
    ),
    Discount(
        "S3",
        "Yen price",
        Kind.SIMPLE,
        Concurrency.EXCLUSIVE,
        0,
        method=Method.PRICE,
        value=Decimal(500),
        currency="JPY",
    ),
    Discount(
        "Q1",
        "More is cheaper",
        Kind.QUANTITY,
        Concurrency.BEST_PRICE,
        items=TOPS,
        tiers=(
            QuantityTier(Decimal(2), Method.PERCENT, Decimal(10)),
            QuantityTier(Decimal("2.5"), Method.AMOUNT, Decimal("0.50")),
            QuantityTier(Decimal(5), Method.PRICE, Decimal("7.50")),
        ),
        currency="EUR",
    ),
    Discount(
        "Q2",
        "Three for ten",
        Kind.QUANTITY,
        Concurrency.EXCLUSIVE,
        items=TOPS,
        method=Method.DEAL_PRICE,
        value=Decimal("10.00"),
        groups=(MixMatchGroup("deal", TOPS, 3),),
        currency="EUR",
    ),
    Discount(
        "M1",
        "Shirt and tie",
        Kind.MIX_MATCH,
        Concurrency.BEST_PRICE,
        method=Method.DEAL_PRICE,
        value=Decimal("25.00"),
        groups=(
            MixMatchGroup("A", ItemFilter(categories=frozenset({"SHIRTS"})), 2),
            MixMatchGroup("B", ItemFilter(skus=frozenset({"TIE-1", "TIE-2"})), 1),
        ),
        max_applications=2,
        currency="EUR",
    ),
    Discount(
        "M2",
        "Any three, 15% off",
        Kind.MIX_MATCH,
        Concurrency.COMPOUNDED,
        method=Method.PERCENT,
        value=Decimal("15"),
        groups=(MixMatchGroup("any", ItemFilter(), 3),),
    ),
    Discount(
        "M3",
        "Five off the set",
        Kind.MIX_MATCH,
        Concurrency.BEST_PRICE,
        method=Method.AMOUNT,
        value=Decimal("5.00"),
        groups=(MixMatchGroup("A", TOPS, 2),),
        currency="USD",
    ),
    Discount(
        "M4",
        "Three for two",
        Kind.MIX_MATCH,
        Concurrency.BEST_PRICE,
        method=Method.LEAST_EXPENSIVE_FREE,
        groups=(MixMatchGroup("A", TOPS, 3),),
        free_count=1,
    ),
    Discount(
        "T1",
        "Spend more, save more",
        Kind.THRESHOLD,
        Concurrency.COMPOUNDED,
        items=ItemFilter(exclude_categories=frozenset({"GIFT-CARDS"})),
        threshold_tiers=(
            ThresholdTier(Decimal("100.00"), Method.AMOUNT, Decimal("10.00")),
            ThresholdTier(Decimal("200.00"), Method.PERCENT, Decimal("10")),
        ),
        currency="EUR",
    ),
]


@pytest.mark.parametrize("discount", EXAMPLES, ids=lambda d: d.code)
def test_every_kind_round_trips(discount: Discount) -> None:
    assert parse_discount(discount_to_json(discount)) == discount


def test_the_document_shape_is_the_documented_one() -> None:
    written = discount_to_json(EXAMPLES[0])
    assert written == {
        "code": "S1",
        "name": "Ten percent",
        "kind": "simple",
        "concurrency": "best_price",
        "priority": 10,
        "currency": None,
        "coupon_required": False,
        "scope": {
            "channels": ["POS", "WEB"],
            "stores": ["S001"],
            "customer_groups": ["staff"],
            "loyalty_tiers": ["gold"],
            "valid_from": "2026-12-01",
            "valid_to": "2026-12-31",
            "weekdays": ["mon", "tue", "sun"],
            "start_time": "22:00",
            "end_time": "02:00",
        },
        "items": {
            "skus": [],
            "products": [],
            "categories": ["TOPS"],
            "exclude_skus": ["TS-RED-S"],
            "exclude_products": [],
            "exclude_categories": [],
        },
        "method": "percent",
        "value": "10",
    }


def test_a_deal_is_a_one_group_set_of_the_discounts_items_and_written_back_as_a_deal() -> None:
    raw = quantity(items={"categories": ["TOPS"]}, deal={"quantity": 3, "price": "10"})
    discount = parse_discount(raw)
    assert discount.method is Method.DEAL_PRICE
    assert discount.value == Decimal("10.00")
    assert discount.groups == (
        MixMatchGroup("deal", ItemFilter(categories=frozenset({"TOPS"})), 3),
    )
    written = discount_to_json(discount)
    assert written["deal"] == {"quantity": 3, "price": "10.00"}
    assert "tiers" not in written and "groups" not in written and "method" not in written


def test_a_least_expensive_free_writes_free_count_not_value() -> None:
    written = discount_to_json(EXAMPLES[8])
    assert written["free_count"] == 1 and "value" not in written
    assert written["max_applications"] is None


def test_defaults_and_normalisation() -> None:
    discount = parse_discount(
        doc(
            name="  Summer  ",
            method="amount",
            value=Decimal("2.5"),  # a strict JSON parser's number
            currency="eur",
            scope={"weekdays": [], "channels": None, "valid_to": None},
            items={},
        )
    )
    assert discount.name == "Summer"
    assert discount.priority == 0 and discount.coupon_required is False
    assert discount.currency == "EUR" and discount.value == Decimal("2.50")
    assert str(discount.value) == "2.50"
    assert discount.scope == Scope() and discount.items == ItemFilter()


def test_a_threshold_may_exclude_items() -> None:
    discount = parse_discount(threshold(items={"exclude_categories": ["GIFT-CARDS"]}))
    assert discount.items.exclude_categories == {"GIFT-CARDS"}
    assert discount.threshold_tiers == (
        ThresholdTier(Decimal("100.00"), Method.AMOUNT, Decimal("10.00")),
    )


def test_a_document_gives_every_discount_in_order() -> None:
    found = parse_discounts_document(
        {"format": FORMAT, "discounts": [discount_to_json(d) for d in EXAMPLES]}
    )
    assert found == EXAMPLES
    assert parse_discounts_document({"format": FORMAT, "discounts": []}) == []


codes = st.frozensets(st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True), max_size=3)


@given(
    channels=codes,
    groups=codes,
    weekdays=st.frozensets(st.integers(0, 6)),
    days=st.lists(st.dates(date(2000, 1, 1), date(2100, 1, 1)), min_size=2, max_size=2),
    items=st.tuples(codes, codes, codes),
    percent=st.decimals(min_value=Decimal("0.01"), max_value=100, places=2),
)
def test_scopes_items_and_values_round_trip(
    channels: frozenset[str],
    groups: frozenset[str],
    weekdays: frozenset[int],
    days: list[date],
    items: tuple[frozenset[str], frozenset[str], frozenset[str]],
    percent: Decimal,
) -> None:
    start, end = sorted(days)
    scope = Scope(
        channels=channels, affiliations=groups, weekdays=weekdays, valid_from=start, valid_to=end
    )
    discount = Discount(
        "P",
        "P",
        Kind.SIMPLE,
        Concurrency.BEST_PRICE,
        scope=scope,
        items=ItemFilter(skus=items[0], exclude_products=items[1], categories=items[2]),
        value=percent,
    )
    assert parse_discount(discount_to_json(discount)) == discount


# -- refusals: identity and shape -----------------------------------------------------------------
def test_kind_concurrency_and_method_must_be_known() -> None:
    assert errors(doc(kind="bogo", concurrency="best", method="half")) == {
        "discounts[1].kind": (
            "unknown kind 'bogo'; use one of simple, quantity, mix_match, threshold"
        ),
        "discounts[1].concurrency": (
            "unknown concurrency 'best'; use one of exclusive, best_price, compounded"
        ),
    }  # with the kind unknown the rule is not read, so only the kind and concurrency
    assert refused(doc(method="half"), "method").startswith("unknown method 'half'")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (doc(method="deal_price", value="5", currency="EUR"), "method"),
        (doc(method="least_expensive_free"), "method"),
        (
            quantity(tiers=[{"min_quantity": "2", "method": "deal_price", "value": "5"}]),
            "tiers[0].method",
        ),
        (mix(method="price"), "method"),
        (
            threshold(tiers=[{"min_amount": "10", "method": "price", "value": "5"}]),
            "tiers[0].method",
        ),
    ],
)
def test_a_method_the_kind_does_not_allow_is_refused(raw: dict[str, Any], field: str) -> None:
    assert "is not allowed" in refused(raw, field)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (None, "is required"),
        ("", "must not be empty"),
        ("SUMMER 10", "use letters, digits, '.', '_' or '-' only"),
        ("X" * 65, "must be at most 64 characters"),
        (10, "must be a string"),
    ],
)
def test_the_code_is_1_to_64_safe_characters(code: object, reason: str) -> None:
    assert refused(doc(code=code), "code") == reason


def test_the_longest_code_and_odd_characters_are_fine() -> None:
    assert parse_discount(doc(code="a" * 64)).code == "a" * 64
    assert parse_discount(doc(code="-x_1.2")).code == "-x_1.2"


@pytest.mark.parametrize(("name", "reason"), [(None, "is required"), ("  ", "must not be empty")])
def test_the_name_is_required(name: object, reason: str) -> None:
    assert refused(doc(name=name), "name") == reason


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        (doc(colour="red"), "colour", "unknown key; expected one of code, name"),
        (doc(tiers=[]), "tiers", "not used by a simple discount"),
        (doc(deal={}), "deal", "not used by a simple discount"),
        (quantity(method="percent", tiers=[tier("2")]), "method",
         "not used by a quantity discount"),
        (threshold(groups=[]), "groups", "not used by a threshold discount"),
        (doc(scope={"region": "EU"}), "scope.region", "unknown key; expected one of channels"),
        (doc(items={"brands": ["X"]}), "items.brands", "unknown key; expected one of skus"),
        (quantity(tiers=[{"min_quantity": "2", "method": "percent", "value": "1", "max": "3"}]),
         "tiers[0].max", "unknown key; expected one of min_quantity, method, value"),
        (quantity(deal={"quantity": 3, "price": "10", "free": 1}), "deal.free",
         "unknown key; expected one of quantity, price"),
        (mix(groups=[{"name": "A", "quantity": 1, "colour": "red"}]), "groups[0].colour",
         "unknown key; expected one of name, quantity, items"),
    ],
)  # fmt: skip
def test_unknown_keys_are_named(raw: dict[str, Any], field: str, reason: str) -> None:
    assert refused(raw, field).startswith(reason)


def test_a_discount_must_be_an_object() -> None:
    assert errors(["SUMMER10"]) == {"discounts[1]": "must be a JSON object"}
    with pytest.raises(ValidationFailed) as caught:
        parse_discount("SUMMER10")
    assert caught.value.errors[0].field == "document"


def test_where_prefixes_every_path() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_discount(doc(code=None, value="0"), where="discounts[3]")
    assert [e.field for e in caught.value.errors] == ["discounts[3].code", "discounts[3].value"]
    with pytest.raises(ValidationFailed) as caught:
        parse_discount(doc(code=None))
    assert caught.value.errors[0].field == "code"
    assert caught.value.detail == "code: is required"


def test_priority_is_within_minus_1000_to_1000() -> None:
    assert parse_discount(doc(priority=-1000)).priority == -1000
    assert parse_discount(doc(priority=1000)).priority == 1000
    assert refused(doc(priority=1001), "priority") == "must be at most 1000"
    assert refused(doc(priority=-1001), "priority") == "must be at least -1000"
    assert refused(doc(priority="high"), "priority") == "must be a whole number"
    assert refused(doc(coupon_required="yes"), "coupon_required") == "must be true or false"


# -- refusals: values -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["101", "0", "-5", "100.01"])
def test_a_percent_is_more_than_0_and_at_most_100(value: str) -> None:
    assert refused(doc(value=value), "value") == "a percent must be more than 0 and at most 100"


def test_a_percent_of_100_is_fine() -> None:
    assert parse_discount(doc(value="100")).value == 100


@pytest.mark.parametrize(
    ("value", "reason"), [("0", "must be more than 0"), ("-1", "must be more than 0")]
)
def test_an_amount_off_is_more_than_0(value: str, reason: str) -> None:
    assert refused(doc(method="amount", value=value, currency="EUR"), "value") == reason


def test_a_price_may_be_0_but_not_negative() -> None:
    assert parse_discount(doc(method="price", value="0", currency="EUR")).value == 0
    assert (
        refused(doc(method="price", value="-1", currency="EUR"), "value") == "must not be negative"
    )


def test_amounts_have_at_most_the_currencys_decimals() -> None:
    assert refused(doc(method="amount", value="1.005", currency="EUR"), "value") == (
        "EUR allows at most 2 decimal places"
    )
    assert refused(doc(method="price", value="10.5", currency="JPY"), "value") == (
        "JPY allows at most 0 decimal places"
    )


def test_numbers_are_decimal_strings_never_floats() -> None:
    assert "not a float" in refused(doc(value=10.5), "value")
    assert refused(doc(value="ten"), "value") == "'ten' is not a decimal number"
    assert refused(doc(value=None), "value") == "is required"


@pytest.mark.parametrize(
    ("raw", "needed_by"),
    [
        (doc(method="amount", value="2", currency=None), "value"),
        (mix(currency=None), "value"),
        (quantity(currency=None, deal={"quantity": 3, "price": "10"}), "deal.price"),
        (quantity(currency=None, tiers=[{"min_quantity": "2", "method": "price", "value": "5"}]),
         "tiers[0].value"),
        (threshold(currency=None, tiers=[{"min_amount": "50", "method": "percent", "value": "5"}]),
         "tiers[0].min_amount"),
    ],
)  # fmt: skip
def test_amounts_need_a_currency(raw: dict[str, Any], needed_by: str) -> None:
    assert refused(raw, "currency") == f"is required: discounts[1].{needed_by} is an amount"


def test_percents_need_no_currency_and_a_bad_currency_is_named_once() -> None:
    assert parse_discount(doc()).currency is None
    assert refused(doc(method="amount", value="2", currency="EURO"), "currency") == (
        "unknown currency 'EURO'; use an ISO 4217 code"
    )


# -- refusals: scope ------------------------------------------------------------------------------
def test_valid_to_may_not_be_before_valid_from() -> None:
    raw = doc(scope={"valid_from": "2026-12-31", "valid_to": "2026-12-01"})
    assert refused(raw, "scope.valid_to") == "is before valid_from 2026-12-31"
    same_day = parse_discount(doc(scope={"valid_from": "2026-12-01", "valid_to": "2026-12-01"}))
    assert same_day.scope.valid_to == date(2026, 12, 1)


@pytest.mark.parametrize("value", ["2026-13-01", "01/12/2026", "20261201", 20261201])
def test_dates_are_iso(value: object) -> None:
    assert refused(doc(scope={"valid_from": value}), "scope.valid_from").endswith("use YYYY-MM-DD")


@pytest.mark.parametrize(
    ("scope", "field", "reason"),
    [
        ({"start_time": "17:00"}, "end_time", "is required with start_time"),
        ({"end_time": "19:00"}, "start_time", "is required with end_time"),
        ({"start_time": "17:00", "end_time": "17:00"}, "end_time", "must differ from start_time"),
        ({"start_time": "5pm", "end_time": "19:00"}, "start_time",
         "'5pm' is not a time of day; use HH:MM (24-hour)"),
        ({"start_time": "17:00", "end_time": "24:00"}, "end_time",
         "'24:00' is not a time of day; use HH:MM (24-hour)"),
    ],
)  # fmt: skip
def test_time_windows(scope: dict[str, str], field: str, reason: str) -> None:
    assert refused(doc(scope=scope), f"scope.{field}") == reason


def test_weekdays() -> None:
    assert parse_discount(doc(scope={"weekdays": ["Sat", "sun"]})).scope.weekdays == {5, 6}
    assert parse_discount(doc(scope={"weekdays": []})).scope.weekdays == frozenset()
    assert refused(doc(scope={"weekdays": ["mon", "funday"]}), "scope.weekdays[1]").startswith(
        "'funday' is not a weekday"
    )
    assert refused(doc(scope={"weekdays": "mon"}), "scope.weekdays") == "must be a list"


def test_scope_and_item_codes_are_named_by_index() -> None:
    assert refused(doc(scope={"stores": ["S001", ""]}), "scope.stores[1]") == "must not be empty"
    assert refused(doc(items={"skus": ["A", 7]}), "items.skus[1]") == "must be a string"
    assert refused(doc(scope=["WEB"]), "scope") == "must be a JSON object"


# -- refusals: tiers and deals --------------------------------------------------------------------
def test_quantity_needs_tiers_or_a_deal_not_both() -> None:
    both = quantity(tiers=[tier("2")], deal={"quantity": 3, "price": "10"})
    assert refused(both, "deal") == "give either tiers or a deal, not both"
    assert refused(quantity(), "tiers") == "is required: give tiers or a deal"
    assert refused(quantity(tiers=[]), "tiers") == "must not be empty"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (quantity(tiers=[tier("2"), tier("5"), tier("5")]), "tiers[2].min_quantity"),
        (quantity(tiers=[tier("5"), tier("2")]), "tiers[1].min_quantity"),
        (threshold(tiers=[spend("200.00"), spend("100.00")]), "tiers[1].min_amount"),
        (threshold(tiers=[spend("100"), spend("100.00")]), "tiers[1].min_amount"),
    ],
)
def test_tiers_strictly_increase(raw: dict[str, Any], field: str) -> None:
    assert refused(raw, field).startswith("overlapping tiers: must be more than tiers[")


def test_the_overlap_names_the_tier_it_clashes_with() -> None:
    reason = refused(quantity(tiers=[tier("2"), tier("5"), tier("4")]), "tiers[2].min_quantity")
    assert reason.startswith("overlapping tiers: must be more than tiers[1]'s 5")


@pytest.mark.parametrize("minimum", ["0", "-1"])
def test_a_tier_minimum_quantity_is_more_than_0(minimum: str) -> None:
    assert (
        refused(quantity(tiers=[tier(minimum)]), "tiers[0].min_quantity") == "must be more than 0"
    )


def test_a_fractional_tier_minimum_is_fine_for_goods_sold_by_weight() -> None:
    discount = parse_discount(quantity(tiers=[tier("0.5"), tier("1.5")]))
    assert [t.min_quantity for t in discount.tiers] == [Decimal("0.5"), Decimal("1.5")]


def test_a_threshold_minimum_may_be_0_but_not_negative() -> None:
    assert parse_discount(threshold(tiers=[spend("0")])).threshold_tiers[0].min_amount == 0
    raw = threshold(tiers=[spend("-1")])
    assert refused(raw, "tiers[0].min_amount") == "must not be negative"


def test_tier_values_follow_their_method() -> None:
    raw = quantity(tiers=[tier("2", "percent", "150"), tier("3", "amount", "0")])
    assert errors(raw) == {
        "discounts[1].tiers[0].value": "a percent must be more than 0 and at most 100",
        "discounts[1].tiers[1].value": "must be more than 0",
    }


@pytest.mark.parametrize(
    ("count", "reason"),
    [
        (1, "must be at least 2 (buy 1 for a price is a simple discount, method price)"),
        (0, "must be at least 2 (buy 1 for a price is a simple discount, method price)"),
        ("2.5", "must be a whole number"),
        (Decimal("2.5"), "must be a whole number"),
        (2.0, "must be a whole number"),
        (None, "is required"),
    ],
)
def test_a_deal_is_for_at_least_2_whole_units(count: object, reason: str) -> None:
    assert refused(quantity(deal={"quantity": count, "price": "10"}), "deal.quantity") == reason


def test_whole_numbers_may_arrive_as_strings_or_decimals() -> None:
    for count in ("3", Decimal(3), Decimal("3.0")):
        discount = parse_discount(quantity(deal={"quantity": count, "price": "10"}))
        assert discount.groups[0].quantity == 3


# -- refusals: mix and match ----------------------------------------------------------------------
def test_mix_match_needs_groups() -> None:
    assert refused(mix(groups=None), "groups") == "is required"
    assert refused(mix(groups=[]), "groups") == "must not be empty"


@pytest.mark.parametrize(
    ("count", "reason"),
    [(0, "must be at least 1"), ("1.5", "must be a whole number"), (None, "is required")],
)
def test_a_group_takes_at_least_one_whole_unit(count: object, reason: str) -> None:
    raw = mix(groups=[{"name": "A", "quantity": count}])
    assert refused(raw, "groups[0].quantity") == reason


def test_group_names_are_unique_and_required() -> None:
    raw = mix(groups=[{"name": "A", "quantity": 1}, {"name": "A", "quantity": 2}])
    assert refused(raw, "groups[1].name") == "duplicate of groups[0]"
    assert refused(mix(groups=[{"quantity": 1}]), "groups[0].name") == "is required"


def test_group_items_are_read() -> None:
    raw = mix(groups=[{"name": "A", "quantity": 1, "items": {"skus": ["X"]}}])
    assert parse_discount(raw).groups[0].items == ItemFilter(skus=frozenset({"X"}))
    bad = mix(groups=[{"name": "A", "quantity": 1, "items": {"skus": ["X Y"]}}])
    assert refused(bad, "groups[0].items.skus[0]").startswith("use letters")


def lef(free_count: object, *sizes: int) -> dict[str, Any]:
    groups = [{"name": f"G{i}", "quantity": n} for i, n in enumerate(sizes)]
    return mix(method="least_expensive_free", value=None, free_count=free_count, groups=groups)


def test_least_expensive_free_keeps_one_unit_paid() -> None:
    assert parse_discount(lef(2, 2, 1)).free_count == 2
    assert refused(lef(3, 2, 1), "free_count") == (
        "must be less than the set size 3: a set that is entirely free cannot be satisfied"
    )
    assert refused(lef(4, 2, 1), "free_count").startswith("must be less than the set size 3")
    assert refused(lef(0, 3), "free_count") == "must be at least 1"


def test_free_count_defaults_to_1_and_belongs_to_least_expensive_free() -> None:
    assert parse_discount(lef(None, 3)).free_count == 1
    assert refused(mix(free_count=1), "free_count") == "only used with least_expensive_free"
    with_value = mix(method="least_expensive_free", value="5")
    assert refused(with_value, "value") == "not used with least_expensive_free; give free_count"


def test_a_bad_group_does_not_also_blame_free_count() -> None:
    raw = mix(method="least_expensive_free", value=None, groups=[{"name": "A", "quantity": 0}])
    assert list(errors(raw)) == ["discounts[1].groups[0].quantity"]


def test_max_applications_is_at_least_1() -> None:
    assert parse_discount(mix(max_applications=2)).max_applications == 2
    assert refused(mix(max_applications=0), "max_applications") == "must be at least 1"
    assert refused(doc(max_applications=2), "max_applications") == "not used by a simple discount"


def test_deal_price_and_amount_sets_take_their_values() -> None:
    assert parse_discount(mix()).value == Decimal("25.00")
    assert refused(mix(method="amount", value="0"), "value") == "must be more than 0"
    assert refused(mix(method="deal_price", value=None), "value") == "is required"


# -- documents ------------------------------------------------------------------------------------
def test_every_error_of_a_document_is_reported() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_discounts_document(
            {
                "format": FORMAT,
                "discounts": [
                    doc(code="A", value="0"),
                    quantity(code="B", tiers=[tier("2"), tier("0", value="500")]),
                    doc(code="C", scope={"valid_from": "2026-12-31", "valid_to": "2026-01-01"}),
                ],
            }
        )
    assert [e.field for e in caught.value.errors] == [
        "discounts[0].value",
        "discounts[1].tiers[1].min_quantity",
        "discounts[1].tiers[1].value",
        "discounts[2].scope.valid_to",
    ]
    assert caught.value.detail.endswith("(and 3 more)")


def test_duplicate_codes_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_discounts_document(
            {"format": FORMAT, "discounts": [doc(), doc(name="Again", value="0"), doc()]}
        )
    assert [(e.field, e.reason) for e in caught.value.errors] == [
        ("discounts[1].value", "a percent must be more than 0 and at most 100"),
        ("discounts[1].code", "duplicate of discounts[0]"),
        ("discounts[2].code", "duplicate of discounts[0]"),
    ]


@pytest.mark.parametrize(
    ("document", "field", "reason"),
    [
        ({"discounts": []}, "format", "is required: 'onestore.discounts/1'"),
        ({"format": "onestore.prices/1", "discounts": []}, "format",
         "must be 'onestore.discounts/1', not 'onestore.prices/1'"),
        ({"format": FORMAT}, "discounts", "is required"),
        ({"format": FORMAT, "discounts": {}}, "discounts", "must be a list"),
        ({"format": FORMAT, "discounts": [], "extra": 1}, "extra",
         "unknown key; expected one of format, discounts"),
        ([], "document", "must be a JSON object"),
    ],
)  # fmt: skip
def test_the_document_envelope(document: object, field: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_discounts_document(document)
    assert [(e.field, e.reason) for e in caught.value.errors] == [(field, reason)]
