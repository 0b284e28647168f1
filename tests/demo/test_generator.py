"""The demo catalog document: deterministic, the promised size, and valid by the catalog's rules."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from stdnum import ean

from onestore.catalog import model
from onestore.demo import geography
from onestore.demo.barcodes import ean13
from onestore.demo.categories import SMALL_STORE_SKIPS
from onestore.demo.generator import FORMAT, canonical_json, counts, digest, generate
from onestore.kernel.money import Money


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return generate(seed=7, scale=1)


def _variants(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for p in document["products"] for v in p["variants"]]


def test_same_seed_and_scale_give_the_identical_document(document: dict[str, Any]) -> None:
    again = generate(seed=7, scale=1)
    assert json.dumps(again) == json.dumps(document)  # byte for byte, key order included
    assert digest(again) == digest(document)


def test_another_seed_gives_other_data_of_the_same_shape(document: dict[str, Any]) -> None:
    other = generate(seed=8, scale=1)
    assert canonical_json(other) != canonical_json(document)
    assert [p["name"] for p in other["products"]] != [p["name"] for p in document["products"]]
    assert counts(other)["products"] == counts(document)["products"]
    assert [c["code"] for c in other["channels"]] == [c["code"] for c in document["channels"]]


def test_scale_one_has_about_two_thousand_products_and_eight_thousand_skus(
    document: dict[str, Any],
) -> None:
    assert document["format"] == FORMAT
    found = counts(document)
    assert found["products"] == 2000
    assert 7000 <= found["variants"] <= 9000
    assert found["barcodes"] == found["variants"]
    statuses = Counter(p["status"] for p in document["products"])
    assert set(statuses) == {"draft", "active", "discontinued"}
    assert statuses["active"] > 0.9 * found["products"]


def test_scale_ten_is_ten_times_bigger_and_still_unique() -> None:
    big = generate(seed=7, scale=10)
    variants = _variants(big)
    assert len(big["products"]) == 20_000
    assert 70_000 <= len(variants) <= 90_000
    assert len({v["sku"] for v in variants}) == len(variants)
    codes = [code for v in variants for code in v["barcodes"]]
    assert len(set(codes)) == len(codes)
    assert all(ean.is_valid(code) for code in codes[-100:])


def test_every_barcode_is_a_valid_unique_ean13(document: dict[str, Any]) -> None:
    codes = [code for v in _variants(document) for code in v["barcodes"]]
    assert all(len(code) == 13 and ean.is_valid(code) for code in codes)
    assert len(set(codes)) == len(codes)


def test_barcode_sequence_starts_at_the_example_gs1_prefix() -> None:
    assert ean13(0) == "0614141000005"
    assert ean13(99_999).startswith("0614141")
    assert ean13(100_000).startswith("0614142")
    with pytest.raises(ValueError, match="non-negative"):
        ean13(-1)


def test_products_pass_the_catalog_rules(document: dict[str, Any]) -> None:
    definitions = {
        a["code"]: model.AttributeDefinition(
            a["code"], a["name"], model.AttributeType(a["value_type"]), tuple(a["choices"] or ())
        )
        for a in document["attributes"]
    }
    for a in document["attributes"]:
        assert model.definition_errors(a["value_type"], a["choices"]) == []
    units = {u["code"] for u in document["units"]}
    leaves = {c["code"] for c in document["categories"]} - {
        c["parent"] for c in document["categories"]
    }
    skus = set()
    for product in document["products"]:
        assert model.code_problem(product["code"], 64) is None
        assert product["unit"] in units
        assert product["category"] in leaves
        assert 3 <= len(product["name"]) <= 200 and product["description"]
        assert list(model.check_dimensions(product["dimensions"])) == product["dimensions"]
        _, errors = model.attribute_errors(product["attributes"], definitions)
        assert errors == []
        draft = model.ProductDraft(
            code=product["code"],
            name=product["name"],
            unit=product["unit"],
            dimensions=tuple(product["dimensions"]),
            variants=tuple(
                model.VariantDraft(
                    sku=v["sku"],
                    list_price=Money.of(v["list_price"], v["currency"]),
                    size=v["size"],
                    colour=v["colour"],
                    style=v["style"],
                    barcodes=tuple(v["barcodes"]),
                )
                for v in product["variants"]
            ),
        )
        assert model.draft_errors(draft) == []
        for variant in product["variants"]:
            assert model.code_problem(variant["sku"], 64) is None
            assert variant["sku"].startswith(
                product["code"] + ("-" if product["dimensions"] else "")
            )
            assert all(len(variant[d]) <= 32 for d in product["dimensions"])
            skus.add(variant["sku"])
    assert len(skus) == len(_variants(document))


def test_prices_are_plausible_shelf_prices(document: dict[str, Any]) -> None:
    for variant in _variants(document):
        price = variant["list_price"]
        assert variant["currency"] == "USD"
        assert price.rsplit(".", 1)[1] in ("95", "99", "00")
        assert Decimal("4") <= Decimal(price) <= Decimal("2000")


def test_fashion_varies_by_size_and_colour_and_shoes_come_in_pairs(
    document: dict[str, Any],
) -> None:
    by_category = {p["category"]: p for p in document["products"]}
    assert by_category["fashion-women-dresses"]["dimensions"] == ["size", "colour"]
    shoes = by_category["fashion-shoes-men"]
    assert shoes["unit"] == "pair" and shoes["dimensions"] == ["size", "colour"]
    assert by_category["home-decor-candles"]["dimensions"] == []
    assert by_category["home-lighting-table"]["dimensions"] == ["style"]
    roots = {c["code"] for c in document["categories"] if c["parent"] is None}
    assert roots == {"fashion", "home"}


def test_categories_list_parents_before_children(document: dict[str, Any]) -> None:
    seen: set[str] = set()
    for category in document["categories"]:
        assert category["parent"] is None or category["parent"] in seen
        seen.add(category["code"])


def test_locations_are_real_places_in_the_region(document: dict[str, Any]) -> None:
    south, north, west, east = geography.BOUNDS
    kinds = Counter(loc["kind"] for loc in document["locations"])
    assert kinds["dc"] == 2 and 20 <= kinds["store"] <= 30 and 1 <= kinds["vendor"] <= 2
    sites = {s.code: s for s in geography.ALL_SITES}
    for loc in document["locations"]:
        assert south <= loc["latitude"] <= north and west <= loc["longitude"] <= east
        site = sites[loc["code"]]
        assert abs(loc["latitude"] - site.latitude) <= geography.JITTER_DEGREES + 1e-9
        assert abs(loc["longitude"] - site.longitude) <= geography.JITTER_DEGREES + 1e-9
        assert loc["street"].split(" ", 1)[0].isdigit()
        assert len(loc["postcode"]) == 5 and loc["postcode"].startswith("98")
        assert (loc["region"], loc["country"], loc["timezone"]) == (
            "WA",
            "US",
            "America/Los_Angeles",
        )
    assert len({loc["code"] for loc in document["locations"]}) == len(document["locations"])


def test_channels_are_served_by_the_right_locations(document: dict[str, Any]) -> None:
    locations = {loc["code"]: loc["kind"] for loc in document["locations"]}
    channels = {c["code"]: c for c in document["channels"]}
    stores = [code for code, kind in locations.items() if kind == "store"]
    kinds = Counter(c["kind"] for c in channels.values())
    assert kinds == {
        "store": len(stores),
        "web": 1,
        "call_center": 1,
        "marketplace": 1,
        "mobile": 1,
    }
    for channel in channels.values():
        assert all(code in locations for code in channel["locations"])
        if channel["kind"] == "store":
            assert channel["locations"] == [channel["location"]]
            assert locations[channel["location"]] == "store"
        else:
            assert channel["location"] is None
            assert {"DC-01", "DC-02"} <= set(channel["locations"])
            assert set(stores) <= set(channel["locations"])


def test_assortments_put_everything_online_and_most_in_stores(document: dict[str, Any]) -> None:
    channels = {c["code"] for c in document["channels"]}
    products = {p["code"] for p in document["products"]}
    categories = {c["code"] for c in document["categories"]}
    by_code = {a["code"]: a for a in document["assortments"]}
    for assortment in document["assortments"]:
        assert set(assortment["channels"]) <= channels
        for line in assortment["lines"]:
            assert (line.get("product") in products) != (line.get("category") in categories)
    assert "WEB" in by_code["ONLINE"]["channels"]
    assert {line["category"] for line in by_code["ONLINE"]["lines"]} == {"fashion", "home"}
    small = by_code["STORES-SMALL"]
    skipped = {ln["category"] for ln in small["lines"] if ln["exclude"] and "category" in ln}
    assert skipped == set(SMALL_STORE_SKIPS)
    online_only = [ln["product"] for ln in small["lines"] if "product" in ln]
    assert online_only and all(ln["exclude"] for ln in small["lines"] if "product" in ln)
    store_channels = set(by_code["STORES-FULL"]["channels"]) | set(small["channels"])
    assert store_channels == {c for c in channels if c.startswith("STORE-")}
    assert not set(by_code["STORES-FULL"]["channels"]) & set(small["channels"])


@pytest.mark.parametrize("scale", [0, 101])
def test_scale_out_of_range_is_refused(scale: int) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate(seed=1, scale=scale)
