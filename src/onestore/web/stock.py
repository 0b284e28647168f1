"""Stock pages: the store associate's lookup (scan → here, nearby, DCs, in transit) and the
back-office stock list of one location.

Read-only pages over inventory's availability read and the catalog's read functions; they
declare ``inventory.read``, the permission the matching API routes declare. Each page costs a
fixed number of queries whatever the number of locations or rows shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal
from onestore.catalog import queries as catalog
from onestore.catalog import reference
from onestore.catalog.views import BarcodeHit, LocationView, ProductSummary, VariantView
from onestore.db.uow import UnitOfWork
from onestore.inventory import availability as inventory
from onestore.inventory import counts
from onestore.inventory.views import BalanceView
from onestore.kernel.errors import NotFound, ValidationFailed
from onestore.web.backoffice import MAX_QUERY, looks_like_barcode, page_number, product_url
from onestore.web.geo import haversine_km, km
from onestore.web.rendering import render

router = APIRouter(prefix="/backoffice", route_class=StrictJSONRoute, include_in_schema=False)

READ = [Depends(require(Permission.INVENTORY_READ))]
NEARBY_LIMIT = 10
PAGE_SIZE = 20  # products per page; their variants' SKUs go to one availability read per 100
SKU_BATCH = inventory.MAX_SKUS
SHOWN_KINDS = ("store", "dc")
IRA_DAYS = 90  # the window of posted cycle counts the stock page's accuracy figure covers


# -- view models -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Place:
    """One location's line in the lookup: its stock and, when known, how far it is."""

    location: LocationView
    balance: BalanceView
    distance_km: float | None

    @property
    def distance(self) -> str:
        return "—" if self.distance_km is None else km(self.distance_km)


@dataclass(frozen=True, slots=True)
class Lookup:
    hit: BarcodeHit
    here: Place | None
    nearby: list[Place]
    more_stores: int  # stores beyond the nearest NEARBY_LIMIT
    dcs: list[Place]
    in_transit: list[Place]

    @property
    def in_transit_total(self) -> int:
        return sum(p.balance.in_transit for p in self.in_transit)


@dataclass(frozen=True, slots=True)
class StockRow:
    product_code: str
    product_name: str
    variant: VariantView
    balance: BalanceView


def variant_label(variant: VariantView) -> str:
    """Size / colour / style as one short text (an em dash when the variant has none)."""
    return " / ".join(v for v in (variant.size, variant.colour, variant.style) if v) or "—"


def stock_url(code: str) -> str:
    return f"/backoffice/locations/{quote(code, safe='')}/stock"


# -- pure helpers ----------------------------------------------------------------------------------
def arrange(
    hit: BarcodeHit,
    lines: Sequence[BalanceView],
    places: Sequence[LocationView],
    here: LocationView | None,
) -> Lookup:
    """Split one SKU's balances into here / nearby stores by distance / DCs / in transit."""
    by_code = {line.location: line for line in lines}

    def place(loc: LocationView) -> Place:
        balance = by_code.get(loc.code) or BalanceView(hit.variant.sku, loc.code, 0, 0, 0, 0, 0)
        distance = (
            None
            if here is None
            else haversine_km(here.latitude, here.longitude, loc.latitude, loc.longitude)
        )
        return Place(loc, balance, distance)

    def order(p: Place) -> tuple[float, str]:
        return (p.distance_km if p.distance_km is not None else 0.0, p.location.code)

    others = [place(loc) for loc in places if here is None or loc.id != here.id]
    stores = sorted((p for p in others if p.location.kind == "store"), key=order)
    dcs = sorted((p for p in others if p.location.kind == "dc"), key=order)
    here_place = place(here) if here is not None else None
    everywhere = ([here_place] if here_place is not None else []) + stores + dcs
    return Lookup(
        hit=hit,
        here=here_place,
        nearby=stores[:NEARBY_LIMIT],
        more_stores=max(0, len(stores) - NEARBY_LIMIT),
        dcs=dcs,
        in_transit=[p for p in everywhere if p.balance.in_transit > 0],
    )


def _default_location(principal: Principal | None) -> str | None:
    """The associate's store: the location of their first store-scoped grant, if any."""
    if principal is None:
        return None
    return next((g.location_id for g in principal.grants if g.location_id is not None), None)


def find_variant(uow: UnitOfWork, code: str) -> tuple[BarcodeHit | None, str, int]:
    """The variant a scanned or typed code names, or a message saying why there is none and
    the page's status: 404 for a code that names nothing, 200 for a mis-scan to retry."""
    if looks_like_barcode(code):
        try:
            return catalog.find_variant_by_barcode(uow, code), "", 200
        except ValidationFailed as err:
            hit = catalog.get_variant(uow, code)  # an all-digit SKU still wins
            if hit is not None:
                return hit, "", 200
            reason = err.errors[0].reason if err.errors else str(err)
            message = f"“{code}” is not a valid barcode: {reason}. Scan it again or type it."
            return None, message, 200
        except NotFound:
            pass
    hit = catalog.get_variant(uow, code)
    if hit is None:
        return None, f"No article has the barcode or SKU “{code}”.", 404
    return hit, "", 200


