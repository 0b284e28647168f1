"""The catalog API for products, variants and barcodes, through the real app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onestore.db.database import Database

from .conftest import ean13, events, product, upc, variant

BASE = "/api/v1/catalog"
Keys = Callable[[dict[str, str]], dict[str, str]]


@pytest.fixture
def merch(make_staff: Any, reference: Database) -> dict[str, str]:
    return make_staff("merchandiser")[1]


def post(client: TestClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.post(BASE + path, json=body, headers=headers)


def product_count(db: Database) -> int:
    from onestore.catalog import queries

    with db.uow(readonly=True) as uow:
        return queries.list_products(uow).total


def test_create_read_update_product(client: TestClient, merch: dict, keys: Keys) -> None:
    created = post(client, "/products", product(), keys(merch))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["code"] == "P-1" and body["version"] == 1
    assert body["variants"][0]["list_price"] == {"amount": "31.50", "currency": "USD"}
    assert body["variants"][1]["barcodes"][0]["kind"] == "EAN-13"
    got = client.get(f"{BASE}/products/P-1", headers=merch)
    assert got.status_code == 200 and got.json() == body
    assert client.get(f"{BASE}/products/{body['id']}", headers=merch).json() == body

    patched = client.patch(
        f"{BASE}/products/P-1", json={"version": 1, "name": "Shirt", "brand": None}, headers=merch
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["brand"], patched.json()["version"]) == (
        "Shirt",
        None,
        2,
    )
    stale = client.patch(f"{BASE}/products/P-1", json={"version": 1, "name": "X"}, headers=merch)
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "version"
    nulled = client.patch(f"{BASE}/products/P-1", json={"version": 2, "name": None}, headers=merch)
    assert nulled.status_code == 422 and "name cannot be null" in nulled.text
    missing = client.get(f"{BASE}/products/NOPE", headers=merch)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_variants_and_barcodes_through_the_api(client: TestClient, merch: dict, keys: Keys) -> None:
    post(client, "/products", product(), keys(merch))
    added = post(client, "/products/P-1/variants", variant("P-1-L", "33.00", size="L"), keys(merch))
    assert added.status_code == 201, added.text
    got = client.get(f"{BASE}/variants/P-1-L", headers=merch)
    assert got.json()["product_code"] == "P-1" and got.json()["variant"]["version"] == 1
    repriced = client.patch(
        f"{BASE}/variants/P-1-L", json={"version": 1, "list_price": "34.00"}, headers=merch
    )
    assert repriced.json()["list_price"] == {"amount": "34.00", "currency": "USD"}
    as_number = client.patch(
        f"{BASE}/variants/P-1-L", json={"version": 2, "list_price": 34.5}, headers=merch
    )
    assert as_number.status_code == 422
    assert as_number.json()["errors"][0] == {
        "field": "list_price",
        "reason": 'must be a decimal string such as "12.50", not a JSON number',
    }
    stopped = client.post(f"{BASE}/variants/P-1-L/discontinue", headers=merch)
    assert stopped.json()["status"] == "discontinued"
    assert client.post(f"{BASE}/variants/P-1-L/discontinue", headers=merch).status_code == 200

    code = upc()
    attached = post(client, "/variants/P-1-L/barcodes", {"code": code}, keys(merch))
    assert attached.status_code == 201 and attached.json()["gtin"] == "00" + code
    for form in (code, "0" + code, "00" + code):
        hit = client.get(f"{BASE}/barcodes/{form}", headers=merch)
        assert hit.status_code == 200 and hit.json()["variant"]["sku"] == "P-1-L"
    bad = client.get(f"{BASE}/barcodes/{code[:-1]}{(int(code[-1]) + 1) % 10}", headers=merch)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "barcode"
    assert "check digit" in bad.json()["errors"][0]["reason"]
    assert client.get(f"{BASE}/barcodes/{ean13()}", headers=merch).status_code == 404
    taken = post(client, "/variants/P-1-S/barcodes", {"code": code}, keys(merch))
    assert taken.status_code == 409
    removed = client.delete(f"{BASE}/variants/P-1-L/barcodes/{code}", headers=merch)
    assert removed.status_code == 204
    assert client.delete(f"{BASE}/variants/P-1-L/barcodes/{code}", headers=merch).status_code == 404


def test_list_paging_bounds_and_filters(client: TestClient, merch: dict, keys: Keys) -> None:
    for n in range(3):
        post(client, "/products", product(f"P-{n}", name=f"Shirt {n}"), keys(merch))
    page = client.get(f"{BASE}/products", params={"limit": 2, "offset": 1}, headers=merch).json()
    assert page["total"] == 3 and [p["code"] for p in page["items"]] == ["P-1", "P-2"]
    assert page["items"][0]["min_price"] == {"amount": "29.95", "currency": "USD"}
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"offset": 10**9 + 1},
        {"limit": "ten"},
        {"q": "x" * 201},
        {"status": "gone"},
        {"category": "no"},
    ):
        response = client.get(f"{BASE}/products", params=params, headers=merch)
        assert response.status_code == 422, (params, response.text)
    found = client.get(f"{BASE}/products", params={"q": "shirt 2"}, headers=merch).json()
    assert [p["code"] for p in found["items"]] == ["P-2"]
    by_cat = client.get(f"{BASE}/products", params={"category": "fashion"}, headers=merch)
    assert by_cat.json()["total"] == 3


def test_permissions(client: TestClient, make_staff: Any, reference: Database, keys: Keys) -> None:
    cashier = make_staff("cashier")[1]
    assert client.get(f"{BASE}/products", headers=cashier).status_code == 200
    denied = post(client, "/products", product(), keys(cashier))
    assert denied.status_code == 403
    assert client.get(f"{BASE}/products").status_code == 401
    assert post(client, "/products", product(), {"Idempotency-Key": "k"}).status_code == 401
    patch = client.patch(f"{BASE}/products/P-1", json={"version": 1}, headers=cashier)
    assert patch.status_code == 403
    assert product_count(reference) == 0


def test_idempotent_create(client: TestClient, merch: dict, reference: Database) -> None:
    headers = {**merch, "Idempotency-Key": "create-p1"}
    first = post(client, "/products", product(variants=[variant("P-1-S", size="S")]), headers)
    again = post(client, "/products", product(variants=[variant("P-1-S", size="S")]), headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    other = post(client, "/products", product(name="Other"), headers)
    assert other.status_code == 422 and "idempotency-key-reused" in other.json()["type"]
    missing = post(client, "/products", product("P-9"), merch)
    assert missing.status_code == 400
    assert product_count(reference) == 1 and events(reference, "catalog.product_created") == 1


BAD_BODIES: list[tuple[str, Callable[[dict], None], int, str]] = [
    (
        "check digit",
        lambda b: b["variants"][0].update(barcodes=["4006381333932"]),
        422,
        "variants.0.barcodes.0",
    ),
    (
        "unknown currency",
        lambda b: b["variants"][0].update(currency="XYZ"),
        422,
        "variants.0.currency",
    ),
    (
        "price as number",
        lambda b: b["variants"][0].update(list_price=29.95),
        422,
        "variants.0.list_price",
    ),
    (
        "price as integer",
        lambda b: b["variants"][0].update(list_price=30),
        422,
        "variants.0.list_price",
    ),
    (
        "NaN string",
        lambda b: b["variants"][0].update(list_price="NaN"),
        422,
        "variants.0.list_price",
    ),
    (
        "negative",
        lambda b: b["variants"][0].update(list_price="-0.01"),
        422,
        "variants.0.list_price",
    ),
    ("huge", lambda b: b["variants"][0].update(list_price="1" * 20), 422, "variants.0.list_price"),
    (
        "decimals",
        lambda b: b["variants"][0].update(list_price="1.001"),
        422,
        "variants.0.list_price",
    ),
    ("long name", lambda b: b.update(name="x" * 201), 422, "name"),
    ("long sku", lambda b: b["variants"][0].update(sku="S" * 65), 422, "variants.0.sku"),
    ("unknown field", lambda b: b.update(colour="red"), 422, "colour"),
    ("unknown variant field", lambda b: b["variants"][0].update(qty=1), 422, "variants.0.qty"),
    ("bad dimension", lambda b: b.update(dimensions=["fit"]), 422, "dimensions.0"),
    ("duplicate sku", lambda b: b["variants"][1].update(sku="TAKEN-1"), 409, "variants.1.sku"),
]


def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    client: TestClient, merch: dict, keys: Keys, reference: Database
) -> None:
    """One test over every case: each needs the same (slow to hash) staff user and catalog."""
    taken = post(
        client,
        "/products",
        product("TAKEN", variants=[variant("TAKEN-1")], dimensions=[]),
        keys(merch),
    )
    assert taken.status_code == 201
    before = events(reference)
    for name, spoil, status, field in BAD_BODIES:
        body = product()
        spoil(body)
        response = post(client, "/products", body, keys(merch))
        assert response.status_code == status, (name, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (name, response.json())
        assert product_count(reference) == 1 and events(reference) == before, name


def test_json_nan_and_duplicate_keys_are_refused(
    client: TestClient, merch: dict, keys: Keys, reference: Database
) -> None:
    raw = (
        '{"code": "P-1", "name": "x", "unit": "ea", "variants": [{"sku": "A", '
        '"currency": "USD", "list_price": NaN}]}'
    )
    response = client.post(
        f"{BASE}/products", content=raw, headers={**keys(merch), "content-type": "application/json"}
    )
    assert response.status_code == 400 and "NaN" in response.json()["detail"]
    dup = '{"code": "P-1", "code": "P-2", "name": "x", "unit": "ea"}'
    response = client.post(
        f"{BASE}/products", content=dup, headers={**keys(merch), "content-type": "application/json"}
    )
    assert response.status_code == 400 and "duplicate key" in response.json()["detail"]
    assert product_count(reference) == 0
