"""The pricing API through FastAPI's TestClient: pricing data written through the API, a basket
priced to the cent with its explanation, idempotent writes, problems naming fields, permissions."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onestore.auth import service as auth_service
from onestore.auth.model import PrincipalKind
from onestore.catalog import network, service, taxonomy
from onestore.catalog.schemas import ProductIn
from onestore.db.database import Database
from onestore.db.uow import UnitOfWork

BASE = "/api/v1/pricing"
PROBLEM_JSON = "application/problem+json"
Keys = Callable[[dict[str, str]], dict[str, str]]

TOPS10 = {
    "name": "10% off tops",
    "kind": "simple",
    "concurrency": "best_price",
    "items": {"categories": ["tops"]},
    "method": "percent",
    "value": "10",
}
BUY3 = {
    "name": "Three tees, 20% off",
    "kind": "quantity",
    "concurrency": "best_price",
    "items": {"categories": ["tshirts"]},
    "tiers": [{"min_quantity": "3", "method": "percent", "value": "20"}],
}
JEANS5 = {
    "name": "5.00 off jeans with a coupon",
    "kind": "simple",
    "concurrency": "compounded",
    "currency": "USD",
    "coupon_required": True,
    "items": {"skus": ["JEANS-1"]},
    "method": "amount",
    "value": "5.00",
}
TAX = {
    "format": "onestore.tax/1",
    "rates": [{"tax_group": "standard", "jurisdiction": "US-WA", "rate": "10"}],
    "products": [
        {"product": "TEE", "tax_group": "standard"},
        {"product": "JEANS", "tax_group": "standard"},
    ],
}
BASKET = {
    "channel": "WEB",
    "ship_to": {"country": "US", "region": "WA"},
    "lines": [{"sku": "TEE-S", "quantity": "2"}, {"sku": "JEANS-1", "quantity": 1}],
}


def _product(uow: Any, code: str, category: str, variants: list[tuple[str, str]]) -> None:
    body = {
        "code": code,
        "name": f"Product {code}",
        "unit": "ea",
        "category": category,
        "dimensions": ["size"],
        "variants": [
            {"sku": sku, "currency": "USD", "list_price": amount, "size": sku}
            for sku, amount in variants
        ],
    }
    service.create_product(uow, ProductIn.model_validate(body).to_draft())


def add_store(uow: UnitOfWork, code: str, name: str) -> None:
    """A store in Seattle (Washington, US-WA)."""
    network.create_location(
        uow,
        code=code,
        name=name,
        kind="store",
        latitude=47.6,
        longitude=-122.3,
        country="US",
        region="WA",
        timezone="America/Los_Angeles",
    )


def build_shop(db: Database) -> None:
    """Categories tops > tshirts and bottoms; TEE-S / TEE-M at 20.00 and JEANS-1 at 60.00 (USD);
    store S1 in Washington; channel WEB (prices without tax) and POS-S1 at S1 (with tax)."""
    with db.uow() as uow:
        taxonomy.create_unit(uow, code="ea", name="Each")
        taxonomy.create_category(uow, code="tops", name="Tops")
        taxonomy.create_category(uow, code="tshirts", name="T-shirts", parent="tops")
        taxonomy.create_category(uow, code="bottoms", name="Bottoms")
        _product(uow, "TEE", "tshirts", [("TEE-S", "20.00"), ("TEE-M", "20.00")])
        _product(uow, "JEANS", "bottoms", [("JEANS-1", "60.00")])
        add_store(uow, "S1", "Store One")
        network.create_channel(
            uow, code="WEB", name="Web", kind="web", currency="USD", prices_include_tax=False
        )
        network.create_channel(
            uow,
            code="POS-S1",
            name="Store One tills",
            kind="store",
            currency="USD",
            location="S1",
            prices_include_tax=True,
        )
        uow.commit()


@pytest.fixture
def counter(db: Database) -> Database:
    """The shop of :func:`build_shop`, no pricing data yet."""
    build_shop(db)
    return db


@pytest.fixture
def keys() -> Iterator[Keys]:
    """``keys(headers)`` -> headers plus a fresh Idempotency-Key."""
    numbers = itertools.count(1)
    yield lambda headers: {**headers, "Idempotency-Key": f"pricing-key-{next(numbers)}"}


def put_discount(
    client: TestClient, headers: dict[str, str], code: str, doc: dict[str, Any]
) -> Any:
    return client.put(f"{BASE}/discounts/{code}", json=doc, headers=headers)


@pytest.fixture
def priced_shop(
    counter: Database, client: TestClient, admin_headers: dict[str, str], keys: Keys
) -> TestClient:
    """The client, with TOPS10, BUY3 and JEANS5 (coupon SAVE5) and a 10 % Washington tax
    written through the API by an admin."""
    for code, doc in (("TOPS10", TOPS10), ("BUY3", BUY3), ("JEANS5", JEANS5)):
        answer = put_discount(client, keys(admin_headers), code, doc)
        assert answer.status_code == 201, answer.text
    coupons = {"coupons": [{"code": "save5", "discount": "JEANS5", "max_uses": 100}]}
    answer = client.post(f"{BASE}/coupons", json=coupons, headers=keys(admin_headers))
    assert answer.status_code == 200, answer.text
    answer = client.post(f"{BASE}/tax", json=TAX, headers=keys(admin_headers))
    assert answer.status_code == 200, answer.text
    return client


def amounts(line: dict[str, Any]) -> dict[str, str]:
    return {d["code"]: d["amount"]["amount"] for d in line["discounts"]}


def reasons(line: dict[str, Any]) -> dict[str, str]:
    return {c["code"]: c["reason"] for c in line["considered"]}


# -- pricing a basket ------------------------------------------------------------------------------
def test_a_basket_is_priced_to_the_cent_with_its_explanation(
    priced_shop: TestClient, make_staff: Any
) -> None:
    _, cashier = make_staff("cashier")
    answer = priced_shop.post(f"{BASE}/price", json=BASKET, headers=cashier)
    assert answer.status_code == 200, answer.text
    out = answer.json()
    tee, jeans = out["lines"]
    # TEE-S: 2 × 20.00 = 40.00; 10 % off tops = 4.00; net 36.00; tax 10 % of 36.00 = 3.60.
    # BUY3 needs three tees. JEANS-1: 60.00, no coupon given; tax 6.00.
    assert (tee["unit_price"], tee["price_source"]) == (
        {"amount": "20.00", "currency": "USD"},
        "list price",
    )
    assert tee["gross"]["amount"] == "40.00"
    assert amounts(tee) == {"TOPS10": "4.00"}
    assert tee["discounts"][0]["name"] == "10% off tops"
    assert reasons(tee) == {"BUY3": "needs a quantity of at least 3; the basket has 2"}
    assert (tee["net"]["amount"], tee["tax_rate"], tee["tax"]["amount"]) == ("36.00", "10", "3.60")
    assert amounts(jeans) == {}
    assert reasons(jeans) == {"JEANS5": "needs its coupon code"}
    # ... and says so to a program: what a till or a cart may do with each candidate
    assert [c["why"] for c in tee["considered"]] == ["short"]
    assert [c["why"] for c in jeans["considered"]] == ["coupon"]
    assert (jeans["net"]["amount"], jeans["tax"]["amount"]) == ("60.00", "6.00")
    totals = {k: out[k]["amount"] for k in ("subtotal", "discount_total", "tax_total", "total")}
    # Prices exclude tax on WEB: the customer pays 96.00 + 9.60.
    assert totals == {
        "subtotal": "100.00",
        "discount_total": "4.00",
        "tax_total": "9.60",
        "total": "105.60",
    }
    # The data version it used: the current one, after the fixture's five writes.
    assert out["version"] == priced_shop.get(f"{BASE}/version", headers=cashier).json()["version"]


def test_a_coupon_unlocks_its_discount_case_blind(
    priced_shop: TestClient, admin_headers: dict[str, str]
) -> None:
    basket = {**BASKET, "coupons": ["Save5"]}
    out = priced_shop.post(f"{BASE}/price", json=basket, headers=admin_headers).json()
    jeans = out["lines"][1]
    assert amounts(jeans) == {"JEANS5": "5.00"}
    assert (jeans["net"]["amount"], jeans["tax"]["amount"]) == ("55.00", "5.50")
    assert out["total"]["amount"] == "100.10"  # 36.00 + 55.00 + 3.60 + 5.50


def test_three_tees_reach_the_quantity_tier(
    priced_shop: TestClient, admin_headers: dict[str, str]
) -> None:
    lines = [{"sku": "TEE-S", "quantity": 2}, {"sku": "TEE-M", "quantity": "1"}]
    basket = {"channel": "WEB", "lines": lines}
    out = priced_shop.post(f"{BASE}/price", json=basket, headers=admin_headers).json()
    # 20 % beats 10 %: 8.00 off the two TEE-S, 4.00 off the TEE-M; no tax without ship-to.
    assert [amounts(line) for line in out["lines"]] == [{"BUY3": "8.00"}, {"BUY3": "4.00"}]
    assert reasons(out["lines"][0])["TOPS10"].startswith("a lower price came from BUY3")
    assert (out["total"]["amount"], out["tax_total"]["amount"]) == ("48.00", "0.00")


def test_an_unknown_sku_is_a_422_naming_the_line(
    priced_shop: TestClient, admin_headers: dict[str, str]
) -> None:
    lines = [{"sku": "TEE-S", "quantity": 1}, {"sku": "NOPE", "quantity": 2}]
    basket = {"channel": "WEB", "lines": lines}
    answer = priced_shop.post(f"{BASE}/price", json=basket, headers=admin_headers)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["errors"] == [{"field": "lines[1].sku", "reason": "unknown SKU 'NOPE'"}]


def test_a_float_quantity_or_an_unknown_key_is_refused(
    priced_shop: TestClient, admin_headers: dict[str, str]
) -> None:
    bad = {"channel": "WEB", "lines": [{"sku": "TEE-S", "quantity": 1.5}], "colour": "red"}
    answer = priced_shop.post(f"{BASE}/price", json=bad, headers=admin_headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [
        {"field": "lines[0].quantity", "reason": 'must be a decimal string such as "1.5"'},
        {"field": "colour", "reason": answer.json()["errors"][1]["reason"]},
    ]
    assert answer.json()["errors"][1]["reason"].startswith("unknown key")


def test_pricing_writes_nothing_and_needs_no_key(
    priced_shop: TestClient, admin_headers: dict[str, str]
) -> None:
    before = priced_shop.get(f"{BASE}/version", headers=admin_headers).json()
    for _ in range(2):
        assert priced_shop.post(f"{BASE}/price", json=BASKET, headers=admin_headers).is_success
    assert priced_shop.get(f"{BASE}/version", headers=admin_headers).json() == before


def test_a_customer_prices_a_basket_but_may_not_claim_groups_or_read_coupons(
    priced_shop: TestClient, db: Database
) -> None:
    with db.uow() as uow:
        account = auth_service.create_customer_account(
            uow, email="ada@example.com", password="correct horse battery"
        )
        token = auth_service.issue_token(uow, PrincipalKind.CUSTOMER, account, "app").token
        uow.commit()
    shopper = {"Authorization": f"Bearer {token}"}
    answer = priced_shop.post(f"{BASE}/price", json=BASKET, headers=shopper)
    assert answer.status_code == 200 and answer.json()["total"]["amount"] == "105.60"
    # The shopper learns what is within reach (a third tee), not that a coupon discount on
    # jeans exists: staff see both.
    tee, jeans = answer.json()["lines"]
    assert reasons(tee) == {"BUY3": "needs a quantity of at least 3; the basket has 2"}
    assert jeans["considered"] == []
    claimed = {**BASKET, "customer_groups": ["staff"]}
    refused = priced_shop.post(f"{BASE}/price", json=claimed, headers=shopper)
    assert refused.status_code == 403
    assert [e["field"] for e in refused.json()["errors"]] == ["customer_groups"]
    for path in ("/coupons", "/discounts", "/discounts/JEANS5", "/price-groups"):
        assert priced_shop.get(BASE + path, headers=shopper).status_code == 403, path


# -- discounts -------------------------------------------------------------------------------------
def test_a_put_is_replayed_for_the_same_key_and_refused_for_another_body(
    counter: Database, client: TestClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "put-tops10"}
    first = put_discount(client, headers, "TOPS10", TOPS10)
    assert first.status_code == 201, first.text
    assert (first.json()["created"], first.json()["discount"]["revision"]) == (1, 1)
    again = put_discount(client, headers, "TOPS10", TOPS10)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    other = put_discount(client, headers, "TOPS10", {**TOPS10, "value": "15"})
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
    # A new key replaces it: same code, revision 2, the version moved once more.
    replaced = put_discount(
        client, {**admin_headers, "Idempotency-Key": "put-2"}, "TOPS10", {**TOPS10, "value": "15"}
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["updated"], body["discount"]["revision"]) == (1, 2)
    assert body["version"] == first.json()["version"] + 1
    stored = client.get(f"{BASE}/discounts/TOPS10", headers=admin_headers).json()
    assert stored["definition"]["value"] == "15" and stored["is_active"] is True
    assert stored["definition"]["code"] == "TOPS10"


def test_overlapping_tiers_are_a_422_naming_the_field(
    counter: Database, client: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    tiers = [
        {"min_quantity": "3", "method": "percent", "value": "10"},
        {"min_quantity": "2", "method": "percent", "value": "20"},
    ]
    answer = put_discount(client, keys(admin_headers), "BUY3", {**BUY3, "tiers": tiers})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_JSON
    (error,) = answer.json()["errors"]
    assert error["field"] == "tiers[1].min_quantity"
    assert error["reason"].startswith("overlapping tiers")
    assert client.get(f"{BASE}/discounts/BUY3", headers=admin_headers).status_code == 404


def test_database_checks_name_the_fields_of_the_body(
    counter: Database, client: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    doc = {**TOPS10, "scope": {"channels": ["MARS"]}, "items": {"skus": ["NOPE"]}}
    answer = put_discount(client, keys(admin_headers), "TOPS10", doc)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["scope.channels", "items"]


def test_the_code_in_the_body_must_match_the_path(
    counter: Database, client: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    answer = put_discount(client, keys(admin_headers), "TOPS10", {**TOPS10, "code": "OTHER"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "code"


def test_a_write_needs_an_idempotency_key(
    counter: Database, client: TestClient, admin_headers: dict[str, str]
) -> None:
    answer = put_discount(client, admin_headers, "TOPS10", TOPS10)
    assert answer.status_code == 400
    assert answer.json()["type"].endswith("idempotency-key-missing")


def test_deactivate_and_activate(
    priced_shop: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    off = priced_shop.post(f"{BASE}/discounts/TOPS10/deactivate", headers=keys(admin_headers))
    assert off.status_code == 200, off.text
    assert off.json()["discount"]["is_active"] is False
    out = priced_shop.post(f"{BASE}/price", json=BASKET, headers=admin_headers).json()
    assert amounts(out["lines"][0]) == {}
    listed = priced_shop.get(f"{BASE}/discounts", params={"active": "false"}, headers=admin_headers)
    assert [d["code"] for d in listed.json()["items"]] == ["TOPS10"]
    on = priced_shop.post(f"{BASE}/discounts/TOPS10/activate", headers=keys(admin_headers))
    assert on.json()["discount"]["is_active"] is True
    assert on.json()["discount"]["revision"] == 3
    missing = priced_shop.post(f"{BASE}/discounts/NOPE/activate", headers=keys(admin_headers))
    assert missing.status_code == 404


def test_listing_discounts_and_coupons(
    priced_shop: TestClient, admin_headers: dict[str, str]
) -> None:
    page = priced_shop.get(f"{BASE}/discounts", headers=admin_headers).json()
    assert [d["code"] for d in page["items"]] == ["BUY3", "JEANS5", "TOPS10"]
    assert page["total"] == 3
    jeans = next(d for d in page["items"] if d["code"] == "JEANS5")
    assert (jeans["coupon_required"], jeans["kind"], jeans["concurrency"]) == (
        True,
        "simple",
        "compounded",
    )
    coupons = priced_shop.get(
        f"{BASE}/coupons", params={"discount": "JEANS5"}, headers=admin_headers
    ).json()
    assert [(c["code"], c["max_uses"], c["uses"]) for c in coupons["items"]] == [("SAVE5", 100, 0)]
    none = priced_shop.get(f"{BASE}/coupons", params={"discount": "TOPS10"}, headers=admin_headers)
    assert none.json()["items"] == []


def test_a_coupon_for_an_unknown_discount_names_the_field(
    counter: Database, client: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    body = {"coupons": [{"code": "X1", "discount": "NOPE"}]}
    answer = client.post(f"{BASE}/coupons", json=body, headers=keys(admin_headers))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "coupons[0].discount"


# -- prices ----------------------------------------------------------------------------------------
def test_price_groups_set_the_unit_price(
    priced_shop: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    doc = {
        "format": "onestore.prices/1",
        "price_groups": [{"code": "WEBP", "name": "Web prices", "channels": ["WEB"]}],
        "prices": [{"group": "WEBP", "sku": "JEANS-1", "amount": "50.00", "currency": "USD"}],
    }
    before = priced_shop.get(f"{BASE}/version", headers=admin_headers).json()["version"]
    answer = priced_shop.post(f"{BASE}/prices", json=doc, headers=keys(admin_headers))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"version": before + 1, "created": 2, "updated": 0}
    groups = priced_shop.get(f"{BASE}/price-groups", headers=admin_headers).json()
    assert groups == [
        {
            "code": "WEBP",
            "name": "Web prices",
            "priority": 0,
            "channels": ["WEB"],
            "stores": [],
            "customer_groups": [],
            "loyalty_tiers": [],
            "prices": 1,
        }
    ]
    out = priced_shop.post(f"{BASE}/price", json=BASKET, headers=admin_headers).json()
    jeans = out["lines"][1]
    assert (jeans["unit_price"]["amount"], jeans["price_source"]) == ("50.00", "price group WEBP")


def test_a_float_price_is_refused(
    counter: Database, client: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    doc = {
        "format": "onestore.prices/1",
        "price_groups": [{"code": "WEBP", "name": "Web prices", "channels": ["WEB"]}],
        "prices": [{"group": "WEBP", "sku": "JEANS-1", "amount": 50.5, "currency": "USD"}],
    }
    answer = client.post(f"{BASE}/prices", json=doc, headers=keys(admin_headers))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "prices[0].amount"


# -- permissions -----------------------------------------------------------------------------------
def test_a_cashier_may_read_but_not_write(
    priced_shop: TestClient, make_staff: Any, keys: Keys
) -> None:
    _, cashier = make_staff("cashier")
    refused = put_discount(priced_shop, keys(cashier), "TOPS10", {**TOPS10, "value": "50"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["detail"] == "requires permission pricing.write"
    for path in ("/discounts/TOPS10/deactivate", "/prices", "/coupons", "/tax"):
        assert priced_shop.post(BASE + path, json={}, headers=keys(cashier)).status_code == 403
    assert priced_shop.get(f"{BASE}/discounts/TOPS10", headers=cashier).status_code == 200


def test_a_merchandiser_may_write(counter: Database, client: TestClient, make_staff: Any) -> None:
    _, merchandiser = make_staff("merchandiser")
    headers = {**merchandiser, "Idempotency-Key": "m-1"}
    assert put_discount(client, headers, "TOPS10", TOPS10).status_code == 201


# -- manual price overrides ------------------------------------------------------------------------
def test_a_till_override_within_the_limit_then_over_it_with_a_managers_approval(
    priced_shop: TestClient, make_staff: Any, keys: Keys, db: Database
) -> None:
    _, cashier = make_staff("cashier")
    manager_id, _ = make_staff("store_manager")
    with db.uow(readonly=True) as uow:
        manager = auth_service.get_staff_or_raise(uow, manager_id).username
    body = {
        "channel": "POS-S1",
        "store": "S1",
        "sku": "JEANS-1",
        "price": "54.00",
        "reason": "damaged",
    }
    first = keys(cashier)
    made = priced_shop.post(f"{BASE}/overrides", json=body, headers=first)
    assert made.status_code == 201, made.text
    assert (made.json()["cut_percent"], made.json()["approved_by"]) == ("10.00", None)
    again = priced_shop.post(f"{BASE}/overrides", json=body, headers=first)
    assert again.json()["id"] == made.json()["id"]  # a retry records nothing new
    basket = {
        "channel": "POS-S1",
        "store": "S1",
        "lines": [{"sku": "JEANS-1", "quantity": 1, "override": made.json()["id"]}],
    }
    priced = priced_shop.post(f"{BASE}/price", json=basket, headers=cashier).json()
    assert priced["lines"][0]["price_source"] == "manual override (damaged)"
    assert priced["total"]["amount"] == "54.00"

    deep = {**body, "price": "30.00"}
    refused = priced_shop.post(f"{BASE}/overrides", json=deep, headers=keys(cashier))
    assert refused.status_code == 403
    assert "a manager must approve it" in refused.json()["detail"]
    wrong = {**deep, "approver": {"username": manager, "password": "not the password"}}
    assert (
        priced_shop.post(f"{BASE}/overrides", json=wrong, headers=keys(cashier)).status_code == 401
    )
    right = {**deep, "approver": {"username": manager, "password": "correct horse battery"}}
    approved = priced_shop.post(f"{BASE}/overrides", json=right, headers=keys(cashier))
    assert approved.status_code == 201, approved.text
    assert approved.json()["approved_by"] == manager_id
    bad = priced_shop.post(
        f"{BASE}/overrides", json={**body, "reason": "bored"}, headers=keys(cashier)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"
