"""A person at the back office: sign in, scan a barcode into the search box, see the variant.

Drives Debian's chromium through Playwright against a real server, so the form posts, the
cookies (HttpOnly, SameSite), the redirects, the CSP and the stylesheet are all exercised the
way a browser does them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onestore.catalog.model import with_check_digit
from onestore.catalog.queries import get_variant_or_raise

from .live_server import CHROMIUM, CHROMIUM_ARGS, add_staff, migrated_database, serving

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
BARCODE = with_check_digit("400000000002")


def _catalog() -> dict[str, Any]:
    """One shirt in two colours, each with an EAN-13: enough to scan one and see the other."""

    def variant(sku: str, colour: str, barcode: str) -> dict[str, Any]:
        return {
            "sku": sku,
            "size": None,
            "colour": colour,
            "style": None,
            "list_price": "49.95",
            "currency": "EUR",
            "barcodes": [barcode],
        }

    return {
        "format": "onestore.catalog/1",
        "units": [{"code": "ea", "name": "Each", "decimals": 0}],
        "attributes": [],
        "categories": [{"code": "shirts", "name": "Shirts", "parent": None}],
        "locations": [],
        "channels": [],
        "products": [
            {
                "code": "SHIRT-LINEN",
                "name": "Linen shirt",
                "description": "A relaxed shirt in washed linen.",
                "brand": "Northwind",
                "category": "shirts",
                "unit": "ea",
                "status": "active",
                "dimensions": ["colour"],
                "attributes": {},
                "variants": [
                    variant("SHIRT-LINEN-WHT", "white", BARCODE),
                    variant("SHIRT-LINEN-NVY", "navy", with_check_digit("400000000003")),
                ],
            }
        ],
        "assortments": [],
    }


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, id of the variant the test scans)."""
    from onestore.catalog.importing import import_catalog

    db = migrated_database(tmp_path / "browser.db")
    with db.uow() as uow:
        import_catalog(uow, _catalog())
        uow.commit()
    add_staff(db, "mia", PASSWORD)
    with db.uow(readonly=True) as uow:
        variant_id = get_variant_or_raise(uow, "SHIRT-LINEN-WHT").variant.id
    try:
        with serving(db) as base_url:
            yield base_url, variant_id
    finally:
        db.dispose()


def test_sign_in_and_scan_a_barcode(server: tuple[str, str]) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    base_url, variant_id = server
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            page.goto(f"{base_url}/backoffice/products")
            expect(page).to_have_url(re.compile(r"/login\?next=/backoffice/products$"))
            page.get_by_label("Username").fill("mia")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{base_url}/backoffice/products")
            expect(page.get_by_role("heading", name="Products")).to_be_visible()

            box = page.get_by_label("Search products by name, code, SKU or barcode")
            expect(box).to_be_focused()  # ready for the scanner without a click
            box.fill(BARCODE)
            box.press("Enter")  # what a barcode scanner sends after the digits

            expect(page).to_have_url(
                f"{base_url}/backoffice/products/SHIRT-LINEN#variant-{variant_id}"
            )
            expect(page.get_by_role("heading", level=1)).to_contain_text("Linen shirt")
            row = page.locator(f"#variant-{variant_id}")
            expect(row).to_contain_text("SHIRT-LINEN-WHT")
            expect(row).to_contain_text(BARCODE)
            expect(row).to_contain_text("€49.95")
            expect(page.get_by_role("row", name=re.compile("SHIRT-LINEN-NVY"))).to_be_visible()
            # The stylesheet loaded (CSP allows it) and highlights the scanned row.
            assert row.evaluate("r => getComputedStyle(r).backgroundColor") != "rgba(0, 0, 0, 0)"

            page.get_by_role("button", name="Sign out").click()
            expect(page).to_have_url(f"{base_url}/login")
            page.goto(f"{base_url}/backoffice")
            expect(page).to_have_url(re.compile(r"/login\?next=/backoffice$"))
        finally:
            browser.close()
    assert problems == []  # no CSP violations, no script errors