# -- pages -----------------------------------------------------------------------------------------
@router.get("/stock", dependencies=READ)
def lookup(request: Request, code: str = "", at: str = "") -> Response:
    """Store-associate stock lookup: scan or type a barcode or SKU, see where it is."""
    query = code.strip()[:MAX_QUERY]
    wanted_at = at.strip()[:MAX_QUERY] or _default_location(
        getattr(request.state, "principal", None)
    )
    problem: str | None = None
    result: Lookup | None = None
    status = 200
    db = get_db(request)
    with db.uow(readonly=True) as uow:
        everywhere = reference.list_locations(uow)
        active = [loc for loc in everywhere if loc.is_active and loc.kind in SHOWN_KINDS]
        here = None
        if wanted_at:
            here = next((loc for loc in active if wanted_at in (loc.code, loc.id)), None)
            if here is None and at.strip():
                problem = f"There is no active store or DC “{wanted_at}”; choose one below."
        if query:
            hit, message, status = find_variant(uow, query)
            if hit is None:
                problem = message
            else:
                lines = (
                    inventory.availability(
                        uow, [hit.variant.sku], locations=[loc.code for loc in active]
                    )[0].locations
                    if active
                    else []
                )
                result = arrange(hit, lines, active, here)
    return render(
        request,
        "backoffice/stock_lookup.html",
        {
            "section": "stock",
            "code": query,
            "here": here,
            "stores": [loc for loc in active if loc.kind == "store"],
            "dcs": [loc for loc in active if loc.kind == "dc"],
            "problem": problem,
            "result": result,
            "variant_label": variant_label,
            "product_url": product_url,
            "stock_url": stock_url,
        },
        status_code=status,
    )


@router.get("/locations", dependencies=READ)
def locations(request: Request) -> Response:
    """Every location, each linking to its stock list."""
    db = get_db(request)
    with db.uow(readonly=True) as uow:
        found = reference.list_locations(uow)
    return render(
        request,
        "backoffice/locations.html",
        {"section": "locations", "locations": found, "stock_url": stock_url},
    )


@router.get("/locations/{code}/stock", dependencies=READ)
def location_stock(request: Request, code: str, q: str = "", page: str = "1") -> Response:
    """One location's stock: a page of products' SKUs with their balance there."""
    query = q.strip()[:MAX_QUERY]
    number = page_number(page)
    db = get_db(request)
    with db.uow(readonly=True) as uow:
        location = reference.get_location_or_raise(uow, code)
        result = catalog.list_products(
            uow, q=query or None, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
        )
        rows = stock_rows(uow, result.items, location.code)
        since = uow.now() - timedelta(days=IRA_DAYS)
        accuracy = counts.accuracy(uow, location.id, since).locations[0]
    pages = max(1, -(-result.total // PAGE_SIZE))
    base = stock_url(location.code)

    def page_link(n: int) -> str:
        params = {"q": query, "page": str(n)} if query else {"page": str(n)}
        return f"{base}?{urlencode(params)}"

    return render(
        request,
        "backoffice/location_stock.html",
        {
            "section": "locations",
            "location": location,
            "accuracy": accuracy,
            "ira_days": IRA_DAYS,
            "q": query,
            "rows": rows,
            "total": result.total,
            "page": number,
            "pages": pages,
            "first_row": result.offset + 1 if result.items else 0,
            "last_row": result.offset + len(result.items),
            "prev_link": page_link(number - 1) if number > 1 else None,
            "next_link": page_link(number + 1) if number < pages else None,
            "base_url": base,
            "variant_label": variant_label,
            "product_url": product_url,
        },
    )


def stock_rows(uow: UnitOfWork, items: Sequence[ProductSummary], location: str) -> list[StockRow]:
    """Each variant of the listed products with its balance at ``location``, in product order.

    Two queries for the variants, then one availability read per 100 SKUs."""
    products = [(p.id, p.code, p.name) for p in items]
    variants = catalog.variant_views(uow, [pid for pid, _, _ in products])
    listed = [(code, name, v) for pid, code, name in products for v in variants.get(pid, [])]
    balances: dict[str, BalanceView] = {}
    skus = [v.sku for _, _, v in listed]
    for start in range(0, len(skus), SKU_BATCH):
        for answer in inventory.availability(
            uow, skus[start : start + SKU_BATCH], locations=[location]
        ):
            balances[answer.sku] = answer.locations[0]
    return [
        StockRow(code, name, v, balances.get(v.sku) or BalanceView(v.sku, location, 0, 0, 0, 0, 0))
        for code, name, v in listed
    ]
