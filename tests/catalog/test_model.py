"""The catalog's pure rules: barcodes, prices, variant dimensions, attributes, the category
tree and assortment resolution. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onestore.catalog import model
from onestore.catalog.model import (
    AssortmentLine,
    AssortmentRule,
    AttributeDefinition,
    AttributeType,
    BarcodeKind,
)
from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import Money

# -- barcodes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "gtin"),
    [
        ("73513537", BarcodeKind.EAN8, "00000073513537"),
        ("036000291452", BarcodeKind.UPCA, "00036000291452"),
        ("4006381333931", BarcodeKind.EAN13, "04006381333931"),
        ("98412345678908", BarcodeKind.GTIN14, "98412345678908"),
        (" 4006 3813-3393 1 ", BarcodeKind.EAN13, "04006381333931"),
    ],
)
def test_barcode_kinds_and_gtin14(raw: str, kind: BarcodeKind, gtin: str) -> None:
    parsed = model.parse_barcode(raw)
    assert (parsed.kind, parsed.gtin) == (kind, gtin)
    assert parsed.code == raw.replace(" ", "").replace("-", "")


def test_upca_ean13_and_gtin14_forms_are_one_gtin() -> None:
    forms = ["036000291452", "0036000291452", "00036000291452"]
    assert {model.parse_barcode(f).gtin for f in forms} == {"00036000291452"}


def test_wrong_check_digit_names_the_field_and_says_check_digit() -> None:
    with pytest.raises(ValidationFailed) as caught:
        model.parse_barcode("4006381333932", field="variants.0.barcodes.1")
    (error,) = caught.value.errors
    assert error.field == "variants.0.barcodes.1"
    assert "check digit" in error.reason and "expected 1" in error.reason


@pytest.mark.parametrize(
    ("raw", "words"),
    [("40063813339", "8, 12, 13 or 14 digits"), ("4006381A33931", "only digits"), ("", "digits")],
)
def test_malformed_barcodes_say_why(raw: str, words: str) -> None:
    with pytest.raises(ValidationFailed, match=words):
        model.parse_barcode(raw)


def test_overlong_barcode_input_is_refused_before_parsing() -> None:
    with pytest.raises(ValidationFailed, match="at most 32"):
        model.parse_barcode("1" * 33)


@given(
    length=st.sampled_from([8, 12, 13, 14]),
    data=st.data(),
)
def test_any_valid_gtin_round_trips_through_its_gtin14(length: int, data: st.DataObject) -> None:
    body = data.draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    code = model.with_check_digit(body)
    parsed = model.parse_barcode(code)
    assert len(parsed.gtin) == 14 and parsed.gtin.endswith(code)
    assert parsed.kind == {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}[length]
    again = model.parse_barcode(parsed.gtin)
    assert again.gtin == parsed.gtin
    longer = {8: 14, 12: 13, 13: 14, 14: 14}[length]  # e.g. UPC-A scanned as an EAN-13
    assert model.parse_barcode(code.rjust(longer, "0")).gtin == parsed.gtin


@given(body=st.text(alphabet="0123456789", min_size=12, max_size=12), bump=st.integers(1, 9))
def test_every_wrong_check_digit_is_caught(body: str, bump: int) -> None:
    good = model.with_check_digit(body)
    bad = body + str((int(good[-1]) + bump) % 10)
    with pytest.raises(ValidationFailed, match="check digit"):
        model.parse_barcode(bad)


# -- prices -------------------------------------------------------------------------------------


def price(amount: object, currency: object = "USD") -> Money:
    return model.parse_price(amount, currency, amount_field="list_price", currency_field="currency")


def test_price_is_a_decimal_string_in_a_known_currency() -> None:
    assert price("29.9") == Money(Decimal("29.90"), "USD")
    assert price("1500", "JPY") == Money(Decimal("1500"), "JPY")
    assert price("1.250", "KWD").amount == Decimal("1.250")


@pytest.mark.parametrize(
    ("amount", "currency", "field", "words"),
    [
        (Decimal("29.95"), "USD", "list_price", "not a JSON number"),
        (30, "USD", "list_price", "not a JSON number"),
        (29.95, "USD", "list_price", "not a JSON number"),
        ("-1.00", "USD", "list_price", "negative"),
        ("NaN", "USD", "list_price", "finite"),
        ("Infinity", "USD", "list_price", "finite"),
        ("1e13", "USD", "list_price", "at most"),
        ("12.345", "USD", "list_price", "at most 2 decimal"),
        ("12.5", "JPY", "list_price", "at most 0 decimal"),
        ("twelve", "USD", "list_price", "not a decimal"),
        ("12.00", "XYZ", "currency", "unknown currency"),
        ("12.00", 840, "currency", "ISO 4217"),
    ],
)
def test_bad_prices_name_the_field(
    amount: object, currency: object, field: str, words: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        price(amount, currency)
    assert caught.value.errors[0].field == field
    assert words in caught.value.errors[0].reason


# -- dimensions ---------------------------------------------------------------------------------


def test_dimensions_are_put_in_canonical_order_and_checked() -> None:
    assert model.check_dimensions(["colour", "size"]) == ("size", "colour")
    with pytest.raises(ValidationFailed, match="one of size"):
        model.check_dimensions(["fit"])
    with pytest.raises(ValidationFailed, match="twice"):
        model.check_dimensions(["size", "size"])


def test_a_variant_sets_exactly_the_products_dimensions() -> None:
    errors = model.variant_dimension_errors(
        ("size", "colour"), {"size": "M", "colour": None, "style": "slim"}, "variants.2."
    )
    assert [(e.field, e.reason.split(":")[0]) for e in errors] == [
        ("variants.2.colour", "required"),
        ("variants.2.style", "must be empty"),
    ]
    assert model.variant_dimension_errors(("size",), {"size": "M"}) == []


def test_duplicate_combinations_are_refused_even_with_empty_dimensions() -> None:
    values = [{"size": "M"}, {"size": "L"}, {"size": "M"}]
    (error,) = model.combination_errors(values)
    assert error.field == "variants.2" and "variants.0" in error.reason
    # Two variants of a product with no dimensions collide (SQL NULLs would not).
    assert model.combination_errors([{}, {}])
    clash = model.combination_errors([{"size": "M"}], [("M", None, None)])
    assert clash and "another variant" in clash[0].reason
    # The importer reports clashes inside a document itself: only stored ones here.
    assert model.combination_errors([{"size": "L"}, {"size": "L"}], within=False) == []


def test_draft_errors_reports_everything_at_once() -> None:
    usd = Money.of("10.00", "USD")
    draft = model.ProductDraft(
        code="P",
        name="P",
        unit="ea",
        dimensions=("size",),
        variants=(
            model.VariantDraft("A", usd, size="M", barcodes=("4006381333931",)),
            model.VariantDraft("A", usd, size="M", barcodes=("4006381333931", "123")),
            model.VariantDraft("B", usd, colour="red"),
        ),
    )
    fields = {e.field for e in model.draft_errors(draft)}
    assert fields == {
        "variants.1.sku",
        "variants.1.barcodes.0",
        "variants.1.barcodes.1",
        "variants.2.size",
        "variants.2.colour",
        "variants.1",
    }


# -- attributes ---------------------------------------------------------------------------------

DEFINITIONS = {
    "material": AttributeDefinition("material", "Material", AttributeType.CHOICE, ("wool",)),
    "care": AttributeDefinition("care", "Care", AttributeType.TEXT),
    "weight": AttributeDefinition("weight", "Weight", AttributeType.NUMBER),
    "organic": AttributeDefinition("organic", "Organic", AttributeType.BOOLEAN),
}


def test_attribute_values_are_checked_and_normalised() -> None:
    clean, errors = model.attribute_errors(
        {"material": "wool", "care": "hand wash", "weight": Decimal("12.50"), "organic": True},
        DEFINITIONS,
    )
    assert errors == []
    assert clean == {"material": "wool", "care": "hand wash", "weight": "12.5", "organic": True}
    assert model.attribute_errors({"weight": 300}, DEFINITIONS)[0] == {"weight": "300"}


def test_bad_attribute_values_each_name_their_attribute() -> None:
    _, errors = model.attribute_errors(
        {"material": "silk", "weight": "heavy", "organic": "yes", "colourway": "x", "care": 5},
        DEFINITIONS,
    )
    assert {e.field for e in errors} == {
        "attributes.material",
        "attributes.weight",
        "attributes.organic",
        "attributes.colourway",
        "attributes.care",
    }


def test_attribute_definitions_need_choices_only_for_choice() -> None:
    assert model.definition_errors("choice", ["a", "b"]) == []
    assert model.definition_errors("choice", [])[0].field == "choices"
    assert model.definition_errors("choice", ["a", "a"])[0].field == "choices.1"
    assert model.definition_errors("text", ["a"])[0].field == "choices"
    assert model.definition_errors("colour", None)[0].field == "value_type"


# -- categories ---------------------------------------------------------------------------------

TREE = {"root": None, "a": "root", "a1": "a", "a2": "a", "b": "root"}


def test_moving_a_category_below_itself_is_a_cycle() -> None:
    assert model.creates_cycle("a", "a1", TREE)
    assert model.creates_cycle("a", "a", TREE)
    assert not model.creates_cycle("a1", "b", TREE)
    assert not model.creates_cycle("a", None, TREE)


def test_every_category_on_a_loop_is_found() -> None:
    looped = {**TREE, "x": "y", "y": "z", "z": "x", "w": "x"}
    assert model.categories_in_cycles(looped) == {"x", "y", "z"}
    assert model.categories_in_cycles(TREE) == set()


def test_descendants_include_the_whole_subtree() -> None:
    assert model.descendants(["a"], TREE) == {"a", "a1", "a2"}
    assert model.descendants(["root"], TREE) == set(TREE)


# -- assortments --------------------------------------------------------------------------------

PRODUCTS = {"p-a1": "a1", "p-a2": "a2", "p-b": "b", "p-none": None}
DAY = date(2026, 6, 1)


def rule(
    *lines: AssortmentLine, start: date | None = None, end: date | None = None
) -> AssortmentRule:
    return AssortmentRule("r", start, end, lines)


def test_category_lines_include_sub_categories_and_excludes_win() -> None:
    core = rule(
        AssortmentLine(category_id="a"),
        AssortmentLine(product_id="p-b"),
        AssortmentLine(category_id="a2", exclude=True),
    )
    assert model.resolve_assortments([core], DAY, PRODUCTS, TREE) == {"p-a1", "p-b"}
    # An exclude of a product wins over an include of its category.
    no_a1 = rule(
        AssortmentLine(category_id="root"), AssortmentLine(product_id="p-a1", exclude=True)
    )
    assert model.resolve_assortments([no_a1], DAY, PRODUCTS, TREE) == {"p-a2", "p-b"}


def test_assortments_are_resolved_one_by_one_and_unioned_on_valid_dates() -> None:
    core = rule(AssortmentLine(category_id="root"), AssortmentLine(category_id="b", exclude=True))
    seasonal = rule(AssortmentLine(product_id="p-b"), start=date(2026, 5, 1), end=DAY)
    assert model.resolve_assortments([core, seasonal], DAY, PRODUCTS, TREE) == {
        "p-a1",
        "p-a2",
        "p-b",
    }
    later = date(2026, 6, 2)  # valid_to is inclusive; the day after it is over
    assert model.resolve_assortments([core, seasonal], later, PRODUCTS, TREE) == {"p-a1", "p-a2"}
    assert model.resolve_assortments([], DAY, PRODUCTS, TREE) == frozenset()


def test_date_ranges_must_not_run_backwards() -> None:
    assert model.date_range_errors(date(2026, 2, 1), date(2026, 1, 1))[0].field == "valid_to"
    assert model.date_range_errors(DAY, DAY) == []


# -- channels and lists -------------------------------------------------------------------------


def test_a_store_channel_needs_a_store_location_and_others_none() -> None:
    assert model.channel_location_errors("store", "store", True) == []
    assert model.channel_location_errors("store", None, False)[0].field == "location"
    assert "store location" in model.channel_location_errors("store", "dc", True)[0].reason
    assert model.channel_location_errors("web", "dc", True)[0].field == "location"


def test_lowest_price_stays_in_the_majority_currency() -> None:
    usd, eur = Money.of("10.00", "USD"), Money.of("5.00", "EUR")
    assert model.lowest_price([(usd, 3), (Money.of("9.00", "USD"), 1), (eur, 2)]) == Money.of(
        "9.00", "USD"
    )
    assert model.lowest_price([]) is None


def test_codes_are_url_safe() -> None:
    assert model.code_problem("P-000001_a.b", 64) is None
    assert model.code_problem("a/b", 64) is not None
    assert model.code_problem("-a", 64) is not None
    assert model.code_problem("x" * 65, 64) is not None
