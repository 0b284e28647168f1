"""Stock pages: the store associate's lookup and the back-office stock list of a location."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onestore.auth import service as auth_service
from onestore.auth.model import Grant, Role
from onestore.catalog import reference
from onestore.catalog.importing import import_catalog
from onestore.catalog.model import with_check_digit
from onestore.db.database import Database
from onestore.inventory import balances, holds, refs, reservations, service
from onestore.inventory.tables import balances as balance_table
from onestore.web.geo import EARTH_RADIUS_KM, haversine_km, km
from onestore.web.rendering import CONTENT_SECURITY_POLICY

from . import sample_catalog
from .pages import PASSWORD, sign_in

SKU = "SHIRT-LINEN-M-WHT"
# Amsterdam is "here"; Utrecht (~35 km) is nearer than Rotterdam (~57 km); a DC in Tilburg.
COORDS = {
    "ST-AMS": (52.3702, 4.8952),
    "ST-UTR": (52.0907, 5.1214),
    "ST-RTM": (51.9244, 4.4777),
    "DC-TIL": (51.5555, 5.0913),
}


def _location(code: str, name: str, kind: str) -> dict[str, Any]:
    lat, lon = COORDS[code]
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "latitude": lat,
        "longitude": lon,
        "street": None,
        "city": name,
        "postcode": None,
        "region": None,
        "country": "NL",
        "timezone": "Europe/Amsterdam",
    }


@pytest.fixture
def stocked(db: Database) -> None:
    """The sample catalog, four locations, stock received, some reserved, some on its way."""
    document = sample_catalog.document()
    document["locations"] = [
        _location("DC-TIL", "Tilburg", "dc"),
        _location("ST-AMS", "Amsterdam", "store"),
        _location("ST-RTM", "Rotterdam", "store"),
        _location("ST-UTR", "Utrecht", "store"),
    ]
    with db.uow() as uow:
        import_catalog(uow, document)
        uow.commit()
    with db.uow() as uow:
        for location, quantity in (("ST-AMS", 10), ("ST-UTR", 4), ("ST-RTM", 7), ("DC-TIL", 120)):
            service.receive(uow, SKU, location, quantity)
        service.receive(uow, "LAMP-ARC-BRASS", "ST-AMS", 2)
        service.receive(uow, "SCARF-XSS-RED", "ST-AMS", 5)
        lines = reservations.line_requests(uow, [(SKU, "ST-AMS", 3), (SKU, "ST-UTR", 4)])
        holds.reserve(uow, lines, kind="soft", ttl=timedelta(minutes=15))
        # Six units on their way from the DC to Rotterdam (transfers have no service call yet).
        key = (
            refs.variant_ids(uow, [SKU], ["sku"])[0],
            refs.location_ids(uow, ["ST-RTM"], ["location"])[0],
        )
        balances.apply(uow, key, {"in_transit": balance_table.c.in_transit + 6})
        uow.commit()


def _section(page: str, table_id: str) -> list[tuple[str, ...]]:
    """Rows of one table of the lookup: (location code, *cell texts)."""
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S):
        code = re.search(r'class="muted code">([^<]+)<', row)
        cells = [html.unescape(c.strip()) for c in re.findall(r'<td class="num">([^<]*)</td>', row)]
        rows.append((code.group(1) if code else "", *cells))
    return rows


def _figures(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-figure="(\w+)">(-?\d+)<', page)}


def _distance(a: str, b: str) -> str:
    return km(haversine_km(*COORDS[a], *COORDS[b]))


# -- the pure distance function ------------------------------------------------------------------
def test_haversine_known_distances() -> None:
    assert haversine_km(52.37, 4.89, 52.37, 4.89) == 0.0
    london_paris = haversine_km(51.5074, -0.1278, 48.8566, 2.3522)
    assert london_paris == pytest.approx(343.5, abs=1.0)
    assert haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(london_paris)
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert km(34.96) == "35.0 km"
    assert km(1234.56) == "1,234.6 km"


# -- the lookup ----------------------------------------------------------------------------------
def test_lookup_by_barcode_shows_here_nearby_dcs_and_in_transit(
    signed_in: TestClient, stocked: None
) -> None:
    response = signed_in.get(
        "/backoffice/stock", params={"code": sample_catalog.SHIRT_WHITE_M, "at": "ST-AMS"}
    )
    assert response.status_code == 200, response.text
    page = response.text
    assert "Linen shirt" in page and SKU in page and "M / white" in page
    assert _figures(page) == {"available": 7, "on_hand": 10, "reserved": 3}
    nearby = _section(page, "nearby")
    assert nearby == [
        ("ST-UTR", _distance("ST-AMS", "ST-UTR"), "0", "4"),
        ("ST-RTM", _distance("ST-AMS", "ST-RTM"), "7", "7"),
    ]
    assert nearby[0][1].endswith(" km") and re.fullmatch(r"\d+\.\d km", nearby[0][1])
    assert _section(page, "dcs") == [("DC-TIL", _distance("ST-AMS", "DC-TIL"), "120", "120")]
    transit = page.split('id="in-transit"', 1)[1].split("</table>", 1)[0]
    assert "ST-RTM" in transit and '<td class="num">6</td>' in transit
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert 'aria-current="page">Stock lookup' in page


def test_lookup_by_sku_and_by_upc_label_find_the_same_variant(
    signed_in: TestClient, stocked: None
) -> None:
    for code in (SKU, sample_catalog.SHIRT_WHITE_M_UPC, f"  {SKU}  "):
        response = signed_in.get("/backoffice/stock", params={"code": code, "at": "ST-UTR"})
        assert response.status_code == 200, code
        assert _figures(response.text) == {"available": 0, "on_hand": 4, "reserved": 4}
        assert [row[0] for row in _section(response.text, "nearby")] == ["ST-AMS", "ST-RTM"]


def test_lookup_without_a_location_lists_stores_and_offers_a_choice(
    signed_in: TestClient, stocked: None
) -> None:
    response = signed_in.get("/backoffice/stock", params={"code": SKU})
    assert response.status_code == 200
    page = response.text
    assert "Choose your store above" in page
    assert '<select id="stock-at" name="at">' in page
    assert '<option value="ST-AMS">Amsterdam (ST-AMS)</option>' in page
    stores = _section(page, "nearby")
    assert [(row[0], row[1], row[2]) for row in stores] == [
        ("ST-AMS", "—", "7"),
        ("ST-RTM", "—", "7"),
        ("ST-UTR", "—", "0"),
    ]


def test_lookup_defaults_to_the_store_of_a_store_scoped_user(
    client: TestClient, db: Database, stocked: None
) -> None:
    with db.uow() as uow:
        store = reference.get_location_or_raise(uow, "ST-RTM")
        auth_service.create_staff_user(
            uow,
            username="rita",
            display_name="Rita",
            password=PASSWORD,
            grants=[Grant(Role.CASHIER, store.id)],
        )
        uow.commit()
    assert sign_in(client, "rita").status_code == 303
    response = client.get("/backoffice/stock", params={"code": SKU})
    assert response.status_code == 200
    assert "Here · Rotterdam" in response.text
    assert _figures(response.text) == {"available": 7, "on_hand": 7, "reserved": 0, "in_transit": 6}
    assert '<option value="ST-RTM" selected>' in response.text
    # An explicit choice wins over the default.
    other = client.get("/backoffice/stock", params={"code": SKU, "at": "ST-AMS"})
    assert "Here · Amsterdam" in other.text


def test_empty_lookup_shows_the_search_box(signed_in: TestClient, stocked: None) -> None:
    response = signed_in.get("/backoffice/stock")
    assert response.status_code == 200
    assert 'name="code"' in response.text and "autofocus" in response.text
    assert 'role="alert"' not in response.text


def test_unknown_code_and_bad_check_digit_are_messages_not_errors(
    signed_in: TestClient, stocked: None
) -> None:
    unknown = signed_in.get("/backoffice/stock", params={"code": "NOPE-123", "at": "ST-AMS"})
    assert unknown.status_code == 404
    assert "No article has the barcode or SKU “NOPE-123”" in unknown.text
    assert 'name="code"' in unknown.text  # the search box is still there to try again
    valid_but_not_ours = with_check_digit("871234567890")
    assert signed_in.get("/backoffice/stock", params={"code": valid_but_not_ours}).status_code == (
        404
    )
    good = sample_catalog.SHIRT_WHITE_M
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    response = signed_in.get("/backoffice/stock", params={"code": bad, "at": "ST-AMS"})
    assert response.status_code == 200
    assert f"“{bad}” is not a valid barcode" in response.text
    assert "check digit" in response.text
    unknown_place = signed_in.get("/backoffice/stock", params={"code": SKU, "at": "XX-9"})
    assert unknown_place.status_code == 200
    assert "There is no active store or DC “XX-9”" in unknown_place.text


def test_lookup_escapes_what_it_echoes(signed_in: TestClient, stocked: None) -> None:
    response = signed_in.get("/backoffice/stock", params={"code": "<script>x</script>"})
    assert response.status_code == 404
    assert "<script>x</script>" not in response.text
    assert "&lt;script&gt;x&lt;/script&gt;" in response.text
    scarf = signed_in.get("/backoffice/stock", params={"code": "SCARF-XSS-RED", "at": "ST-AMS"})
    assert scarf.status_code == 200
    assert sample_catalog.XSS_NAME not in scarf.text
    assert "&lt;script&gt;" in scarf.text


# -- permissions ---------------------------------------------------------------------------------
STOCK_PATHS = ("/backoffice/stock", "/backoffice/locations", "/backoffice/locations/ST-AMS/stock")


def test_user_without_inventory_read_gets_the_403_page(
    client: TestClient, make_user: Callable[..., str], stocked: None
) -> None:
    make_user("newbie")
    assert sign_in(client, "newbie").status_code == 303
    for path in STOCK_PATHS:
        response = client.get(path, params={"code": SKU})
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert "requires permission inventory.read" in response.text


def test_anonymous_is_sent_to_sign_in(client: TestClient, stocked: None) -> None:
    for path in STOCK_PATHS:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_may_look_up_stock(
    client: TestClient, make_user: Callable[..., str], role: Role, stocked: None
) -> None:
    make_user("carl", role)
    sign_in(client, "carl")
    assert client.get("/backoffice/stock", params={"code": SKU}).status_code == 200


# -- stock per location ----------------------------------------------------------------------------
def _stock_rows(page: str) -> dict[str, list[str]]:
    rows = {}
    for sku, row in re.findall(r'<tr data-sku="([^"]+)"[^>]*>(.*?)</tr>', page, re.S):
        rows[sku] = re.findall(r'<td class="num">([^<]*)</td>', row)
    return rows


def test_location_stock_lists_skus_with_their_numbers(signed_in: TestClient, stocked: None) -> None:
    response = signed_in.get("/backoffice/locations/ST-AMS/stock")
    assert response.status_code == 200, response.text
    rows = _stock_rows(response.text)
    # on hand, reserved, buffer, available, in transit
    assert rows[SKU] == ["10", "3", "0", "7", "0"]
    assert rows["LAMP-ARC-BRASS"] == ["2", "0", "0", "2", "0"]
    assert rows["SHIRT-LINEN-S-WHT"] == ["0", "0", "0", "0", "0"]
    assert list(rows) == [
        "LAMP-ARC-BLACK",
        "LAMP-ARC-BRASS",
        "SCARF-XSS-RED",
        "SHIRT-LINEN-M-NVY",
        "SHIRT-LINEN-M-WHT",
        "SHIRT-LINEN-S-WHT",
    ]
    rotterdam = _stock_rows(signed_in.get("/backoffice/locations/ST-RTM/stock").text)
    assert rotterdam[SKU] == ["7", "0", "0", "7", "6"]


def test_location_stock_escapes_a_script_product_name(signed_in: TestClient, stocked: None) -> None:
    response = signed_in.get("/backoffice/locations/ST-AMS/stock", params={"q": "scarf"})
    assert response.status_code == 200
    assert sample_catalog.XSS_NAME not in response.text
    assert html.escape(sample_catalog.XSS_NAME, quote=False) in response.text.replace("&#34;", '"')
    assert list(_stock_rows(response.text)) == ["SCARF-XSS-RED"]
    assert _stock_rows(response.text)["SCARF-XSS-RED"] == ["5", "0", "0", "5", "0"]


def test_location_stock_search_by_sku_and_by_name(signed_in: TestClient, stocked: None) -> None:
    by_sku = signed_in.get("/backoffice/locations/ST-AMS/stock", params={"q": "LAMP-ARC-BRASS"})
    assert list(_stock_rows(by_sku.text)) == ["LAMP-ARC-BLACK", "LAMP-ARC-BRASS"]
    by_name = signed_in.get("/backoffice/locations/ST-AMS/stock", params={"q": "linen shirt"})
    assert set(_stock_rows(by_name.text)) == {
        "SHIRT-LINEN-M-NVY",
        "SHIRT-LINEN-M-WHT",
        "SHIRT-LINEN-S-WHT",
    }
    none = signed_in.get("/backoffice/locations/ST-AMS/stock", params={"q": "zzz-nothing"})
    assert none.status_code == 200 and "No products match" in none.text


def test_location_stock_pages(signed_in: TestClient, db: Database, stocked: None) -> None:
    with db.uow() as uow:
        more = sample_catalog.document(extra_products=25)
        more["products"] = [p for p in more["products"] if p["code"].startswith("SOCK-")]
        import_catalog(uow, more)
        uow.commit()
    first = signed_in.get("/backoffice/locations/ST-AMS/stock")
    assert "28 products" in first.text and "Page 1 of 2" in first.text
    assert len(_stock_rows(first.text)) > 20
    second = signed_in.get("/backoffice/locations/ST-AMS/stock", params={"page": "2"})
    assert "Page 2 of 2" in second.text
    assert "SOCK-025-1" in _stock_rows(second.text)
    junk = signed_in.get("/backoffice/locations/ST-AMS/stock", params={"page": "abc"})
    assert junk.status_code == 200 and "Page 1 of 2" in junk.text


def test_unknown_location_is_a_404_page(signed_in: TestClient, stocked: None) -> None:
    response = signed_in.get("/backoffice/locations/NOWHERE/stock")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_locations_list_links_to_stock(signed_in: TestClient, stocked: None) -> None:
    response = signed_in.get("/backoffice/locations")
    assert response.status_code == 200
    for code in COORDS:
        assert f'href="/backoffice/locations/{code}/stock"' in response.text
