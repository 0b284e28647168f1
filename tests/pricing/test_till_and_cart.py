"""The till (``/pos``) and the shopper's cart (``/shop/{channel}/cart``) show the engine's
explanation: the till every reason, the cart what the shopper saves and what is within reach.

The shop is ``test_pages.shop``: TEE-S / TEE-M at 20.00 (tops > tshirts), JEANS-1 at 60.00;
TOPS10 (10 % off tops), BUY3 (three tees 20 % off), JEANS5 (5.00 off jeans behind coupon
SAVE5); channel WEB and the till POS-S1 at store S1.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from onestore.auth import service as auth_service
from onestore.auth.model import PrincipalKind, Role
from onestore.db.database import Database
from onestore.pricing import coupons
from onestore.web import basket_form as form

from .test_api import add_store
from .test_pages import PASSWORD, make_staff, shop, sign_in, text_of  # noqa: F401 - fixture

TILL = "/pos/POS-S1"


def sign_in_at(client: TestClient, db: Database, username: str, store: str) -> None:
    """A cashier at ``store``, signed in through the form."""
    sign_in(client, db, username, Role.CASHIER, store)


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
        add_store(uow, "S9", "Store Nine")  # a store without a till
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


# -- a manual price at the till ---------------------------------------------------------------
def change_price(
    client: TestClient, page: str, price: str, reason: str = "damaged", **more: str
) -> Any:
    """Post the till's change-price form as the page shows it (its token, key and basket)."""
    form = page[page.index('id="override-form"') :]
    fields: list[tuple[str, str]] = re.findall(
        r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form.split("</form>")[0]
    )
    data: dict[str, list[str]] = {}
    for name, value in [*fields, ("line", "1"), ("price", price), ("reason", reason)]:
        data.setdefault(name, []).append(html.unescape(value))
    for name, value in more.items():
        data[name] = [value]
    return client.post("/pos/POS-S1/override", data=data, follow_redirects=False)


def test_a_manual_price_needs_a_reason_and_over_the_limit_a_manager(
    shop: TestClient,  # noqa: F811 - the fixture
    db: Database,
) -> None:
    make_staff(db, "mona", Role.STORE_MANAGER, "S1")
    sign_in_at(shop, db, "cass", "S1")  # a cashier: 10 % on her own
    _, page = follow(shop, TILL, scan="TEE-S")
    small = change_price(shop, page, "19.00")  # 5 % off
    assert small.status_code == 303, small.text
    priced = text_of(shop.get(small.headers["location"]).text)
    # the manual price replaces the automatic ones (no TOPS10 on an overridden line)
    assert "$19.00 manual override (damaged)" in priced and "To pay $19.00" in priced
    again = change_price(shop, page, "19.00")  # the same form sent twice: one override
    assert again.headers["location"] == small.headers["location"]
    big = change_price(shop, page, "10.00")  # 50 % off: over her limit
    assert big.status_code == 403
    assert "Price not changed: a 50.00% cut is over your limit of 10%: a manager must" in (
        text_of(big.text)
    )
    # each refusal shows the form again with a fresh key (a key belongs to one request body)
    own = change_price(shop, big.text, "10.00", approver="cass", approver_password=PASSWORD)
    assert own.status_code == 403  # four eyes: not her own approval
    reused = change_price(shop, page, "10.00", approver="mona", approver_password=PASSWORD)
    assert reused.status_code == 422  # the first form's key with another price
    approved = change_price(shop, own.text, "10.00", approver="mona", approver_password=PASSWORD)
    assert approved.status_code == 303, approved.text
    assert "To pay $10.00" in text_of(shop.get(approved.headers["location"]).text)
    forged = shop.post(
        "/pos/POS-S1/override",
        data={"line": "1", "price": "1.00", "reason": "damaged", "sku": "TEE-S", "qty": "1"},
    )
    assert forged.status_code == 403  # no page token: not from this site


# -- what the review found ------------------------------------------------------------------------
def test_a_customer_account_has_no_till(
    shop: TestClient,  # noqa: F811 - the fixture
    db: Database,
) -> None:
    """A shopper's ``pricing.quote`` prices a cart; at a till they would see every reason."""
    with db.uow() as uow:
        account = auth_service.create_customer_account(
            uow, email="ada@example.com", password="correct horse battery"
        )
        token = auth_service.issue_token(uow, PrincipalKind.CUSTOMER, account, "app").token
        uow.commit()
    shop.cookies.clear()
    shopper = {"Authorization": f"Bearer {token}"}
    chooser = shop.get("/pos", headers=shopper)
    assert chooser.status_code == 200 and 'id="no-tills"' in chooser.text
    assert shop.get(TILL, params={"sku": "JEANS-1"}, headers=shopper).status_code == 403


def test_odd_addresses_get_an_answer_not_a_500(
    shop: TestClient,  # noqa: F811 - the fixture
    db: Database,
    monkeypatch: Any,
) -> None:
    shop.cookies.clear()
    huge = shop.get(
        "/shop/WEB/cart",
        params={"sku": "TEE-S", "qty": "9e999999", "add": "TEE-S", "add_qty": "9e999999"},
        follow_redirects=False,
    )
    assert huge.status_code == 303 and len(huge.headers["location"]) < 200
    assert shop.get(huge.headers["location"]).status_code == 422  # the quantity, by line
    long_remove = shop.get(
        "/shop/WEB/cart", params={"sku": "TEE-S", "remove": "9" * 5000}, follow_redirects=False
    )
    assert long_remove.status_code == 303
    assert long_remove.headers["location"] == "/shop/WEB/cart?sku=TEE-S&qty=1"
    monkeypatch.setattr(form, "MAX_LINES", 2)
    full = shop.get(
        "/shop/WEB/cart",
        params=[("sku", "TEE-S"), ("sku", "TEE-M"), ("add", "JEANS-1")],
        follow_redirects=False,
    )
    assert full.status_code == 200 and 'id="cart-full"' in full.text  # said, not dropped
    sign_in_at(shop, db, "cass", "S1")
    till = shop.get(TILL, params=[("sku", "TEE-S"), ("sku", "TEE-M"), ("scan", "JEANS-1")])
    assert "The basket holds at most" in text_of(till.text)


def test_the_cart_says_one_thing_of_every_code_it_cannot_use(
    shop: TestClient,  # noqa: F811 - the fixture
    db: Database,
) -> None:
    """ "Used up" or "expired" would tell an anonymous visitor which guessed codes exist."""
    with db.uow() as uow:  # SAVE5 is real and now used up
        coupons.redeem(uow, ["SAVE5"], order_ref="O-1", customer=None, day=date(2026, 11, 26))
        uow.commit()
    shop.cookies.clear()
    for code in ("NOSUCH", "SAVE5"):
        page = shop.get("/shop/WEB/cart", params={"sku": "JEANS-1", "coupons": code}).text
        said = text_of(page)
        assert "this code cannot be used for this cart" in said, code
        assert "used" not in said.replace("cannot be used", ""), code
