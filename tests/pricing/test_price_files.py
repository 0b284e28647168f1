"""Price documents, JSON and CSV: reading, writing back, and every refusal naming its field."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from onestore.kernel.errors import ValidationFailed
from onestore.pricing.model import PriceEntry, PriceGroup
from onestore.pricing.price_files import (
    FORMAT,
    PriceData,
    parse_prices_csv,
    parse_prices_json,
    prices_to_csv,
    prices_to_json,
)

GOLD = PriceGroup(
    "GOLD",
    "Gold members",
    5,
    channels=frozenset({"WEB"}),
    loyalty_tiers=frozenset({"gold"}),
)
STAFF = PriceGroup("STAFF", "Staff", affiliations=frozenset({"staff"}), stores=frozenset({"S1"}))
DATA = PriceData(
    groups=(GOLD, STAFF, PriceGroup("UNLINKED", "Not linked yet")),
    prices=(
        PriceEntry("GOLD", "TS-BLK-M", Decimal("17.50"), "EUR", date(2026, 12, 1)),
        PriceEntry("GOLD", "TS-BLK-M", Decimal("19.00"), "EUR", None, date(2026, 11, 30)),
        PriceEntry("GOLD", "TS-BLK-M", Decimal("21.00"), "USD"),
        PriceEntry("STAFF", "TS-BLK-M", Decimal("0.00"), "EUR"),
        PriceEntry("STAFF", "TS-BLK-M", Decimal("1500"), "JPY", date(2026, 1, 1), date(2026, 1, 1)),
    ),
)


def price(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "group": "GOLD",
        "sku": "TS-BLK-M",
        "amount": "17.50",
        "currency": "EUR",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def json_errors(*prices: dict[str, Any], groups: list[Any] | None = None) -> dict[str, str]:
    document: dict[str, Any] = {"format": FORMAT, "prices": list(prices)}
    if groups is not None:
        document["price_groups"] = groups
    with pytest.raises(ValidationFailed) as caught:
        parse_prices_json(document)
    return {e.field: e.reason for e in caught.value.errors}


def csv_errors(text: str) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_prices_csv(text)
    return {e.field: e.reason for e in caught.value.errors}


HEADER = "group,sku,amount,currency,valid_from,valid_to\n"


# -- JSON -----------------------------------------------------------------------------------------
def test_json_round_trips() -> None:
    assert parse_prices_json(prices_to_json(DATA)) == DATA
    assert parse_prices_json(prices_to_json(PriceData())) == PriceData()


def test_the_json_shape() -> None:
    written = prices_to_json(PriceData(groups=(GOLD,), prices=DATA.prices[:1]))
    assert written == {
        "format": "onestore.prices/1",
        "price_groups": [
            {
                "code": "GOLD",
                "name": "Gold members",
                "priority": 5,
                "channels": ["WEB"],
                "stores": [],
                "customer_groups": [],
                "loyalty_tiers": ["gold"],
            }
        ],
        "prices": [
            {
                "group": "GOLD",
                "sku": "TS-BLK-M",
                "amount": "17.50",
                "currency": "EUR",
                "valid_from": "2026-12-01",
                "valid_to": None,
            }
        ],
    }


def test_both_lists_are_optional_and_a_group_needs_no_links() -> None:
    data = parse_prices_json({"format": FORMAT, "price_groups": [{"code": "NEW", "name": "New"}]})
    assert data == PriceData(groups=(PriceGroup("NEW", "New"),))
    assert parse_prices_json({"format": FORMAT}) == PriceData()


def test_amounts_are_brought_to_the_currencys_decimals() -> None:
    data = parse_prices_json(
        {
            "format": FORMAT,
            "prices": [price(amount="17.5", currency="eur"), price(sku="X", amount=3)],
        }
    )
    assert [(p.amount, str(p.amount), p.currency) for p in data.prices] == [
        (Decimal("17.5"), "17.50", "EUR"),
        (Decimal(3), "3.00", "EUR"),
    ]
    strict = parse_prices_json({"format": FORMAT, "prices": [price(amount=Decimal("4.5"))]})
    assert strict.prices[0].amount == Decimal("4.50")


def test_prices_must_name_a_group_of_the_document_when_it_has_groups() -> None:
    groups = [{"code": "GOLD", "name": "Gold"}]
    assert json_errors(price(), price(group="SILVER", sku="X"), groups=groups) == {
        "prices[1].group": "unknown price group 'SILVER': not in this document's price_groups"
    }
    without = parse_prices_json({"format": FORMAT, "prices": [price(group="SILVER")]})
    assert without.prices[0].group == "SILVER"  # the service checks it against the database


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"amount": "-0.01"}, "amount", "must not be negative"),
        ({"amount": "17.505"}, "amount", "EUR allows at most 2 decimal places"),
        ({"amount": "17.5", "currency": "JPY"}, "amount", "JPY allows at most 0 decimal places"),
        ({"amount": 17.5}, "amount", 'must be a decimal string such as "12.50", not a float'),
        ({"amount": None}, "amount", "is required"),
        ({"currency": "XYZ"}, "currency", "unknown currency 'XYZ'; use an ISO 4217 code"),
        ({"currency": None}, "currency", "is required"),
        ({"valid_from": "2026-02-30"}, "valid_from", "'2026-02-30' is not a date; use YYYY-MM-DD"),
        ({"valid_to": "tomorrow"}, "valid_to", "'tomorrow' is not a date; use YYYY-MM-DD"),
        ({"valid_from": "2026-12-02", "valid_to": "2026-12-01"}, "valid_to",
         "is before valid_from 2026-12-02"),
        ({"sku": ""}, "sku", "must not be empty"),
        ({"group": None}, "group", "is required"),
        ({"colour": "red"}, "colour",
         "unknown key; expected one of group, sku, amount, currency, valid_from, valid_to"),
    ],
)  # fmt: skip
def test_json_price_refusals(fields: dict[str, Any], field: str, reason: str) -> None:
    assert json_errors(price(sku="OK"), price(**fields)) == {f"prices[1].{field}": reason}


def test_json_group_refusals() -> None:
    groups = [
        {"code": "GOLD", "name": "Gold"},
        {"code": "GOLD", "name": "Again", "priority": 2000, "channels": ["WEB", " "], "x": 1},
        {"name": "No code"},
        "SILVER",
    ]
    assert json_errors(groups=groups) == {
        "price_groups[1].x": (
            "unknown key; expected one of code, name, priority, channels, stores, "
            "customer_groups, loyalty_tiers"
        ),
        "price_groups[1].priority": "must be at most 1000",
        "price_groups[1].channels[1]": "use letters, digits, '.', '_' or '-' only",
        "price_groups[1].code": "duplicate of price_groups[0]",
        "price_groups[2].code": "is required",
        "price_groups[3]": "must be a JSON object",
    }


def test_overlapping_dates_for_one_group_sku_and_currency_are_refused() -> None:
    found = json_errors(
        price(valid_from="2026-12-01", valid_to="2026-12-31"),
        price(valid_from="2027-01-01"),  # right after: fine
        price(currency="USD", valid_from="2026-12-15"),  # another currency: fine
        price(sku="OTHER"),  # another SKU: fine
        price(valid_from="2026-12-31", valid_to="2026-12-31"),  # the last day of [0]
    )
    assert found == {
        "prices[4]": "overlaps prices[0]: the same group, SKU and currency on overlapping dates"
    }


def test_an_open_ended_price_overlaps_every_other() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_prices_json(
            {
                "format": FORMAT,
                "prices": [price(valid_from="2027-06-01"), price(valid_to="2026-01-01"), price()],
            }
        )
    assert [(e.field, e.reason.split(":")[0]) for e in caught.value.errors] == [
        ("prices[2]", "overlaps prices[0]"),
        ("prices[2]", "overlaps prices[1]"),
    ]


def test_the_later_of_two_overlapping_prices_is_named() -> None:
    found = json_errors(price(valid_from="2026-02-01"), price(valid_from="2026-01-01"))
    assert list(found) == ["prices[1]"]
    assert found["prices[1]"].startswith("overlaps prices[0]")


@pytest.mark.parametrize(
    ("document", "field", "reason"),
    [
        ({"prices": []}, "format", "is required: 'onestore.prices/1'"),
        ({"format": "onestore.discounts/1"}, "format",
         "must be 'onestore.prices/1', not 'onestore.discounts/1'"),
        ({"format": FORMAT, "groups": []}, "groups",
         "unknown key; expected one of format, price_groups, prices"),
        ({"format": FORMAT, "prices": "x"}, "prices", "must be a list"),
        ({"format": FORMAT, "price_groups": {}}, "price_groups", "must be a list"),
        ({"format": FORMAT, "price_groups": [{"code": "G", "name": ""}],
          "prices": [price(group="G")]}, "price_groups[0].name", "must not be empty"),
        ({"format": FORMAT, "prices": [1]}, "prices[0]", "must be a JSON object"),
        ("prices", "document", "must be a JSON object"),
    ],
)  # fmt: skip
def test_the_json_envelope(document: object, field: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_prices_json(document)
    assert [(e.field, e.reason) for e in caught.value.errors] == [(field, reason)]


# -- CSV ------------------------------------------------------------------------------------------
def test_csv_reads_prices_without_groups() -> None:
    text = (
        "\ufeff"
        + HEADER
        + "GOLD,TS-BLK-M,17.5,eur,2026-12-01,\n"
        + "\n"
        + " STAFF , TS-BLK-M ,0,EUR,,2026-11-30\n"
    )
    assert parse_prices_csv(text) == PriceData(
        prices=(
            PriceEntry("GOLD", "TS-BLK-M", Decimal("17.50"), "EUR", date(2026, 12, 1)),
            PriceEntry("STAFF", "TS-BLK-M", Decimal("0.00"), "EUR", None, date(2026, 11, 30)),
        )
    )


def test_csv_columns_may_come_in_any_order() -> None:
    text = "sku,group,currency,amount,valid_to,valid_from\nA,GOLD,EUR,1.00,,\n"
    assert parse_prices_csv(text).prices == (PriceEntry("GOLD", "A", Decimal("1.00"), "EUR"),)


def test_csv_round_trips() -> None:
    prices_only = PriceData(prices=DATA.prices)
    assert parse_prices_csv(prices_to_csv(prices_only)) == prices_only
    assert prices_to_csv(prices_only).splitlines()[:2] == [
        "group,sku,amount,currency,valid_from,valid_to",
        "GOLD,TS-BLK-M,17.50,EUR,2026-12-01,",
    ]


def test_csv_errors_name_the_line_and_column() -> None:
    text = (
        HEADER
        + "GOLD,A,17.50,EUR,,\n"  # line 2
        + "GOLD,B,-1,EUR,,\n"  # line 3
        + "GOLD,C,1.001,EUR,,\n"  # line 4
        + "\n"  # line 5: blank lines are skipped but still counted
        + "GOLD,D,1,EURO,2026-13-01,\n"  # line 6
        + "GOLD,E,1,EUR,2026-12-02,2026-12-01\n"  # line 7
        + "GOLD,F,1,EUR\n"  # line 8
        + ",G,abc,EUR,,\n"  # line 9
    )
    assert csv_errors(text) == {
        "line 3, column amount": "must not be negative",
        "line 4, column amount": "EUR allows at most 2 decimal places",
        "line 6, column currency": "unknown currency 'EURO'; use an ISO 4217 code",
        "line 6, column valid_from": "'2026-13-01' is not a date; use YYYY-MM-DD",
        "line 7, column valid_to": "is before valid_from 2026-12-02",
        "line 8": "has 4 fields, not 6",
        "line 9, column group": "is required",
        "line 9, column amount": "'abc' is not a decimal number",
    }


def test_csv_overlaps_name_the_other_line() -> None:
    text = (
        HEADER
        + "GOLD,A,17.50,EUR,2026-01-01,2026-06-30\n"  # line 2
        + "GOLD,A,18.00,EUR,2026-07-01,\n"  # line 3
        + "GOLD,A,16.00,EUR,2026-06-30,2026-06-30\n"  # line 4
        + "GOLD,A,16.00,USD,2026-06-30,2026-06-30\n"  # line 5
        + "SILVER,A,16.00,EUR,2026-06-30,2026-06-30\n"  # line 6
    )
    assert csv_errors(text) == {
        "line 4": "overlaps line 2: the same group, SKU and currency on overlapping dates"
    }


def test_a_quoted_field_spanning_lines_is_counted() -> None:
    text = HEADER + 'GOLD,"A\nB",1,EUR,,\n' + "GOLD,C,-1,EUR,,\n"
    found = csv_errors(text)
    assert found["line 3, column sku"] == "use letters, digits, '.', '_' or '-' only"
    assert found["line 4, column amount"] == "must not be negative"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("group,sku,amount,currency,valid_from\n", {"line 1, column valid_to": "missing column"}),
        (
            "group,sku,price,currency,valid_from,valid_to\n",
            {"line 1, column amount": "missing column", "line 1, column price": "unknown column"},
        ),
        (
            "group,sku,amount,amount,currency,valid_from,valid_to\n",
            {"line 1, column amount": "appears more than once"},
        ),
    ],
)
def test_csv_header(header: str, expected: dict[str, str]) -> None:
    assert csv_errors(header + "GOLD,A,1,EUR,,\n") == expected


def test_an_empty_csv_file_is_refused() -> None:
    assert csv_errors("") == {"line 1": "the file is empty; expected the header " + HEADER.strip()}


def test_a_header_only_file_has_no_prices() -> None:
    assert parse_prices_csv(HEADER) == PriceData()


def test_odd_input_is_refused_or_normalised() -> None:
    assert csv_errors(HEADER + 'GOLD,"A,1,EUR,,\n') == {"line 2": "has 2 fields, not 6"}
    assert csv_errors(HEADER + "GOLD,A,1,EUR,,\x00\n") == {
        "line 2, column valid_to": "'\\x00' is not a date; use YYYY-MM-DD"
    }
    assert json_errors(price(valid_from=datetime(2026, 1, 1, 12, 0))) == {
        "prices[0].valid_from": "datetime.datetime(2026, 1, 1, 12, 0) is not a date; use YYYY-MM-DD"
    }
    assert json_errors(groups=[{"code": "G", "name": "Bad\x00name"}]) == {
        "price_groups[0].name": "must not contain control characters"
    }
    data = parse_prices_json({"format": FORMAT, "prices": [price(valid_from=date(2026, 1, 1))]})
    assert data.prices[0].valid_from == date(2026, 1, 1)
    zero = parse_prices_json({"format": FORMAT, "prices": [price(amount="-0")]})
    assert str(zero.prices[0].amount) == "0.00"
