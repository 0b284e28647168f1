"""Store-scoped grants limit what a user sees and what they may grant."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from onestore.catalog.importing import import_catalog
from onestore.db.database import Database


def _stores(db: Database) -> dict[str, str]:
    def store(code: str, lat: float) -> dict[str, Any]:
        return {
            "code": code,
            "name": f"Store {code}",
            "kind": "store",
            "latitude": lat,
            "longitude": -122.3,
            "country": "US",
            "timezone": "America/Los_Angeles",
        }

    with db.uow() as uow:
        import_catalog(
            uow,
            {"format": "onestore.catalog/1", "locations": [store("S1", 47.6), store("S2", 47.2)]},
        )
        uow.commit()
    from onestore.catalog.reference import list_locations

    with db.uow(readonly=True) as uow:
        return {loc.code: loc.id for loc in list_locations(uow)}


def test_a_store_manager_sees_only_their_stores_staff(
    db: Database, client: TestClient, make_staff
) -> None:
    stores = _stores(db)
    _, manager = make_staff("store_manager", stores["S1"])
    cashier1, _ = make_staff("cashier", stores["S1"])
    cashier2, _ = make_staff("cashier", stores["S2"])
    admin_id, admin = make_staff("admin")

    seen = {u["id"] for u in client.get("/api/v1/staff", headers=manager).json()}
    assert cashier1 in seen
    assert cashier2 not in seen
    assert admin_id not in seen

    everyone = {u["id"] for u in client.get("/api/v1/staff", headers=admin).json()}
    assert {cashier1, cashier2, admin_id} <= everyone


def test_a_store_scoped_admin_cannot_grant_beyond_their_store(
    db: Database, client: TestClient, make_staff
) -> None:
    stores = _stores(db)
    _, store_admin = make_staff("admin", stores["S1"])

    def create(key: str, grants: list[dict[str, Any]]) -> int:
        body = {
            "username": f"new-{key}",
            "display_name": "New",
            "password": "correct horse battery",
            "grants": grants,
        }
        headers = store_admin | {"Idempotency-Key": key}
        return client.post("/api/v1/staff", json=body, headers=headers).status_code

    assert create("other-store", [{"role": "cashier", "location_id": stores["S2"]}]) == 403
    assert create("everywhere", [{"role": "cashier", "location_id": None}]) == 403
    assert create("admin", [{"role": "admin", "location_id": stores["S1"]}]) == 403
    assert create("own-store", [{"role": "cashier", "location_id": stores["S1"]}]) == 201
