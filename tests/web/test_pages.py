"""Back-office pages: permissions, the product list and search, the product page, escaping."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from onestore.auth import service as auth_service
from onestore.auth.model import PrincipalKind, Role
from onestore.db.database import Database
from onestore.web.rendering import CONTENT_SECURITY_POLICY

from . import sample_catalog
from .pages import sign_in


@pytest.fixture
def catalog(db: Database) -> None:
    sample_catalog.load(db)


def _rows(html: str) -> list[str]:
    """Product codes in the list, in order."""
    return re.findall(r'<td class="code">([^<]+)</td>', html)


# -- permissions ---------------------------------------------------------------------------------
def test_staff_user_without_a_role_gets_a_friendly_403_page(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("newbie")  # a staff account nobody has given a role yet
    assert sign_in(client, "newbie").status_code == 303
    for path in ("/backoffice", "/backoffice/products", "/backoffice/products/SHIRT-LINEN"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert "You don&#39;t have access to this page" in response.text
        assert "Signed in as Newbie" in response.text
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_customer_token_gets_a_403_page_not_json(client: TestClient, db: Database) -> None:
    with db.uow() as uow:
        account = auth_service.create_customer_account(
            uow, email="ada@example.com", password="correct horse battery"
        )
        token = auth_service.issue_token(uow, PrincipalKind.CUSTOMER, account, "app").token
        uow.commit()
    response = client.get("/backoffice", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "requires permission backoffice.access" in response.text


@pytest.mark.parametrize("role", list(Role))
def test_pages_accept_any_staff_role(
    client: TestClient, make_user: Callable[..., str], role: Role
) -> None:
    make_user("carl", role)
    sign_in(client, "carl")
    assert client.get("/backoffice").status_code == 200
    assert client.get("/backoffice/products").status_code == 200


def _page_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every route of the pages' router, looking inside included sub-routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _page_routes(inner.routes)
        else:
            assert isinstance(route, APIRoute)
            yield route


def test_every_page_route_declares_its_permission() -> None:
    """Same rule as the API: each page route has ``require(...)`` or ``public``."""
    from onestore.api.security import declared_permission
    from onestore.web.routes import router

    paths = set()
    for route in _page_routes(router.routes):
        declared = [declared_permission(d.dependency) for d in route.dependencies]
        assert [d for d in declared if d], route.path
        paths.add(route.path)
    assert {"/", "/login", "/logout", "/backoffice", "/backoffice/products"} <= paths


# -- security headers ----------------------------------------------------------------------------
def test_pages_send_a_content_security_policy(signed_in: TestClient) -> None:
    for path in ("/backoffice", "/backoffice/products", "/backoffice/products/NOPE"):
        response = signed_in.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    html = signed_in.get("/backoffice").text
    assert "<script>" not in html and " style=" not in html  # nothing the policy would block
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere


def test_stylesheet_and_script_are_served(client: TestClient) -> None:
    css = client.get("/static/onestore.css")
    assert css.status_code == 200 and ":focus-visible" in css.text
    assert client.get("/static/onestore.js").status_code == 200
    assert client.get("/static/favicon.svg").status_code == 200


# -- home ------------------------------------------------------------------------------------------
def test_home_shows_catalog_counts(signed_in: TestClient, catalog: None) -> None:
    response = signed_in.get("/backoffice")
    assert response.status_code == 200
    assert re.search(r'tile-count">3</span>\s*<span class="tile-label">Products', response.text)
    assert 'href="/backoffice/products"' in response.text


# -- product list ----------------------------------------------------------------------------------
def test_product_list_shows_every_product(signed_in: TestClient, catalog: None) -> None:
    response = signed_in.get("/backoffice/products")
    assert response.status_code == 200
    assert _rows(response.text) == ["LAMP-ARC", "SCARF-XSS", "SHIRT-LINEN"]
    assert "3 products" in response.text
    assert "€49.95" in response.text  # the lowest active variant price of the shirt
    assert "Shirts" in response.text  # its category


def test_search_by_name(signed_in: TestClient, catalog: None) -> None:
    response = signed_in.get("/backoffice/products", params={"q": "linen"})
    assert _rows(response.text) == ["SHIRT-LINEN"]
    assert "1 product match" in response.text
    assert 'value="linen"' in response.text  # the search box keeps the query

    assert _rows(signed_in.get("/backoffice/products?q=FLOOR").text) == ["LAMP-ARC"]
    nothing = signed_in.get("/backoffice/products?q=trousers")
    assert _rows(nothing.text) == []
    assert "No products match" in nothing.text


def test_search_by_sku_and_code(signed_in: TestClient, catalog: None) -> None:
    assert _rows(signed_in.get("/backoffice/products?q=LAMP-ARC-BLACK").text) == ["LAMP-ARC"]
    assert _rows(signed_in.get("/backoffice/products?q=shirt-linen").text) == ["SHIRT-LINEN"]


def test_scanned_barcode_opens_the_product_at_its_variant(
    signed_in: TestClient, catalog: None, db: Database
) -> None:
    with db.uow(readonly=True) as uow:
        from onestore.catalog.queries import get_variant_or_raise

        variant_id = get_variant_or_raise(uow, "SHIRT-LINEN-M-WHT").variant.id
    expected = f"/backoffice/products/SHIRT-LINEN#variant-{variant_id}"
    for scanned in (
        sample_catalog.SHIRT_WHITE_M,
        sample_catalog.SHIRT_WHITE_M_UPC,
        f" {sample_catalog.SHIRT_WHITE_M} ",  # scanners and people add spaces
    ):
        response = signed_in.get(
            "/backoffice/products", params={"q": scanned}, follow_redirects=False
        )
        assert response.status_code == 303, scanned
        assert response.headers["location"] == expected

    page = signed_in.get(expected)
    assert f'id="variant-{variant_id}"' in page.text


def test_unknown_or_misread_barcode_falls_back_to_a_search(
    signed_in: TestClient, catalog: None
) -> None:
    from onestore.catalog.model import with_check_digit

    unknown = with_check_digit("999999999999")
    response = signed_in.get("/backoffice/products", params={"q": unknown})
    assert response.status_code == 200
    assert "No products match" in response.text

    wrong_check_digit = sample_catalog.LAMP_BRASS[:-1] + str(
        (int(sample_catalog.LAMP_BRASS[-1]) + 1) % 10
    )
    response = signed_in.get("/backoffice/products", params={"q": wrong_check_digit})
    assert response.status_code == 200
    assert _rows(response.text) == []


def test_product_list_pages(signed_in: TestClient, db: Database) -> None:
    sample_catalog.load(db, extra_products=52)  # 55 products: two pages of 50
    first = signed_in.get("/backoffice/products")
    assert len(_rows(first.text)) == 50
    assert "Page 1 of 2" in first.text and "showing 1–50" in first.text
    assert 'href="/backoffice/products?page=2"' in first.text

    second = signed_in.get("/backoffice/products?page=2")
    assert _rows(second.text) == [f"SOCK-{n:03d}" for n in range(48, 53)]
    assert "showing 51–55" in second.text

    searched = signed_in.get("/backoffice/products?q=socks&page=2")
    assert len(_rows(searched.text)) == 2
    assert 'href="/backoffice/products?q=socks&amp;page=1"' in searched.text

    for junk in ("0", "-1", "abc", "99999999999", "²", "١"):
        assert signed_in.get(f"/backoffice/products?page={junk}").status_code == 200
    assert _rows(signed_in.get("/backoffice/products?page=9").text) == []


# -- product page ----------------------------------------------------------------------------------
def test_product_page_shows_fields_variants_and_barcodes(
    signed_in: TestClient, catalog: None
) -> None:
    response = signed_in.get("/backoffice/products/SHIRT-LINEN")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Linen shirt" in html
    for text in ("Northwind", "Shirts", "fashion.shirts", "A relaxed shirt in washed linen."):
        assert text in html
    assert "Machine wash at 30 °C" in html and "linen" in html  # attributes
    assert '<th scope="col">Size</th>' in html and '<th scope="col">Colour</th>' in html
    assert '<th scope="col">Style</th>' not in html  # the shirt does not vary by style
    for sku in ("SHIRT-LINEN-S-WHT", "SHIRT-LINEN-M-WHT", "SHIRT-LINEN-M-NVY"):
        assert sku in html
    assert "€54.95" in html
    assert sample_catalog.SHIRT_WHITE_M in html and "EAN-13" in html
    assert sample_catalog.SHIRT_WHITE_M_UPC in html and "UPC-A" in html


def test_product_page_by_id_too(signed_in: TestClient, catalog: None, db: Database) -> None:
    from onestore.catalog.queries import get_product_or_raise

    with db.uow(readonly=True) as uow:
        product_id = get_product_or_raise(uow, "LAMP-ARC").id
    response = signed_in.get(f"/backoffice/products/{product_id}")
    assert response.status_code == 200
    assert '<th scope="col">Style</th>' in response.text
    assert "brass" in response.text and "€189.00" in response.text


def test_unknown_product_is_a_404_page(signed_in: TestClient, catalog: None) -> None:
    response = signed_in.get("/backoffice/products/NOPE")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    assert "Sign out" in response.text  # still looks signed in

    missing_route = signed_in.get("/backoffice/nothing-here")
    assert missing_route.status_code == 404
    assert "Sign out" in missing_route.text


def test_product_names_are_escaped(signed_in: TestClient, catalog: None) -> None:
    for path in ("/backoffice/products", "/backoffice/products/SCARF-XSS"):
        html = signed_in.get(path).text
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; Silk scarf" in html, path
    detail = signed_in.get("/backoffice/products/SCARF-XSS").text
    assert "<img src=x" not in detail and "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "<b>hand wash</b>" not in detail


def test_search_text_is_escaped(signed_in: TestClient, catalog: None) -> None:
    response = signed_in.get("/backoffice/products", params={"q": '"><script>x</script>'})
    assert "<script>x" not in response.text
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in response.text
