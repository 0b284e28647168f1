"""The catalog API for units, categories, attributes, locations, channels and assortments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from onestore.db.database import Database

BASE = "/api/v1/catalog"
Keys = Callable[[dict[str, str]], dict[str, str]]

LOCATION = {
    "code": "ST-02",
    "name": "Tacoma store",
    "kind": "store",
    "latitude": 47.25,
    "longitude": -122.44,
    "street": "1 Pacific Ave",
    "city": "Tacoma",
    "postcode": "98402",
    "region": "WA",
    "country": "US",
    "timezone": "America/Los_Angeles",
}


def test_units_categories_attributes(
    client: TestClient, make_staff: Any, reference: Database, keys: Keys
) -> None:
    merch = make_staff("merchandiser")[1]
    unit = client.post(f"{BASE}/units", json={"code": "pair", "name": "Pair"}, headers=keys(merch))
    assert unit.status_code == 201 and unit.json() == {
        "code": "pair",
        "name": "Pair",
        "decimals": 0,
    }
    units = client.get(f"{BASE}/units", params={"limit": 1, "offset": 1}, headers=merch).json()
    assert units == {"items": [unit.json()], "total": 2, "limit": 1, "offset": 1}
    bad_unit = client.post(
        f"{BASE}/units", json={"code": "kg", "name": "Kilo", "decimals": "3"}, headers=keys(merch)
    )
    assert bad_unit.status_code == 422 and bad_unit.json()["errors"][0]["field"] == "decimals"

    tops = client.post(
        f"{BASE}/categories",
        json={"code": "tops", "name": "Tops", "parent": "fashion-women"},
        headers=keys(merch),
    )
    assert tops.status_code == 201 and tops.json()["parent_code"] == "fashion-women"
    loop = client.patch(f"{BASE}/categories/fashion", json={"parent": "tops"}, headers=merch)
    assert loop.status_code == 422 and loop.json()["errors"][0]["field"] == "parent"
    moved = client.patch(f"{BASE}/categories/tops", json={"parent": None}, headers=merch)
    assert moved.status_code == 200 and moved.json()["parent_code"] is None
    children = client.get(f"{BASE}/categories", params={"parent": "fashion"}, headers=merch)
    assert [c["code"] for c in children.json()["items"]] == ["fashion-men", "fashion-women"]
    dup = client.post(f"{BASE}/categories", json={"code": "tops", "name": "T"}, headers=keys(merch))
    assert dup.status_code == 409

    fit = client.post(
        f"{BASE}/attributes",
        json={"code": "fit", "name": "Fit", "value_type": "choice", "choices": ["slim"]},
        headers=keys(merch),
    )
    assert fit.status_code == 201
    grown = client.patch(
        f"{BASE}/attributes/fit", json={"choices": ["slim", "loose"]}, headers=merch
    )
    assert grown.json()["choices"] == ["slim", "loose"]
    shrunk = client.patch(f"{BASE}/attributes/fit", json={"choices": ["loose"]}, headers=merch)
    assert shrunk.status_code == 422
    no_choices = client.post(
        f"{BASE}/attributes",
        json={"code": "cut", "name": "Cut", "value_type": "choice"},
        headers=keys(merch),
    )
    assert no_choices.status_code == 422


def test_locations_need_locations_write(
    client: TestClient, make_staff: Any, reference: Database, keys: Keys
) -> None:
    merch = make_staff("merchandiser")[1]
    admin = make_staff("admin")[1]
    denied = client.post(f"{BASE}/locations", json=LOCATION, headers=keys(merch))
    assert denied.status_code == 403
    created = client.post(f"{BASE}/locations", json=LOCATION, headers=keys(admin))
    assert created.status_code == 201, created.text
    assert created.json()["latitude"] == 47.25 and created.json()["is_active"] is True
    for field, value in (
        ("country", "XX"),
        ("timezone", "Mars/Base"),
        ("latitude", 91),
        ("kind", "warehouse"),
        ("street", "x" * 201),
        ("is_active", "yes"),
    ):
        bad = client.post(
            f"{BASE}/locations", json={**LOCATION, "code": "Z", field: value}, headers=keys(admin)
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == field, field
    patched = client.patch(f"{BASE}/locations/ST-02", json={"city": "Tacoma WA"}, headers=admin)
    assert patched.json()["city"] == "Tacoma WA"
    stores = client.get(f"{BASE}/locations", params={"kind": "store"}, headers=merch).json()
    assert [loc["code"] for loc in stores["items"]] == ["ST-01", "ST-02"]


def test_channels_and_assortments(
    client: TestClient, make_staff: Any, reference: Database, keys: Keys
) -> None:
    merch = make_staff("merchandiser")[1]  # holds channels.write
    cashier = make_staff("cashier")[1]
    body = {
        "code": "MP",
        "name": "Marketplace",
        "kind": "marketplace",
        "currency": "usd",
        "prices_include_tax": False,
        "locations": ["DC-01", "ST-01"],
    }
    assert client.post(f"{BASE}/channels", json=body, headers=keys(cashier)).status_code == 403
    created = client.post(f"{BASE}/channels", json=body, headers=keys(merch))
    assert created.status_code == 201, created.text
    assert created.json()["currency"] == "USD" and created.json()["locations"] == ["DC-01", "ST-01"]
    bad = client.post(
        f"{BASE}/channels", json={**body, "code": "MP2", "currency": "ABC"}, headers=keys(merch)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "currency"
    store_without = client.post(
        f"{BASE}/channels", json={**body, "code": "ST-X", "kind": "store"}, headers=keys(merch)
    )
    assert store_without.status_code == 422
    assert store_without.json()["errors"][0]["field"] == "location"
    narrowed = client.patch(f"{BASE}/channels/MP", json={"locations": ["DC-01"]}, headers=merch)
    assert narrowed.json()["locations"] == ["DC-01"]

    assortment = {
        "code": "MP-RANGE",
        "name": "Marketplace range",
        "valid_from": "2026-01-01",
        "valid_to": None,
        "channels": ["MP"],
        "lines": [{"category": "fashion"}, {"category": "fashion-men", "exclude": True}],
    }
    made = client.post(f"{BASE}/assortments", json=assortment, headers=keys(merch))
    assert made.status_code == 201, made.text
    assert made.json()["valid_from"] == "2026-01-01" and len(made.json()["lines"]) == 2
    both = client.post(
        f"{BASE}/assortments",
        json={**assortment, "code": "X", "lines": [{"category": "home", "product": "P-1"}]},
        headers=keys(merch),
    )
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "lines.0"
    backwards = client.post(
        f"{BASE}/assortments",
        json={**assortment, "code": "Y", "valid_from": "2026-02-01", "valid_to": "2026-01-01"},
        headers=keys(merch),
    )
    assert backwards.status_code == 422
    renamed = client.patch(f"{BASE}/assortments/MP-RANGE", json={"name": "MP"}, headers=merch)
    assert renamed.json()["name"] == "MP"
    listed = client.get(f"{BASE}/assortments", headers=cashier).json()
    assert [a["code"] for a in listed["items"]] == ["MP-RANGE"]
    assert client.get(f"{BASE}/channels/MP", headers=cashier).json()["kind"] == "marketplace"


def test_every_catalog_route_declares_a_permission(app: Any) -> None:
    """The app-wide check lives in tests/api; this one keeps the catalog router honest on its
    own: each route depends on ``require(...)`` (read, write, import...)."""
    from onestore.api.security import declared_permission
    from onestore.catalog.api import router

    def permissions(route: Any) -> set[str]:
        found = set()
        for dep in route.dependant.dependencies:
            value = declared_permission(dep.call)
            if value:
                found.add(value)
        return found

    routes = [r for r in router.routes if hasattr(r, "dependant")]
    from onestore.catalog.api_reference import router as reference_router

    routes += [r for r in reference_router.routes if hasattr(r, "dependant")]
    assert len(routes) > 30
    missing = [r.path for r in routes if not permissions(r)]
    assert missing == []
    writes = {
        r.path: permissions(r)
        for r in routes
        if "POST" in r.methods and r.path.endswith("/locations")
    }
    assert writes == {"/locations": {"locations.write"}}
