"""Back-office pages: the overview, the product list with search, and one product.

Read-only pages over the catalog service's read functions; each route declares the same
permission the matching API route would, so the page and the API can never disagree about
who may see what.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission
from onestore.catalog import queries as catalog
from onestore.catalog import reference
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import NotFound, ValidationFailed
from onestore.web.rendering import render

router = APIRouter(prefix="/backoffice", route_class=StrictJSONRoute, include_in_schema=False)

PAGE_SIZE = 50
MAX_QUERY = 200
BARCODE_LENGTHS = frozenset({8, 12, 13, 14})


def page_number(raw: str) -> int:
    """``?page=`` leniently: a hand-edited or stale value shows page 1 rather than an error."""
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0 else 1


def looks_like_barcode(text: str) -> bool:
    digits = text.replace(" ", "").replace("-", "")
    return digits.isdigit() and len(digits) in BARCODE_LENGTHS


def product_url(code: str, variant_id: str | None = None) -> str:
    url = f"/backoffice/products/{quote(code, safe='')}"
    return f"{url}#variant-{variant_id}" if variant_id else url


@router.get("", dependencies=[Depends(require(Permission.BACKOFFICE_ACCESS))])
def home(request: Request) -> Response:
    """Landing page: what is in the catalog, with links to where the work happens."""
    db = get_db(request)
    with db.uow(readonly=True) as uow:
        counts = catalog_counts(uow)
    return render(request, "backoffice/home.html", {"section": "home", "counts": counts})


def catalog_counts(uow: UnitOfWork) -> list[tuple[str, int, str | None]]:
    """(label, count, link) for the overview tiles, from the catalog's own read functions."""
    return [
        ("Products", catalog.list_products(uow, limit=1).total, "/backoffice/products"),
        ("Locations", len(reference.list_locations(uow)), None),
        ("Channels", len(reference.list_channels(uow)), None),
    ]


@router.get("/products", dependencies=[Depends(require(Permission.CATALOG_READ))])
def products(request: Request, q: str = "", page: str = "1") -> Response:
    """Product list with one search box for name, code, SKU or barcode.

    A scanned barcode that identifies a variant opens its product page straight away, with the
    variant's row targeted; anything else is a normal search.
    """
    query = q.strip()[:MAX_QUERY]
    number = page_number(page)
    db = get_db(request)
    with db.uow(readonly=True) as uow:
        if looks_like_barcode(query):
            try:
                hit = catalog.find_variant_by_barcode(uow, query)
            except (NotFound, ValidationFailed):
                hit = None
            if hit is not None:
                return RedirectResponse(
                    product_url(hit.product_code, hit.variant.id), status_code=303
                )
        result = catalog.list_products(
            uow, q=query or None, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
        )
    pages = max(1, -(-result.total // PAGE_SIZE))

    def page_link(n: int) -> str:
        params = {"q": query, "page": str(n)} if query else {"page": str(n)}
        return "/backoffice/products?" + urlencode(params)

    return render(
        request,
        "backoffice/products.html",
        {
            "section": "products",
            "q": query,
            "result": result,
            "page": number,
            "pages": pages,
            "first_row": result.offset + 1 if result.items else 0,
            "last_row": result.offset + len(result.items),
            "prev_link": page_link(number - 1) if number > 1 else None,
            "next_link": page_link(number + 1) if number < pages else None,
            "product_url": product_url,
        },
    )


@router.get("/products/{ref}", dependencies=[Depends(require(Permission.CATALOG_READ))])
def product(request: Request, ref: str) -> Response:
    """One product: its fields, category, attributes and every variant with its barcodes."""
    db = get_db(request)
    with db.uow(readonly=True) as uow:
        detail = catalog.get_product_or_raise(uow, ref)
        names = {a.code: a.name for a in reference.list_attributes(uow)}
    dimensions = [d for d in ("size", "colour", "style") if d in detail.dimensions]
    attributes = sorted((names.get(code, code), value) for code, value in detail.attributes.items())
    return render(
        request,
        "backoffice/product.html",
        {
            "section": "products",
            "product": detail,
            "dimensions": dimensions,
            "attributes": attributes,
        },
    )
