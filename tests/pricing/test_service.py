"""Pricing a basket against the database: catalog facts, price groups, coupons, tax, versions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from onestore.db.database import Database
from onestore.kernel.errors import ValidationFailed
from onestore.pricing.basket import parse_basket
from onestore.pricing.service import price_basket, priced_to_json

from .conftest import load_discounts, load_prices, load_tax

SIMPLE_TOPS = {
    "code": "TOPS10",
    "name": "10% off tops",
    "kind": "simple",
    "concurrency": "best_price",
    "items": {"categories": ["tops"]},
    "method": "percent",
    "value": "10",
}


def priced(db: Database, **basket: object) -> dict:  # type: ignore[type-arg]
    doc = {"channel": "WEB", **basket}
    return priced_to_json(price_basket(db, parse_basket(doc)))


def test_list_price_and_a_category_discount_reach_the_child_category(shop: Database) -> None:
    load_discounts(shop, SIMPLE_TOPS)
    out = priced(shop, lines=[{"sku": "TEE-S", "quantity": 2}, {"sku": "JEANS-1", "quantity": 1}])
    tee, jeans = out["lines"]
    assert tee["price_source"] == "list price"
    assert tee["discounts"][0]["code"] == "TOPS10"  # tshirts is inside tops
    assert tee["net"]["amount"] == "36.00"
    assert jeans["discounts"] == [] and jeans["considered"] == []
    assert out["subtotal"]["amount"] == "100.00"
    assert out["total"]["amount"] == "96.00"


def test_price_groups_lowest_wins_unless_a_group_has_higher_priority(shop: Database) -> None:
    load_prices(
        shop,
        {
            "price_groups": [
                {"code": "WEBP", "name": "Web prices", "channels": ["WEB"]},
                {"code": "STAFF", "name": "Staff", "customer_groups": ["staff"]},
                {"code": "CLEAR", "name": "Clearance", "priority": 5, "channels": ["WEB"]},
            ],
            "prices": [
                {"group": "WEBP", "sku": "TEE-S", "amount": "18.00", "currency": "USD"},
                {"group": "STAFF", "sku": "TEE-S", "amount": "15.00", "currency": "USD"},
                {"group": "CLEAR", "sku": "SHIRT-1", "amount": "35.00", "currency": "USD"},
                {"group": "STAFF", "sku": "SHIRT-1", "amount": "30.00", "currency": "USD"},
            ],
        },
    )
    web = priced(shop, lines=[{"sku": "TEE-S", "quantity": 1}, {"sku": "SHIRT-1", "quantity": 1}])
    assert [line["unit_price"]["amount"] for line in web["lines"]] == ["18.00", "35.00"]
    staff = priced(
        shop,
        customer_groups=["staff"],
        lines=[{"sku": "TEE-S", "quantity": 1}, {"sku": "SHIRT-1", "quantity": 1}],
    )
    # lowest among equals (staff 15.00 < web 18.00); CLEAR's priority 5 beats staff's 30.00
    assert [line["unit_price"]["amount"] for line in staff["lines"]] == ["15.00", "35.00"]
    assert staff["lines"][1]["price_source"] == "price group CLEAR"


def test_effective_dates_of_prices(shop: Database) -> None:
    load_prices(
        shop,
        {
            "price_groups": [{"code": "WEBP", "name": "Web", "channels": ["WEB"]}],
            "prices": [
                {
                    "group": "WEBP",
                    "sku": "TEE-S",
                    "amount": "12.00",
                    "currency": "USD",
                    "valid_from": "2026-12-01",
                    "valid_to": "2026-12-31",
                }
            ],
        },
    )
    lines = [{"sku": "TEE-S", "quantity": 1}]
    assert priced(shop, at="2026-11-30T12:00:00", lines=lines)["total"]["amount"] == "20.00"
    assert priced(shop, at="2026-12-31T23:59:00", lines=lines)["total"]["amount"] == "12.00"
    assert priced(shop, at="2027-01-01T00:00:00", lines=lines)["total"]["amount"] == "20.00"


def test_every_bad_line_is_named(shop: Database) -> None:
    basket = parse_basket(
        {
            "channel": "WEB",
            "lines": [
                {"sku": "NOPE", "quantity": 1},
                {"sku": "TEE-S", "quantity": "1.5"},
                {"sku": "APPLES-1", "quantity": "1.250"},
            ],
        }
    )
    with pytest.raises(ValidationFailed) as caught:
        price_basket(shop, basket)
    fields = {e.field: e.reason for e in caught.value.errors}
    assert fields == {
        "lines[0].sku": "unknown SKU 'NOPE'",
        "lines[1].quantity": "must be a whole number: this item is sold in whole units",
    }


def test_bad_basket_documents_name_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_basket({"channel": "WEB", "lines": [{"sku": "A", "quantity": "-1"}], "colour": 1})
    fields = {e.field for e in caught.value.errors}
    assert fields == {"lines[0].quantity", "colour"}
    with pytest.raises(ValidationFailed) as caught:
        parse_basket({"channel": "WEB", "lines": [{"sku": "A", "quantity": 1.5}]})
    assert caught.value.errors[0].field == "lines[0].quantity"


def test_unknown_channel_and_store(shop: Database) -> None:
    with pytest.raises(ValidationFailed, match="channel: unknown channel 'SHOP'"):
        price_basket(
            shop, parse_basket({"channel": "SHOP", "lines": [{"sku": "TEE-S", "quantity": 1}]})
        )
    with pytest.raises(ValidationFailed, match="store: unknown store 'S9'"):
        price_basket(
            shop,
            parse_basket(
                {"channel": "WEB", "store": "S9", "lines": [{"sku": "TEE-S", "quantity": 1}]}
            ),
        )


def test_tax_by_where_the_goods_go_and_the_channels_tax_mode(shop: Database) -> None:
    load_tax(
        shop,
        {
            "rates": [
                {"tax_group": "standard", "jurisdiction": "US-WA", "rate": "10"},
                {"tax_group": "standard", "jurisdiction": "US-OR", "rate": "0"},
                {"tax_group": "food", "jurisdiction": "US", "rate": "2"},
            ],
            "products": [{"product": "APPLES", "tax_group": "food"}],
            "channels": [
                {"channel": "WEB", "default_tax_group": "standard"},
                {"channel": "POS-S1", "default_tax_group": "standard", "tax_rounding": "document"},
            ],
        },
    )
    lines = [{"sku": "TEE-S", "quantity": 1}, {"sku": "APPLES-1", "quantity": "1.5"}]
    web = priced(shop, lines=lines, ship_to={"country": "US", "region": "WA"})  # without tax
    assert [(x["tax_rate"], x["tax"]["amount"]) for x in web["lines"]] == [
        ("10", "2.00"),
        ("2", "0.09"),
    ]
    assert web["total"]["amount"] == "26.59"  # 20.00 + 4.50 + 2.00 + 0.09
    oregon = priced(shop, lines=lines, ship_to={"country": "US", "region": "OR"})
    assert [x["tax"]["amount"] for x in oregon["lines"]] == [
        "0.00",
        "0.09",
    ]  # food falls back to US
    till = priced_to_json(price_basket(shop, parse_basket({"channel": "POS-S1", "lines": lines})))
    assert till["prices_include_tax"] is True
    assert till["total"]["amount"] == "24.50"  # tax is inside: 20.00 includes 1.82
    assert till["tax_total"]["amount"] == "1.91"  # 1.818… + 0.088… (document rounding per rate)


def test_hours_are_the_stores_local_time(shop: Database, clock) -> None:  # type: ignore[no-untyped-def]
    happy = {
        "code": "HAPPY",
        "name": "Happy hour",
        "kind": "simple",
        "concurrency": "best_price",
        "scope": {"start_time": "17:00", "end_time": "19:00"},
        "method": "percent",
        "value": "50",
    }
    load_discounts(shop, happy)
    from datetime import UTC

    clock.set(datetime(2026, 11, 27, 1, 30, tzinfo=UTC))  # 17:30 in Seattle (UTC-8)
    out = priced(shop, store="S1", lines=[{"sku": "TEE-S", "quantity": 1}])
    assert out["total"]["amount"] == "10.00"
    clock.set(datetime(2026, 11, 26, 17, 30, tzinfo=UTC))  # 09:30 in Seattle
    out = priced(shop, store="S1", lines=[{"sku": "TEE-S", "quantity": 1}])
    assert out["lines"][0]["considered"] == [
        {"code": "HAPPY", "reason": "only 17:00–19:00", "why": "scope"}
    ]


def test_the_book_follows_the_data_version(shop: Database) -> None:
    lines = [{"sku": "TEE-S", "quantity": 1}]
    first = priced(shop, lines=lines)
    version = load_discounts(shop, SIMPLE_TOPS)
    second = priced(shop, lines=lines)
    assert second["version"] == version > first["version"]
    assert (first["total"]["amount"], second["total"]["amount"]) == ("20.00", "18.00")
    off = dict(SIMPLE_TOPS, value="25")
    load_discounts(shop, off)
    assert priced(shop, lines=lines)["total"]["amount"] == "15.00"


def test_a_priced_basket_is_the_same_twice(shop: Database) -> None:
    load_discounts(shop, SIMPLE_TOPS)
    lines = [{"sku": "TEE-S", "quantity": 3}, {"sku": "SHIRT-1", "quantity": 1}]
    assert priced(shop, lines=lines) == priced(shop, lines=lines)
    assert Decimal(priced(shop, lines=lines)["discount_total"]["amount"]) == Decimal("10.00")
