"""Importing catalog documents: all or nothing, every bad row reported, upserts, round trips."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onestore.api.strict_json import parse_strict
from onestore.catalog import csv_format, exporting, queries
from onestore.catalog import reference as reads
from onestore.catalog.importing import ImportRejected, ImportReport, import_catalog
from onestore.db.database import Database
from onestore.kernel.money import Money

from .conftest import events
from .documents import barcode, big_document, document


def run(db: Database, doc: dict[str, Any], **options: Any) -> ImportReport:
    with db.uow() as uow:
        report = import_catalog(uow, doc, **options)
        uow.commit()
    return report


def counts(report: ImportReport) -> dict[str, tuple[int, int, int, int]]:
    return {
        name: (r.created, r.updated, r.unchanged, r.invalid) for name, r in report.sections.items()
    }


def product_codes(db: Database) -> list[str]:
    with db.uow(readonly=True) as uow:
        return [p.code for p in queries.list_products(uow, limit=100).items]


def test_imports_every_section_then_reimport_changes_nothing(db: Database) -> None:
    first = run(db, document())
    assert counts(first) == {
        "units": (1, 0, 0, 0),
        "attributes": (2, 0, 0, 0),
        "categories": (3, 0, 0, 0),
        "locations": (2, 0, 0, 0),
        "channels": (2, 0, 0, 0),
        "products": (2, 0, 0, 0),
        "variants": (3, 0, 0, 0),
        "barcodes": (3, 0, 0, 0),
        "assortments": (2, 0, 0, 0),
    }
    emitted = events(db)
    assert emitted == 1 + 2 + 3 + 2 + 2 + 2 + 2
    with db.uow(readonly=True) as uow:
        shirt = queries.get_product_or_raise(uow, "P-000001")
        assert shirt.category_code == "fashion-women" and shirt.attributes == {"material": "cotton"}
        assert shirt.variants[0].list_price == Money.of("29.95", "USD")
        sheet = queries.get_product_or_raise(uow, "P-000002")
        assert sheet.attributes == {"thread_count": "300"} and sheet.status == "draft"
        assert queries.find_variant_by_barcode(uow, "0040000000013").variant.sku == "P-000001-M-BLK"
        store = reads.get_channel_or_raise(uow, "ST-01")
        assert (store.location, store.locations) == ("ST-01", ["ST-01"])
        assert reads.get_category_or_raise(uow, "fashion-women").parent_code == "fashion"
        # The clock says 2026-01-01: ALL offers fashion (not the excluded sheet), WINTER is off.
        assert [p.code for p in queries.list_products(uow, channel="ST-01").items] == ["P-000001"]

    again = run(db, parse_strict(exporting.dumps(document()).encode()))
    assert {k: v[2] for k, v in counts(again).items()} == {
        "units": 1,
        "attributes": 2,
        "categories": 3,
        "locations": 2,
        "channels": 2,
        "products": 2,
        "variants": 3,
        "barcodes": 3,
        "assortments": 2,
    }
    assert all(v[:2] == (0, 0) for v in counts(again).values())
    assert events(db) == emitted


def test_a_bad_row_anywhere_means_nothing_is_imported(db: Database) -> None:
    doc = document()
    good = barcode(2)
    doc["products"][0]["variants"][1]["barcodes"][0] = good[:-1] + str((int(good[-1]) + 1) % 10)
    doc["products"][1]["variants"][0]["list_price"] = 80.0
    doc["products"][0]["category"] = "garden"
    doc["locations"][1]["timezone"] = "Mars/Olympus"
    doc["assortments"][0]["channels"].append("FAX")
    with pytest.raises(ImportRejected) as caught:
        run(db, doc)
    found = {(r.location, r.field) for r in caught.value.rows}
    assert found == {
        ("products[0].variants[1]", "barcodes[0]"),
        ("products[1].variants[0]", "list_price"),
        ("products[0]", "category"),
        ("locations[1]", "timezone"),
        ("channels[1]", "location"),  # ST-01 refers to the bad location row
        ("channels[1]", "locations[0]"),
        ("assortments[0]", "channels[1]"),
        ("assortments[0]", "channels[2]"),  # ST-01 again, and the unknown FAX
        ("assortments[1]", "channels[0]"),
        ("assortments[1].lines[0]", "product"),  # P-000002 is a bad row
        ("assortments[0].lines[1]", "product"),
    }
    reasons = {(r.location, r.field): r.reason for r in caught.value.rows}
    assert "check digit" in reasons[("products[0].variants[1]", "barcodes[0]")]
    assert "not a JSON number" in reasons[("products[1].variants[0]", "list_price")]
    assert "invalid in this document" in reasons[("channels[1]", "location")]
    fields = {e.field for e in caught.value.errors}
    assert "products[0].variants[1].barcodes[0]" in fields
    assert product_codes(db) == [] and events(db) == 0
    with db.uow(readonly=True) as uow:
        assert reads.list_units(uow) == [] and reads.list_locations(uow) == []


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(db: Database) -> None:
    doc = document()
    doc["categories"][2]["parent"] = "nowhere"  # "home": P-000002 is in it
    report = run(db, doc, skip_invalid=True)
    assert [(r.location, r.field) for r in report.errors] == [
        ("categories[2]", "parent"),
        ("products[1]", "category"),
        ("assortments[0].lines[1]", "product"),
        ("assortments[1].lines[0]", "product"),
    ]
    assert "invalid in this document" in report.errors[1].reason
    assert report.sections["products"].created == 1
    assert report.sections["products"].invalid == 1
    assert report.sections["assortments"].invalid == 2
    assert product_codes(db) == ["P-000001"]


def test_rows_clashing_with_each_other_or_the_database(db: Database) -> None:
    run(db, document())
    doc = document()
    doc["products"][1]["variants"][0]["barcodes"] = [barcode(1)]  # on P-000001-S-BLK
    doc["products"][1]["variants"].append(
        dict(doc["products"][1]["variants"][0], sku="P-000001-S-BLK", barcodes=[])
    )
    doc["products"].append(dict(doc["products"][0]))
    doc["products"][0]["dimensions"] = ["size"]
    doc["categories"] += [
        {"code": "a", "name": "A", "parent": "b"},
        {"code": "b", "name": "B", "parent": "a"},
    ]
    with pytest.raises(ImportRejected) as caught:
        run(db, doc)
    reasons: dict[tuple[str, str], str] = {}
    for r in caught.value.rows:
        reasons[(r.location, r.field)] = reasons.get((r.location, r.field), "") + r.reason
    assert "belongs to P-000001-S-BLK" in reasons[("products[1].variants[0]", "barcodes[0]")]
    assert "also in products[0].variants[0]" in reasons[("products[1].variants[0]", "barcodes[0]")]
    assert "belongs to product P-000001" in reasons[("products[1].variants[1]", "sku")]
    assert "appears twice" in reasons[("products[2]", "code")]
    assert "cannot change" in reasons[("products[0]", "dimensions")]
    assert "loop" in reasons[("categories[3]", "parent")]
    assert "loop" in reasons[("categories[4]", "parent")]


def test_reimport_with_changes_updates_and_keeps_what_the_row_omits(db: Database) -> None:
    run(db, document())
    doc = document()
    shirt = doc["products"][0]
    del shirt["attributes"]  # absent: keep what is stored
    shirt["variants"][0]["list_price"] = "24.95"
    shirt["variants"].append(
        {
            "sku": "P-000001-L-BLK",
            "size": "L",
            "colour": "Black",
            "list_price": "29.95",
            "currency": "USD",
            "barcodes": [barcode(3)],
        }
    )
    shirt["variants"][1]["barcodes"].append(barcode(4))
    doc["channels"][0]["locations"] = ["DC-01", "ST-01"]
    report = run(db, doc)
    assert counts(report)["products"] == (0, 1, 1, 0)
    assert counts(report)["variants"] == (1, 1, 2, 0)
    assert counts(report)["barcodes"] == (2, 0, 3, 0)
    assert counts(report)["channels"] == (0, 1, 1, 0)
    assert events(db, "catalog.variant_updated") == 1
    assert events(db, "catalog.variant_created") == 1
    assert events(db, "catalog.barcode_added") == 1
    assert events(db, "catalog.product_updated") == 0  # only its variants changed
    with db.uow(readonly=True) as uow:
        product = queries.get_product_or_raise(uow, "P-000001")
        assert product.attributes == {"material": "cotton"}
        prices = {v.sku: v.list_price.amount for v in product.variants}
        assert str(prices["P-000001-S-BLK"]) == "24.95"
        assert reads.get_channel_or_raise(uow, "WEB").locations == ["DC-01", "ST-01"]


def test_json_and_csv_round_trips_through_export(db: Database) -> None:
    run(db, document())
    with db.uow(readonly=True) as uow:
        exported = exporting.export_document(uow)
    medium = exported["products"][0]["variants"][0]  # variants come sorted by SKU: M before S
    assert medium["sku"] == "P-000001-M-BLK" and medium["list_price"] == "29.95"
    assert sorted(medium["barcodes"]) == sorted([barcode(2), "040000000013"])
    text = exporting.dumps(exported)
    again = run(db, parse_strict(text.encode()))
    assert all(r.created == r.updated == 0 for r in again.sections.values())

    csv_text = csv_format.write_csv(exported)
    assert csv_text.splitlines()[0] == ",".join(csv_format.COLUMNS)
    assert (
        "P-000001,Linen shirt,fashion-women,Northwind,ea,active,,P-000001-M-BLK,M,Black,,"
        "29.95,USD," in csv_text
    )
    parsed = csv_format.read_csv(csv_text)
    assert parsed.errors == []
    assert parsed.document["products"][0]["dimensions"] == ["size", "colour"]
    with db.uow() as uow:
        report = import_catalog(uow, parsed.document, locate=parsed.locate)
        uow.commit()
    assert report.sections["products"].unchanged == 2
    assert all(r.created == r.updated == 0 for r in report.sections.values())
    with db.uow(readonly=True) as uow:  # CSV has no attributes column: they are kept
        assert queries.get_product_or_raise(uow, "P-000002").attributes == {"thread_count": "300"}


CSV_HEADER = ",".join(csv_format.COLUMNS)


def test_csv_problems_are_reported_by_line_and_column(db: Database) -> None:
    run(db, document())  # units and categories exist
    text = "\n".join(
        [
            CSV_HEADER,
            f"C-1,Cap,fashion,Acme,ea,active,,C-1-S,S,,,9.99,USD,{barcode(20)}",
            "C-1,Cap,fashion,Acme,ea,active,,C-1-M,M,,,9.999,USD,",
            "C-1,Cap,fashion,Acme,ea,active,,C-1-L,L,,,9.99,USD,123",
            "C-1,Hat,fashion,Acme,ea,active,,C-1-XL,XL,,,9.99,USD,",
            "C-2,Scarf,nowhere,Acme,ea,,,C-2,,,,5.00,EUR,",
            "C-3,Sock,fashion,Acme,ea,,,C-3,,,,1.00",
        ]
    )
    parsed = csv_format.read_csv(text)
    with db.uow() as uow, pytest.raises(ImportRejected) as caught:
        import_catalog(uow, parsed.document, locate=parsed.locate, known_errors=parsed.errors)
    assert [(r.location, r.field) for r in caught.value.rows] == [
        ("line 5", "product_name"),
        ("line 7", ""),
        ("line 3", "list_price"),
        ("line 4", "barcodes"),
        ("line 6", "category"),
    ]
    assert "9.999" not in str(caught.value.rows[2]) and "decimal places" in str(
        caught.value.rows[2]
    )
    missing = csv_format.read_csv("product_code,name\nx,y\n")
    assert {(r.location, r.field, r.reason) for r in missing.errors} >= {
        ("line 1", "product_name", "missing column"),
        ("line 1", "name", "unknown column"),
    }


def test_import_is_fast_for_a_demo_sized_catalog(db: Database) -> None:
    doc = big_document()
    started = time.perf_counter()
    report = run(db, doc)
    took = time.perf_counter() - started
    assert report.sections["variants"].created == 8000
    assert report.sections["barcodes"].created == 8000
    assert took < 15, f"import took {took:.1f}s"  # ~1.5 s on SQLite, ~3 s on PostgreSQL
    started = time.perf_counter()
    again = run(db, doc)
    assert again.sections["products"].unchanged == 2000
    assert time.perf_counter() - started < 15


def test_import_endpoint(
    client: TestClient,
    make_staff: Callable[..., tuple[str, dict[str, str]]],
    db: Database,
) -> None:
    merch = make_staff("merchandiser")[1]
    cashier = make_staff("cashier")[1]
    url = "/api/v1/catalog/import"
    denied = client.post(url, json=document(), headers={**cashier, "Idempotency-Key": "i1"})
    assert denied.status_code == 403
    bad = document()
    bad["products"][0]["variants"][0]["list_price"] = "-1"
    rejected = client.post(url, json=bad, headers={**merch, "Idempotency-Key": "i2"})
    assert rejected.status_code == 422
    assert rejected.json()["errors"][0]["field"] == "products[0].variants[0].list_price"
    done = client.post(url, json=document(), headers={**merch, "Idempotency-Key": "i3"})
    assert done.status_code == 200, done.text
    assert done.json()["sections"]["products"]["created"] == 2
    skipped = client.post(
        url, params={"skip_invalid": "true"}, json=bad, headers={**merch, "Idempotency-Key": "i4"}
    )
    assert skipped.status_code == 200
    assert skipped.json()["errors"][0]["location"] == "products[0].variants[0]"
    exported = client.get("/api/v1/catalog/export", headers=cashier)
    assert exported.status_code == 200 and len(exported.json()["products"]) == 2


def test_csv_product_only_row_renames_and_empty_cells_keep_stored_values(db: Database) -> None:
    """A row with an empty ``sku`` touches the product only: it must not reset the dimensions
    of a product that has variants, and empty brand/category/status/description cells keep
    what is stored, like every other empty cell."""
    run(db, document())
    text = "\n".join([CSV_HEADER, "P-000001,Linen shirt (new),,,ea,,,,,,,,,"])
    parsed = csv_format.read_csv(text)
    assert "dimensions" not in parsed.document["products"][0]
    with db.uow() as uow:
        report = import_catalog(uow, parsed.document, locate=parsed.locate)
        uow.commit()
    assert report.sections["products"].updated == 1
    with db.uow(readonly=True) as uow:
        shirt = queries.get_product_or_raise(uow, "P-000001")
    assert shirt.name == "Linen shirt (new)"
    assert shirt.dimensions == ["size", "colour"]
    assert (shirt.brand, shirt.category_code, shirt.status) == (
        "Northwind",
        "fashion-women",
        "active",
    )
