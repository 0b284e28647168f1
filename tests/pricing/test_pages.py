"""Back-office pricing pages: the overview, one discount, and the price check that explains a
basket line by line. Pricing data is written through the API, as a merchandiser's tool would."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onestore.auth import service as auth_service
from onestore.auth.model import Grant, PrincipalKind, Role
from onestore.catalog import reference
from onestore.db.database import Database
from onestore.web.rendering import CONTENT_SECURITY_POLICY

from .test_api import BASE, BUY3, JEANS5, TOPS10, build_shop

PASSWORD = "correct horse battery"
CHECK = "/backoffice/pricing/check"


def make_staff(db: Database, username: str, role: Role, store: str | None = None) -> None:
    """A staff user with ``role`` at ``store`` (every store when ``None``)."""
    with db.uow() as uow:
        where = None if store is None else reference.get_location_or_raise(uow, store).id
        auth_service.create_staff_user(
            uow,
            username=username,
            display_name=username.title(),
            password=PASSWORD,
            grants=[Grant(role, where)],
        )
        uow.commit()


def sign_in(
    client: TestClient, db: Database, username: str, role: Role, store: str | None = None
) -> None:
    """A new staff user with ``role`` (at ``store``), signed in through the real form (CSRF
    token and all), instead of whoever was signed in."""
    make_staff(db, username, role, store)
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "", "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


@pytest.fixture
def shop(db: Database, client: TestClient, admin_headers: dict[str, str]) -> TestClient:
    """The shop of ``test_api.build_shop``, the three discounts and coupon SAVE5 written
    through the API, and the client signed in as an admin."""
    build_shop(db)
    for n, (code, doc) in enumerate((("TOPS10", TOPS10), ("BUY3", BUY3), ("JEANS5", JEANS5))):
        headers = {**admin_headers, "Idempotency-Key": f"page-{n}"}
        assert client.put(f"{BASE}/discounts/{code}", json=doc, headers=headers).is_success
    coupons = {"coupons": [{"code": "SAVE5", "discount": "JEANS5", "max_uses": 1}]}
    headers = {**admin_headers, "Idempotency-Key": "page-coupons"}
    assert client.post(f"{BASE}/coupons", json=coupons, headers=headers).is_success
    prices = {
        "format": "onestore.prices/1",
        "price_groups": [{"code": "VIP", "name": "Very important", "customer_groups": ["vip"]}],
        "prices": [{"group": "VIP", "sku": "JEANS-1", "amount": "45.00", "currency": "USD"}],
    }
    headers = {**admin_headers, "Idempotency-Key": "page-prices"}
    assert client.post(f"{BASE}/prices", json=prices, headers=headers).is_success
    sign_in(client, db, "ada", Role.ADMIN)
    return client


def text_of(page: str) -> str:
    """The page's text with tags dropped and entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def check(client: TestClient, lines: list[tuple[str, str]], **fields: str) -> Any:
    params: list[tuple[str, str]] = [("channel", "WEB"), *fields.items()]
    for sku, quantity in lines:
        params += [("sku", sku), ("qty", quantity)]
    return client.get(CHECK, params=params)


def test_the_overview_lists_discounts_and_price_groups(shop: TestClient) -> None:
    page = shop.get("/backoffice/pricing")
    assert page.status_code == 200, page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert re.findall(r'data-discount="([^"]+)"', page.text) == ["BUY3", "JEANS5", "TOPS10"]
    assert 'href="/backoffice/pricing" aria-current="page">Pricing</a>' in page.text
    text = text_of(page.text)
    assert "JEANS5 5.00 off jeans with a coupon coupon simple compounded 0 active 1" in text
    assert "VIP Very important 0 — — vip — 1" in text
    inactive = shop.get("/backoffice/pricing", params={"active": "no"})
    assert "No inactive discounts." in inactive.text


