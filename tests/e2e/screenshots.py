"""Re-make the back-office screenshots in ``docs/img`` (run by hand, not by pytest).

    .venv/bin/python tests/e2e/screenshots.py

Loads the demo retailer (``onestore demo``'s own loader, seed 1, scale 1) into a throw-away
SQLite file, serves it, signs in as the demo admin with Debian's chromium and captures the
product list and one product page at 1280×800.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import CHROMIUM, CHROMIUM_ARGS, migrated_database, serving

from onestore.demo.loader import load_demo
from onestore.demo.staff import DEMO_PASSWORD

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"
VIEWPORT = {"width": 1280, "height": 800}
PRODUCT = "P-000003"  # a demo product varying by size and colour, with a few variants


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = migrated_database(Path(tmp) / "demo.db")
        load_demo(db, seed=1, scale=1)
        with serving(db) as base_url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            page.goto(f"{base_url}/login?next=/backoffice/products")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Products")).to_be_visible()
            page.locator("body").click(position={"x": 5, "y": 790})  # no focus ring in the shot
            page.screenshot(path=str(OUT / "backoffice-products.png"))

            page.goto(f"{base_url}/backoffice/products/{PRODUCT}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.screenshot(path=str(OUT / "backoffice-product.png"))
            browser.close()
        db.dispose()
    for name in ("backoffice-products.png", "backoffice-product.png"):
        size = (OUT / name).stat().st_size
        print(f"{OUT / name}: {size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
