"""Product, variant and barcode use cases and the product reads, on every backend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from onestore.catalog import assortments, model, queries, service
from onestore.catalog.assortments import LineSpec
from onestore.catalog.schemas import ProductIn
from onestore.catalog.service import ProductChanges, VariantChanges
from onestore.db.database import Database
from onestore.kernel.errors import Conflict, NotFound, ValidationFailed
from onestore.kernel.money import Money

from .conftest import ean13, events, product, upc, variant


def create(db: Database, body: dict) -> model.ProductDetail:
    with db.uow() as uow:
        created = service.create_product(uow, ProductIn.model_validate(body).to_draft())
        uow.commit()
    return created


def test_create_product_with_variants_and_barcodes(reference: Database) -> None:
    code = ean13()
    created = create(
        reference,
        product(
            attributes={"material": "linen", "weight_g": 180},
            variants=[variant("P-1-S", size="S", barcodes=[code]), variant("P-1-M", size="M")],
        ),
    )
    assert created.category_code == "fashion-women" and created.dimensions == ["size"]
    assert created.attributes == {"material": "linen", "weight_g": "180"}
    assert [v.sku for v in created.variants] == ["P-1-M", "P-1-S"]
    small = created.variants[1]
    assert small.list_price == Money(Decimal("29.95"), "USD")
    assert small.barcodes == [model.BarcodeView(code, "0" + code, "EAN-13")]
    with reference.uow(readonly=True) as uow:
        assert queries.get_product_or_raise(uow, "P-1") == created
        assert queries.get_product_or_raise(uow, created.id) == created
    assert events(reference, "catalog.product_created") == 1


def test_rule_breaks_are_all_reported_and_nothing_is_written(reference: Database) -> None:
    body = product(
        category="nowhere",
        unit="crate",
        attributes={"material": "silk"},
        variants=[variant("X-1", colour="red"), variant("X-1", size="S")],
    )
    with pytest.raises(ValidationFailed) as caught:
        create(reference, body)
    fields = {e.field for e in caught.value.errors}
    assert {
        "category",
        "unit",
        "attributes.material",
        "variants.0.size",
        "variants.1.sku",
    } <= fields
    with reference.uow(readonly=True) as uow:
        assert queries.get_product(uow, "P-1") is None
    assert events(reference, "catalog.product_created") == 0


def test_duplicate_code_sku_or_barcode_is_a_conflict(reference: Database) -> None:
    first = create(reference, product())
    with pytest.raises(Conflict) as caught:
        create(reference, product())
    assert caught.value.errors[0].field == "code"
    taken = first.variants[1].barcodes[0].code
    body = product(
        "P-2", variants=[variant("P-1-S", size="S"), variant("P-2-M", size="M", barcodes=[taken])]
    )
    with pytest.raises(Conflict) as caught:
        create(reference, body)
    assert [e.field for e in caught.value.errors] == ["variants.0.sku", "variants.1.barcodes.0"]
    with reference.uow(readonly=True) as uow:
        assert queries.get_product(uow, "P-2") is None


def test_update_product_checks_version_and_skips_no_op_changes(reference: Database) -> None:
    created = create(reference, product())
    with reference.uow() as uow:
        same = service.update_product(
            uow, "P-1", version=1, changes=ProductChanges(name="Linen shirt")
        )
        uow.commit()
    assert same.version == 1 and events(reference, "catalog.product_updated") == 0
    with reference.uow() as uow:
        updated = service.update_product(
            uow,
            "P-1",
            version=1,
            changes=ProductChanges(name="Linen shirt II", brand=None, category="fashion"),
        )
        uow.commit()
    assert (updated.version, updated.name, updated.brand) == (2, "Linen shirt II", None)
    assert updated.category_code == "fashion" and updated.updated_at >= created.updated_at
    with reference.uow() as uow, pytest.raises(Conflict) as caught:
        service.update_product(uow, "P-1", version=1, changes=ProductChanges(name="stale"))
    assert caught.value.errors[0].field == "version"
    with reference.uow() as uow, pytest.raises(ValidationFailed, match="unknown category"):
        service.update_product(uow, "P-1", version=2, changes=ProductChanges(category="x"))
    assert events(reference, "catalog.product_updated") == 1


def test_add_update_and_discontinue_variants(reference: Database) -> None:
    create(reference, product())
    with reference.uow() as uow:
        draft = model.VariantDraft("P-1-L", Money.of("33.00", "USD"), size="L", barcodes=(upc(),))
        added = service.add_variant(uow, "P-1", draft)
        uow.commit()
    assert added.size == "L" and added.barcodes[0].kind == "UPC-A"
    with reference.uow() as uow, pytest.raises(ValidationFailed, match="already used"):
        service.add_variant(uow, "P-1", model.VariantDraft("P-1-L2", added.list_price, size="L"))
    with reference.uow() as uow, pytest.raises(ValidationFailed) as caught:
        service.add_variant(uow, "P-1", model.VariantDraft("P-1-X", added.list_price))
    assert caught.value.errors[0].field == "size"
    with reference.uow() as uow, pytest.raises(Conflict):
        service.add_variant(uow, "P-1", model.VariantDraft("P-1-S", added.list_price, size="XS"))

    with reference.uow() as uow:
        repriced = service.update_variant(
            uow, "P-1-L", version=1, changes=VariantChanges(list_price="35.5")
        )
        uow.commit()
    assert repriced.list_price == Money(Decimal("35.50"), "USD") and repriced.version == 2
    with reference.uow() as uow, pytest.raises(ValidationFailed, match="decimal places"):
        service.update_variant(
            uow, "P-1-L", version=2, changes=VariantChanges(list_price="1.5", currency="JPY")
        )
    with reference.uow() as uow, pytest.raises(Conflict):
        service.update_variant(uow, "P-1-L", version=1, changes=VariantChanges(status="active"))
    with reference.uow() as uow:
        gone = service.discontinue_variant(uow, "P-1-L")
        again = service.discontinue_variant(uow, "P-1-L")
        uow.commit()
    assert gone.status == again.status == "discontinued"
    assert events(reference, "catalog.variant_updated") == 2
    assert events(reference, "catalog.variant_created") == 1


def test_barcodes_added_found_in_every_form_and_removed(reference: Database) -> None:
    create(reference, product())
    code = upc()
    with reference.uow() as uow:
        added = service.add_barcode(uow, "P-1-M", code)
        assert service.add_barcode(uow, "P-1-M", "0" + code) == added  # already there: no-op
        uow.commit()
    with reference.uow(readonly=True) as uow:
        for form in (code, "0" + code, "00" + code, f" {code[:6]} {code[6:]} "):
            hit = queries.find_variant_by_barcode(uow, form)
            assert (hit.product_code, hit.variant.sku) == ("P-1", "P-1-M")
        with pytest.raises(ValidationFailed) as caught:
            queries.find_variant_by_barcode(uow, code[:-1] + str((int(code[-1]) + 1) % 10))
        assert caught.value.errors[0].field == "barcode"
        assert "check digit" in caught.value.errors[0].reason
        with pytest.raises(NotFound):
            queries.find_variant_by_barcode(uow, ean13())
    with reference.uow() as uow, pytest.raises(Conflict):
        service.add_barcode(uow, "P-1-S", code)
    with reference.uow() as uow:
        service.remove_barcode(uow, "P-1-M", "00" + code)
        uow.commit()
    with reference.uow() as uow:
        with pytest.raises(NotFound):
            service.remove_barcode(uow, "P-1-M", code)
        with pytest.raises(NotFound):
            queries.find_variant_by_barcode(uow, code)
    assert events(reference, "catalog.barcode_added") == 1
    assert events(reference, "catalog.barcode_removed") == 1


def test_list_products_searches_filters_and_pages(reference: Database) -> None:
    shirt = create(reference, product("P-1"))
    create(
        reference,
        product(
            "P-2",
            name="Wool coat",
            brand="Contoso",
            category="fashion-men",
            variants=[variant("COAT-M", "120.00", size="M")],
        ),
    )
    create(
        reference,
        product(
            "H-1",
            name="Lamp",
            brand=None,
            category="home",
            status="draft",
            dimensions=[],
            variants=[],
        ),
    )
    barcode = shirt.variants[1].barcodes[0].code
    with reference.uow(readonly=True) as uow:

        def codes(**filters: object) -> list[str]:
            return [p.code for p in queries.list_products(uow, **filters).items]  # type: ignore[arg-type]

        assert codes() == ["H-1", "P-1", "P-2"]
        assert codes(q="WOOL") == ["P-2"]
        assert codes(q="contoso") == ["P-2"]
        assert codes(q="coat-m") == ["P-2"]
        assert codes(q="p-1") == ["P-1"]
        assert codes(q=barcode) == ["P-1"]
        assert codes(q="0" + barcode) == ["P-1"]  # the GTIN-14 form finds it too
        assert codes(q="%") == []  # LIKE wildcards are literal
        assert codes(category="fashion") == ["P-1", "P-2"]  # sub-categories count
        assert codes(category="fashion-men") == ["P-2"]
        assert codes(status="draft") == ["H-1"]
        assert codes(brand="northwind") == ["P-1"]
        page = queries.list_products(uow, limit=2, offset=1)
        assert (page.total, [p.code for p in page.items]) == (3, ["P-1", "P-2"])
        summary = page.items[0]
        assert summary.variant_count == 2 and summary.min_price == Money.of("29.95", "USD")
        assert summary.category_name == "Women"
        lamp = queries.list_products(uow, q="lamp").items[0]
        assert lamp.min_price is None and lamp.variant_count == 0
        for bad in (
            {"limit": 0},
            {"limit": 101},
            {"offset": -1},
            {"status": "gone"},
            {"category": "nope"},
            {"channel": "nope"},
        ):
            with pytest.raises(ValidationFailed):
                queries.list_products(uow, **bad)  # type: ignore[arg-type]


def test_channel_filter_uses_todays_assortment(reference: Database) -> None:
    for code, category in (("P-1", "fashion-women"), ("P-2", "fashion-men"), ("P-3", "home")):
        create(
            reference, product(code, category=category, variants=[variant(f"{code}-S", size="S")])
        )
    with reference.uow() as uow:
        assortments.create_assortment(
            uow,
            code="WEB-RANGE",
            name="Web",
            channels=["WEB"],
            lines=[LineSpec(category="fashion"), LineSpec(product="P-2", exclude=True)],
        )
        assortments.create_assortment(
            uow,
            code="WINTER",
            name="Winter",
            valid_from=date(2026, 11, 1),
            valid_to=date(2027, 2, 28),
            channels=["WEB"],
            lines=[LineSpec(product="P-3")],
        )
        uow.commit()
    with reference.uow(readonly=True) as uow:  # the clock says 2026-01-01: no winter range
        assert [p.code for p in queries.list_products(uow, channel="WEB").items] == ["P-1"]
        assert queries.list_products(uow, channel="ST-01").total == 0
        assert queries.offered_product_ids(uow, "WEB", date(2026, 12, 1)) == {
            queries.get_product_or_raise(uow, c).id for c in ("P-1", "P-3")
        }


def test_lookup_by_id_or_code_prefers_the_id(reference: Database) -> None:
    """A product code may look like another product's ULID; the id match must win, whatever
    order the database happens to return the rows in (so both insertion orders are tried)."""

    def by_id(code: str, product_id: str) -> None:
        with reference.uow() as uow:
            draft = ProductIn.model_validate(product(code, variants=[])).to_draft()
            service.create_product(uow, draft, product_id=product_id)
            uow.commit()

    first, second = "01HZZZZZZZZZZZZZZZZZZZZZZ1", "01HZZZZZZZZZZZZZZZZZZZZZZ2"
    create(reference, product(first, variants=[]))  # code = the next product's id
    by_id("REAL-1", first)
    by_id("REAL-2", second)  # id first, then a product whose code is that id
    create(reference, product(second, variants=[]))
    with reference.uow(readonly=True) as uow:
        assert queries.get_product_or_raise(uow, first).code == "REAL-1"
        assert queries.get_product_or_raise(uow, second).code == "REAL-2"
        assert queries.get_product_or_raise(uow, "REAL-2").id == second