def test_a_discount_shows_its_definition_and_coupons(shop: TestClient) -> None:
    page = shop.get("/backoffice/pricing/discounts/JEANS5")
    assert page.status_code == 200, page.text
    definition = re.search(r'<pre class="code" id="definition">(.*?)</pre>', page.text, re.S)
    assert definition is not None
    assert '\n  "coupon_required": true,\n' in html.unescape(definition[1])
    assert re.findall(r'data-coupon="([^"]+)"', page.text) == ["SAVE5"]
    assert "SAVE5 0 1 unlimited" in text_of(page.text)
    missing = shop.get("/backoffice/pricing/discounts/NOPE")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


def test_the_price_check_explains_each_line(shop: TestClient) -> None:
    page = check(shop, [("TEE-S", "2"), ("JEANS-1", "")])
    assert page.status_code == 200, page.text
    assert re.findall(r'data-applied="([^"]+)"', page.text) == ["TOPS10"]
    assert re.findall(r'data-considered="([^"]+)"', page.text) == ["BUY3", "JEANS5"]
    text = text_of(page.text)
    assert "TOPS10 10% off tops: −$4.00 on 2 units" in text
    assert "BUY3 Three tees, 20% off: needs a quantity of at least 3; the basket has 2" in text
    assert "JEANS5 5.00 off jeans with a coupon: needs its coupon code" in text
    assert "Subtotal $100.00 Discounts −$4.00 Tax (added) $0.00 Total $96.00" in text
    assert "$20.00 list price" in text
    assert re.search(r"Pricing version \d+", text)


def test_a_coupon_and_a_customer_group_change_the_answer(shop: TestClient) -> None:
    page = check(shop, [("JEANS-1", "1")], coupons="save5", groups="vip, staff")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert "$45.00 price group VIP" in text
    assert "JEANS5 5.00 off jeans with a coupon: −$5.00 on 1 unit" in text
    assert "Total $40.00" in text
    # The form shows what was typed, ready for the next try.
    assert 'value="save5"' in page.text and 'value="vip, staff"' in page.text
    assert '<option value="WEB" selected>' in page.text


def test_problems_are_shown_inline_not_as_an_error_page(shop: TestClient) -> None:
    page = check(shop, [("TEE-S", "1"), ("", ""), ("NOPE", "2"), ("JEANS-1", "0.5")])
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    text = text_of(page.text)
    assert "The basket could not be priced." in text
    assert "Line 3 · SKU : unknown SKU 'NOPE'" in text
    assert "Line 4 · quantity : must be a whole number" in text
    assert page.text.count('aria-invalid="true"') == 4  # SKU and quantity of lines 3 and 4
    assert 'value="NOPE"' in page.text
    bad_coupon = check(shop, [("TEE-S", "1")], coupons="NOSUCH")
    assert bad_coupon.status_code == 422
    assert "Coupons : coupon NOSUCH: unknown code" in text_of(bad_coupon.text)
    no_channel = shop.get(CHECK, params={"sku": "TEE-S"})
    assert no_channel.status_code == 422
    assert "Channel :" in text_of(no_channel.text)


def test_the_empty_form_offers_the_channels(shop: TestClient) -> None:
    page = shop.get(CHECK)
    assert page.status_code == 200
    assert '<option value="WEB">Web (WEB, USD)</option>' in page.text
    assert page.text.count('name="sku"') == 10
    assert 'id="priced"' not in page.text and "could not be priced" not in page.text


def test_every_staff_role_may_look_but_a_customer_may_not(
    shop: TestClient, db: Database, make_staff: Any
) -> None:
    _, cashier = make_staff("cashier")
    for path in ("/backoffice/pricing", "/backoffice/pricing/discounts/TOPS10", CHECK):
        assert shop.get(path, headers=cashier).status_code == 200, path
    with db.uow() as uow:
        account = auth_service.create_customer_account(
            uow, email="c@example.com", password=PASSWORD
        )
        token = auth_service.issue_token(uow, PrincipalKind.CUSTOMER, account, "app").token
        uow.commit()
    shopper = {"Authorization": f"Bearer {token}"}
    refused = shop.get("/backoffice/pricing", headers=shopper)
    assert refused.status_code == 403
    assert "requires permission pricing.read" in refused.text
