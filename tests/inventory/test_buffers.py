"""Buffer stock policies on both backends: recompute with each method, precedence on real
balances, velocity from the ledger, resets, explanations, the API and the CLI. After every
test the books balance (buffers move no unit)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onestore.catalog import service as catalog_service
from onestore.catalog import taxonomy
from onestore.catalog.reference import get_location_or_raise
from onestore.catalog.schemas import ProductIn
from onestore.cli import main
from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.inventory import availability, balances, buffers, refs, service
from onestore.inventory.buffer_rules import NO_POLICY, PolicyDraft
from onestore.inventory.tables import balances as balance_table
from onestore.kernel.clock import FrozenClock
from onestore.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from onestore.settings import get_settings

from .conftest import assert_books_balance, row_counts, run

SKUS = ["SKU-1", "APP-1", "LIN-1", "LIN-2"]  # no category, APPAREL, LINEN (< SHIRTS < APPAREL)
LOCATIONS = ["DC-01", "ST-01", "ST-02"]  # WEB is served by DC-01 and ST-01
URL = "/api/v1/inventory/buffer-policies"
DAY = timedelta(days=1)
Keys = Callable[[dict[str, str]], dict[str, str]]


def _product(uow: Any, code: str, category: str, skus: list[str]) -> None:
    body = {
        "code": code,
        "name": f"Product {code}",
        "unit": "ea",
        "category": category,
        "dimensions": ["size"],
        "variants": [{"sku": s, "currency": "USD", "list_price": "10.00", "size": s} for s in skus],
    }
    catalog_service.create_product(uow, ProductIn.model_validate(body).to_draft())


@pytest.fixture
def shop(stock: Database, clock: FrozenClock) -> Iterator[Database]:
    """Categories APPAREL > SHIRTS > LINEN; APP-1 in APPAREL, LIN-1 and LIN-2 in LINEN, SKU-1
    in none; 20 of each SKU received at each location 60 days ago (12 balances)."""
    now = clock.now()
    with stock.uow() as uow:
        taxonomy.create_category(uow, code="APPAREL", name="Apparel")
        taxonomy.create_category(uow, code="SHIRTS", name="Shirts", parent="APPAREL")
        taxonomy.create_category(uow, code="LINEN", name="Linen", parent="SHIRTS")
        _product(uow, "P-2", "APPAREL", ["APP-1"])
        _product(uow, "P-3", "LINEN", ["LIN-1", "LIN-2"])
        uow.commit()
    clock.set(now - 60 * DAY)
    with stock.uow() as uow:
        for sku in SKUS:
            for location in LOCATIONS:
                service.receive(uow, sku, location, 20)
        uow.commit()
    clock.set(now)
    yield stock
    assert_books_balance(stock)


def policy(db: Database, name: str, method: str = "fixed", **fields: Any) -> buffers.PolicyView:
    return run(db, buffers.create_policy, PolicyDraft(name=name, method=method, **fields))


def grid(db: Database) -> dict[str, list[int]]:
    """SKU -> buffer at DC-01, ST-01, ST-02."""
    with db.uow(readonly=True) as uow:
        found = availability.availability(uow, SKUS, locations=LOCATIONS)
    return {a.sku: [line.buffer for line in a.locations] for a in found}


def explain(db: Database, sku: str, location: str) -> buffers.BufferExplanation:
    with db.uow(readonly=True) as uow:
        return buffers.explain(uow, sku, location)


def changed_events(db: Database) -> int:
    with db.uow(readonly=True) as uow:
        query = select(func.count()).select_from(outbox)
        query = query.where(outbox.c.event_type == "inventory.availability_changed")
        return int(uow.conn.execute(query).scalar_one())


# -- service -----------------------------------------------------------------------------------
def test_recompute_sets_buffers_changes_availability_and_announces_only_changes(
    shop: Database,
) -> None:
    policy(shop, "Floor", units=3, sku="SKU-1", location="ST-01")
    policy(shop, "Shirts web", "percent", percent=Decimal("25"), category="SHIRTS", channel="WEB")
    before = changed_events(shop)
    assert run(shop, buffers.recompute) == buffers.RecomputeResult(examined=12, changed=5)
    assert grid(shop) == {
        "SKU-1": [0, 3, 0],
        "APP-1": [0, 0, 0],
        "LIN-1": [5, 5, 0],
        "LIN-2": [5, 5, 0],
    }
    assert changed_events(shop) == before + 5
    with shop.uow(readonly=True) as uow:
        line = availability.availability(uow, ["LIN-1"], locations=["DC-01"])[0].locations[0]
    assert (line.on_hand, line.buffer, line.available) == (20, 5, 15)
    found = explain(shop, "LIN-1", "DC-01")
    assert found.explanation == (
        "percent policy 'Shirts web' (channel WEB, category SHIRTS): 25% of 20 on hand = 5 → 5"
    )
    assert (found.source, found.policy_name, found.buffer, found.in_step) == (
        "policy",
        "Shirts web",
        5,
        True,
    )
    assert found.inputs["on_hand"] == 20 and found.inputs["percent"] == "25.00"
    # Nothing moved: a second run changes nothing and announces nothing.
    assert run(shop, buffers.recompute) == buffers.RecomputeResult(examined=12, changed=0)
    assert changed_events(shop) == before + 5
    # A sale moves on hand; only that balance's buffer follows, and only it is announced.
    run(shop, service.record_sale, "LIN-1", "ST-01", 8)
    before = changed_events(shop)
    assert run(shop, buffers.recompute).changed == 1  # 25% of 12 = 3
    assert grid(shop)["LIN-1"] == [5, 3, 0]
    assert changed_events(shop) == before + 1


def test_velocity_is_net_sales_at_that_balance_within_the_window(
    shop: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    history = [
        (15 * DAY, "sale", "DC-01", 5),  # outside the 10-day window
        (10 * DAY + timedelta(minutes=1), "sale", "DC-01", 1),  # just outside
        (9 * DAY, "sale", "DC-01", 10),
        (3 * DAY, "return", "DC-01", 2),
        (1 * DAY, "sale", "DC-01", 4),
        (1 * DAY, "sale", "ST-01", 6),  # another balance
    ]
    for ago, kind, location, quantity in history:
        clock.set(now - ago)
        fn = service.record_sale if kind == "sale" else service.record_return
        run(shop, fn, "LIN-1", location, quantity)
    clock.set(now)
    policy(
        shop,
        "Cover",
        "days_of_cover",
        sku="LIN-1",
        location="DC-01",
        days=Decimal("5"),
        risk_class="B",
        velocity_days=10,
    )
    assert run(shop, buffers.recompute).changed == 1
    found = explain(shop, "LIN-1", "DC-01")
    assert found.buffer == 6
    assert found.explanation == (
        "days_of_cover policy 'Cover' (location DC-01, SKU LIN-1): 1.2 units/day × 5 days × "
        "risk B 1.0 = 6 → 6 (12 sold net of returns in the last 10 days)"
    )
    assert found.inputs["sold"] == 12 and found.inputs["velocity"] == "1.2"
    clock.advance(2 * DAY)  # the sale of 10 leaves the window: 4 - 2 = 2 in 10 days
    assert run(shop, buffers.recompute).changed == 1
    assert explain(shop, "LIN-1", "DC-01").buffer == 1  # 0.2 × 5 = 1
    clock.advance(30 * DAY)  # nothing sold in the window: no cover needed
    run(shop, buffers.recompute)
    assert explain(shop, "LIN-1", "DC-01").buffer == 0


def test_the_most_specific_policy_wins_on_real_balances(shop: Database) -> None:
    policy(shop, "base", units=1)
    policy(shop, "apparel", units=2, category="APPAREL")
    policy(shop, "shirts", units=3, category="SHIRTS")
    policy(shop, "lin-2", units=4, sku="LIN-2")
    policy(shop, "st-02", units=7, location="ST-02")
    policy(shop, "shirts web", units=5, category="SHIRTS", channel="WEB")
    policy(shop, "shirts st-01", units=6, category="SHIRTS", location="ST-01")
    run(shop, buffers.recompute)
    assert grid(shop) == {
        "SKU-1": [1, 1, 7],  # all products: the location policy beats the network-wide one
        "APP-1": [2, 2, 2],  # its category beats any all-products policy, even at ST-02
        "LIN-1": [5, 6, 3],  # nearest category SHIRTS: location > channel > everywhere
        "LIN-2": [4, 4, 4],  # its own SKU beats every category
    }
    assert explain(shop, "LIN-1", "ST-01").explanation == (
        "fixed policy 'shirts st-01' (location ST-01, category SHIRTS): 6 units"
    )


def test_hand_sets_stay_unless_a_policy_covers_them_and_lost_policies_reset_to_zero(
    shop: Database,
) -> None:
    run(shop, service.set_buffer, "SKU-1", "ST-02", 4, actor="staff:alice")
    hand = explain(shop, "SKU-1", "ST-02")
    assert (hand.source, hand.buffer, hand.explanation) == ("hand", 4, "set by hand by staff:alice")
    made = policy(shop, "Apparel DC", units=3, category="APPAREL", location="DC-01")
    assert run(shop, buffers.recompute).changed == 3
    assert grid(shop) == {
        "SKU-1": [0, 0, 4],
        "APP-1": [3, 0, 0],
        "LIN-1": [3, 0, 0],
        "LIN-2": [3, 0, 0],
    }
    run(shop, buffers.update_policy, made.id, {"location": "ST-01"})
    assert run(shop, buffers.recompute).changed == 6
    assert grid(shop) == {
        "SKU-1": [0, 0, 4],
        "APP-1": [0, 3, 0],
        "LIN-1": [0, 3, 0],
        "LIN-2": [0, 3, 0],
    }
    reset = explain(shop, "APP-1", "DC-01")
    assert (reset.source, reset.buffer, reset.policy_id, reset.explanation) == (
        "none",
        0,
        None,
        NO_POLICY,
    )
    run(shop, buffers.delete_policy, made.id)
    assert explain(shop, "APP-1", "ST-01").policy_id is None  # the link goes with the policy
    assert run(shop, buffers.recompute).changed == 3
    assert grid(shop)["APP-1"] == [0, 0, 0] and grid(shop)["SKU-1"] == [0, 0, 4]
    assert explain(shop, "SKU-1", "ST-02").source == "hand"
    # A policy that covers a hand-set balance is the standing decision: it takes over.
    policy(shop, "Everything", units=1)
    run(shop, buffers.recompute)
    assert grid(shop)["SKU-1"] == [1, 1, 1]


def test_recompute_one_location_and_in_small_batches(shop: Database) -> None:
    policy(shop, "two", units=2)
    assert run(shop, buffers.recompute, "ST-02") == buffers.RecomputeResult(4, 4)
    assert grid(shop)["LIN-1"] == [0, 0, 2]
    result = run(shop, buffers.recompute, batch_size=5)  # 12 balances: batches of 5, 5, 2
    assert result == buffers.RecomputeResult(12, 8)
    assert all(row == [2, 2, 2] for row in grid(shop).values())
    assert run(shop, buffers.recompute, batch_size=4) == buffers.RecomputeResult(12, 0)


def test_explain_without_any_record(shop: Database) -> None:
    nothing = explain(shop, "SKU-1", "DC-01")
    assert (nothing.source, nothing.buffer, nothing.policy_id) == ("none", 0, None)
    with shop.uow() as uow:  # a buffer written before buffers were explained
        key = (
            refs.variant_ids(uow, ["SKU-1"], ["sku"])[0],
            refs.location_ids(uow, ["DC-01"], ["l"])[0],
        )
        balances.apply(uow, key, {"buffer": 2})
        uow.commit()
    assert explain(shop, "SKU-1", "DC-01").source == "unrecorded"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"units": 1, "sku": "NOPE"}, "sku"),
        ({"units": 1, "category": "NOPE"}, "category"),
        ({"units": 1, "location": "NOPE"}, "location"),
        ({"units": 1, "channel": "NOPE"}, "channel"),
        ({"units": 1, "sku": "SKU-1", "category": "LINEN"}, "category"),
        ({"units": 1, "location": "ST-01", "channel": "WEB"}, "channel"),
        ({}, "units"),
        ({"units": 1, "days": Decimal(1)}, "days"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(
    shop: Database, fields: dict[str, Any], field: str
) -> None:
    before = row_counts(shop)
    with pytest.raises(ValidationFailed) as refused:
        policy(shop, "bad", **fields)
    assert refused.value.errors[0].field == field
    assert row_counts(shop) == before


def _updated_events(db: Database) -> int:
    query = select(func.count()).select_from(outbox)
    query = query.where(outbox.c.event_type == "inventory.buffer_policy_updated")
    with db.uow(readonly=True) as uow:
        return int(uow.conn.execute(query).scalar_one())


def test_updates_merge_like_a_patch(shop: Database, clock: FrozenClock) -> None:
    made = policy(shop, "p", units=1, sku="SKU-1", channel="WEB")
    moved = run(shop, buffers.update_policy, made.id, {"category": "SHIRTS", "location": "ST-01"})
    assert (moved.sku, moved.category, moved.location, moved.channel) == (
        None,
        "SHIRTS",
        "ST-01",
        None,
    )
    cover = {"method": "days_of_cover", "days": Decimal("1.5"), "risk_class": "A"}
    with pytest.raises(ValidationFailed) as refused:  # units dropped, velocity_days missing
        run(shop, buffers.update_policy, made.id, cover)
    assert refused.value.errors[0].field == "velocity_days"
    changed = run(shop, buffers.update_policy, made.id, {**cover, "velocity_days": 28})
    assert (changed.units, changed.days, changed.velocity_days) == (None, "1.50", 28)
    clock.advance(timedelta(hours=1))  # a write now would show in updated_at
    events_before = _updated_events(shop)
    same = run(shop, buffers.update_policy, made.id, {"days": Decimal("1.50")})
    assert same.updated_at == changed.updated_at  # no change, no write
    assert _updated_events(shop) == events_before
    with pytest.raises(NotFound):
        run(shop, buffers.update_policy, "01ARZ3NDEKTSV4RRFFQ69G5FAV", {"name": "x"})
    with pytest.raises(ValidationFailed):
        run(shop, buffers.update_policy, made.id, {"colour": "red"})
    assert [p.name for p in run(shop, buffers.list_policies)] == ["p"]


def test_store_scoped_callers_manage_their_own_location_only(shop: Database) -> None:
    with shop.uow(readonly=True) as uow:
        st01 = frozenset({get_location_or_raise(uow, "ST-01").id})
    draft = PolicyDraft(name="mine", method="fixed", units=1, location="ST-01")
    mine = run(shop, buffers.create_policy, draft, within=st01)
    for wider in ({"location": None}, {"channel": "WEB"}, {"location": "ST-02"}):
        with pytest.raises(PermissionDenied):
            run(shop, buffers.update_policy, mine.id, wider, within=st01)
    with pytest.raises(PermissionDenied):
        run(shop, buffers.recompute, within=st01)
    assert run(shop, buffers.recompute, "ST-01", within=st01).changed == 4


# -- API ---------------------------------------------------------------------------------------
@pytest.fixture
def api(shop: Database, client: TestClient) -> TestClient:
    return client


def test_policy_crud_recompute_and_explain_over_the_api(
    api: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    body = {
        "name": "Web safety",
        "method": "days_of_cover",
        "category": "SHIRTS",
        "channel": "WEB",
        "days": "2",
        "risk_class": "A",
        "velocity_days": 10,
    }
    made = api.post(URL, json=body, headers=keys(admin_headers))
    assert made.status_code == 201, made.text
    policy_id = made.json()["id"]
    assert made.json()["days"] == "2.00" and made.json()["percent"] is None
    listed = api.get(URL, headers=admin_headers).json()
    assert [p["id"] for p in listed] == [policy_id]
    assert api.get(f"{URL}/{policy_id}", headers=admin_headers).json()["name"] == "Web safety"
    patched = api.patch(
        f"{URL}/{policy_id}",
        json={"method": "percent", "percent": 50},
        headers=keys(admin_headers),
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["percent"], patched.json()["days"]) == ("50.00", None)
    done = api.post(f"{URL}/recompute", json={}, headers=keys(admin_headers))
    assert done.json() == {"examined": 12, "changed": 4}
    why = api.get(
        "/api/v1/inventory/buffers",
        params={"sku": "LIN-2", "location": "ST-01"},
        headers=admin_headers,
    ).json()
    assert why["buffer"] == 10 and why["policy_id"] == policy_id
    assert why["explanation"].startswith("percent policy 'Web safety' (channel WEB, category")
    gone = api.delete(f"{URL}/{policy_id}", headers=keys(admin_headers))
    assert gone.status_code == 200 and gone.json()["id"] == policy_id
    assert api.get(f"{URL}/{policy_id}", headers=admin_headers).status_code == 404
    assert api.post(
        f"{URL}/recompute", json={"location": "ST-01"}, headers=keys(admin_headers)
    ).json() == {
        "examined": 4,
        "changed": 2,
    }


def test_a_retried_create_is_replayed_not_repeated(
    api: TestClient, admin_headers: dict[str, str], shop: Database
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "buffer-create-1"}
    body = {"name": "Floor", "method": "fixed", "units": 2, "location": "ST-02"}
    first = api.post(URL, json=body, headers=headers)
    again = api.post(URL, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    assert len(api.get(URL, headers=admin_headers).json()) == 1
    other = api.post(URL, json={**body, "units": 3}, headers=headers)
    assert other.status_code == 422
    rerun = {**admin_headers, "Idempotency-Key": "buffer-recompute-1"}
    assert api.post(f"{URL}/recompute", json={}, headers=rerun).json()["changed"] == 4
    replay = api.post(f"{URL}/recompute", json={}, headers=rerun)
    assert replay.json()["changed"] == 4 and replay.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "percent", "percent": "100.5"}, "percent"),
        ({"method": "percent", "percent": "1.005"}, "percent"),
        ({"method": "fixed", "units": "3"}, "units"),
        ({"method": "fixed"}, "units"),
        ({"method": "fixed", "units": 1, "sku": "NOPE"}, "sku"),
        ({"method": "fixed", "units": 1, "channel": "NOPE"}, "channel"),
        ({"method": "magic"}, "method"),
        ({"method": "fixed", "units": 1, "colour": "red"}, "colour"),
        ({"method": "days_of_cover", "days": "0", "risk_class": "A", "velocity_days": 7}, "days"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    api: TestClient,
    admin_headers: dict[str, str],
    keys: Keys,
    shop: Database,
    body: dict[str, Any],
    field: str,
) -> None:
    before = row_counts(shop)
    answer = api.post(URL, json={"name": "bad", **body}, headers=keys(admin_headers))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field
    after = row_counts(shop)
    after.pop("idempotency_keys"), before.pop("idempotency_keys")  # the refusal is remembered
    assert after == before


def test_permissions(api: TestClient, make_staff: Any, keys: Keys, shop: Database) -> None:
    _, cashier = make_staff("cashier")
    body = {"name": "Floor", "method": "fixed", "units": 2, "location": "ST-01"}
    assert api.post(URL, json=body, headers=keys(cashier)).status_code == 403
    assert api.post(f"{URL}/recompute", json={}, headers=keys(cashier)).status_code == 403
    assert api.get(URL, headers=cashier).status_code == 200
    with shop.uow(readonly=True) as uow:
        st01 = get_location_or_raise(uow, "ST-01").id
    _, manager = make_staff("store_manager", st01)
    assert api.post(URL, json=body, headers=keys(manager)).status_code == 201
    web = {**body, "location": None, "channel": "WEB"}
    assert api.post(URL, json=web, headers=keys(manager)).status_code == 403
    assert api.post(f"{URL}/recompute", json={}, headers=keys(manager)).status_code == 403
    own = api.post(f"{URL}/recompute", json={"location": "ST-01"}, headers=keys(manager))
    assert own.json() == {"examined": 4, "changed": 4}


# -- CLI ---------------------------------------------------------------------------------------
def test_cli_recompute_and_explain(
    shop: Database, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy(shop, "Floor", units=2, location="ST-02")
    run(shop, service.set_buffer, "SKU-1", "DC-01", 1, actor="staff:bob")
    monkeypatch.setenv("ONESTORE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        main(["inventory", "buffers", "recompute", "--location", "DC-01"])
        assert capsys.readouterr().out.strip() == "examined 4, changed 0"
        main(["inventory", "buffers", "recompute"])
        assert capsys.readouterr().out.strip() == "examined 12, changed 4"
        main(["inventory", "buffers", "explain", "LIN-1", "ST-02"])
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == "LIN-1 at ST-02: buffer 2 (policy)"
        assert lines[1] == "fixed policy 'Floor' (location ST-02, all products): 2 units"
        main(["inventory", "buffers", "explain", "SKU-1", "DC-01"])
        assert "set by hand by staff:bob" in capsys.readouterr().out
        with pytest.raises(SystemExit) as done:
            main(["inventory", "buffers", "recompute", "--location", "NOPE"])
        assert done.value.code == 2
        assert capsys.readouterr().err.strip() == "error: location: no location 'NOPE'"
        with pytest.raises(SystemExit) as done:
            main(["inventory", "buffers", "explain", "NOPE", "DC-01"])
        assert done.value.code == 2
        assert capsys.readouterr().err.strip() == "error: sku: no SKU 'NOPE'"
    finally:
        get_settings.cache_clear()
    with shop.uow(readonly=True) as uow:
        row = uow.conn.execute(select(func.sum(balance_table.c.buffer))).scalar_one()
    assert row == 2 * 4 + 1
