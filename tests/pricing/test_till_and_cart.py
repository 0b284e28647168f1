"""The till (``/pos``) and the shopper's cart (``/shop/{channel}/cart``) show the engine's
explanation: the till every reason, the cart what the shopper saves and what is within reach.

The shop is ``test_pages.shop``: TEE-S / TEE-M at 20.00 (tops > tshirts), JEANS-1 at 60.00;
TOPS10 (10 % off tops), BUY3 (three tees 20 % off), JEANS5 (5.00 off jeans behind coupon
SAVE5); channel WEB and the till POS-S1 at store S1.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from onestore.auth import service as auth_service
from onestore.auth.model import Grant, Role
from onestore.catalog import reference
from onestore.db.database import Database

from .test_pages import PASSWORD, shop, text_of  # noqa: F401 - the fixture is used by name

TILL = "/pos/POS-S1"


def sign_in_at(client: TestClient, db: Database, username: str, store: str | None) -> None:
    """A cashier at ``store`` (every store when ``None``), signed in through the form."""
    client.cookies.clear()
    with db.uow() as uow:
        where = None if store is None else reference.get_location_or_raise(uow, store).id
        auth_service.create_staff_user(
            uow,
            username=username,
            display_name=username.title(),
            password=PASSWORD,
            grants=[Grant(Role.CASHIER, where)],
        )
        uow.commit()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "", "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def follow(client: TestClient, url: str, **params: str) -> tuple[str, str]:
    """GET ``url`` with ``params`` added to its query; it must redirect (a scan, a removal):
    the new address and its page."""
    extra = urlencode(params)
    answer = client.get(url + ("&" if "?" in url else "?") + extra, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    target = answer.headers["location"]
    page = client.get(target)
    assert page.status_code == 200, page.text
    return target, page.text


# -- the till --------------------------------------------------------------------------------------
def test_a_cashier_rings_up_a_sale_and_reads_why_each_line_costs_what_it_does(
    shop: TestClient,  # noqa: F811 - the fixture
    db: Database,
) -> None:
    sign_in_at(shop, db, "cass", "S1")
    answer = shop.get("/pos", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, TILL)  # her one till
    address, _ = follow(shop, TILL, scan="TEE-S")
    address, _ = follow(shop, address, scan="TEE-S")  # the same item again: quantity 2
    assert "sku=TEE-S&qty=2" in address
    address, page = follow(shop, address, scan="TEE-M")
    text = text_of(page)
    # three tees: BUY3's 20 % beats TOPS10's 10 %: 8.00 off the two TEE-S, 4.00 off TEE-M
    assert "BUY3 Three tees, 20% off: −$8.00" in text
    assert "TOPS10 10% off tops: a lower price came from BUY3" in text
    assert 'data-why="beaten"' in page
    address, page = follow(shop, address, scan="JEANS-1")
    # the associate sees every reason, the coupon-only discount's too
    assert "JEANS5 5.00 off jeans with a coupon: needs its coupon code" in text_of(page)
    with_coupon = shop.get(address + "&coupons=save5")
    text = text_of(with_coupon.text)
    assert "JEANS5 5.00 off jeans with a coupon: −$5.00" in text
    # 60.00 − 12.00 + 60.00 − 5.00; prices include tax at the till (no rate here)
    assert "To pay $103.00" in text
    address, page = follow(shop, address, remove="1")  # the two TEE-S go
    # the coupon was not in that address: TEE-M 20.00 − 2.00 (TOPS10) + JEANS-1 60.00
    assert "TEE-S" not in page and "To pay $78.00" in text_of(page)


def test_a_till_refuses_other_stores_and_says_what_a_scan_could_not_find(
    shop: TestClient,  # noqa: F811 - the fixture
    db: Database,
) -> None:
    with db.uow() as uow:
        from onestore.catalog import network

        network.create_location(
            uow,
            code="S9",
            name="Store Nine",
            kind="store",
            latitude=47.0,
            longitude=-122.0,
            country="US",
            region="WA",
            timezone="America/Los_Angeles",
        )
        uow.commit()
    sign_in_at(shop, db, "nina", "S9")
    assert shop.get(TILL).status_code == 403
    assert shop.get("/pos/NOPE").status_code == 404
    chooser = shop.get("/pos")
    assert chooser.status_code == 200 and 'id="no-tills"' in chooser.text
    sign_in_at(shop, db, "cass", "S1")
    unknown = shop.get(TILL, params={"scan": "NO-SUCH-SKU"})
    assert unknown.status_code == 200  # the page stays, the basket unchanged
    assert "No article has the barcode or SKU “NO-SUCH-SKU”" in text_of(unknown.text)
    misread = shop.get(TILL, params={"scan": "4006381333932"})  # wrong check digit
    assert "is not a valid barcode" in text_of(misread.text)
    not_ours = shop.get(TILL, params={"scan": "4006381333931"})  # valid, not in the catalog
    assert "No article has the barcode or SKU “4006381333931”" in text_of(not_ours.text)
    bad = shop.get(TILL, params=[("sku", "TEE-S"), ("qty", "-1")])
    assert bad.status_code == 422
    assert "Line 1 · quantity" in text_of(bad.text)


# -- the cart --------------------------------------------------------------------------------------
def test_a_shopper_sees_savings_and_what_is_within_reach_never_hidden_offers(
    shop: TestClient,  # noqa: F811 - the fixture
) -> None:
    shop.cookies.clear()  # anyone may open a cart
    address, page = follow(shop, "/shop/WEB/cart", add="TEE-S")
    text = text_of(page)
    assert "10% off tops: −$2.00" in text
    assert "Almost there Three tees, 20% off: needs a quantity of at least 3; the basket has 1" in (
        text
    )
    address, page = follow(shop, address, add="JEANS-1")
    assert "JEANS5" not in page and "coupon" not in text_of(page).split("Coupon code")[0]
    page = shop.get(address + "&coupons=SAVE5").text
    assert "5.00 off jeans with a coupon: −$5.00" in text_of(page)
    assert "Total $73.00" in text_of(page)  # 18.00 + 55.00; no ship-to, so no tax
    assert shop.get("/shop/POS-S1/cart").status_code == 404  # a till is not a shop
    assert shop.get("/shop/NOPE/cart").status_code == 404
