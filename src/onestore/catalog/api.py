"""Catalog API: products, variants, barcodes and the bulk import/export of the whole catalog.

Every route declares its permission; every POST that creates something runs through
``run_idempotent`` and so needs an ``Idempotency-Key``; PATCHes of products and variants carry
the ``version`` the client read (a stale one is a 409). Money leaves as
``{"amount": "29.95", "currency": "USD"}``. Reference data (units, categories, attributes,
locations, channels, assortments) has its routes in ``onestore.catalog.api_reference``,
included here so the app mounts one router.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from onestore.api.idempotency import IDEMPOTENCY_KEY, run_idempotent
from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal
from onestore.catalog import exporting, importing, queries, service
from onestore.catalog.api_reference import READ, Limit, Offset
from onestore.catalog.api_reference import router as reference_router
from onestore.catalog.schemas import BarcodeIn, ProductIn, ProductPatch, VariantIn, VariantPatch
from onestore.catalog.views import (
    BarcodeHit,
    BarcodeView,
    ProductDetail,
    ProductPage,
    VariantView,
)
from onestore.catalog.wire import to_json
from onestore.db.uow import UnitOfWork

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"], route_class=StrictJSONRoute)

WRITE = [Depends(require(Permission.CATALOG_WRITE))]


def _json(view: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(to_json(view), status_code=status)


# -- products -------------------------------------------------------------------------------------
@router.get("/products", dependencies=READ, response_model=ProductPage)
def list_products(
    request: Request,
    q: str | None = Query(None, max_length=200, description="Code, name, brand, SKU, barcode."),
    category: str | None = Query(None, max_length=64, description="Includes sub-categories."),
    status: str | None = Query(None, max_length=16),
    brand: str | None = Query(None, max_length=100),
    channel: str | None = Query(None, max_length=32, description="Offered there today."),
    limit: int = Limit,
    offset: int = Offset,
) -> JSONResponse:
    """Products ordered by code, with variant counts and lowest active list price."""
    with get_db(request).uow(readonly=True) as uow:
        page = queries.list_products(
            uow,
            q=q,
            category=category,
            status=status,
            brand=brand,
            channel=channel,
            limit=limit,
            offset=offset,
        )
    return _json(page)


@router.post(
    "/products", status_code=201, response_model=ProductDetail, openapi_extra=IDEMPOTENCY_KEY
)
def create_product(
    body: ProductIn,
    request: Request,
    principal: Principal = Depends(require(Permission.CATALOG_WRITE)),
) -> Response:
    """Create a product with its variants and barcodes. Needs an ``Idempotency-Key``."""

    def action(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, to_json(service.create_product(uow, body.to_draft()))

    return run_idempotent(request, get_db(request), principal, body.model_dump(mode="json"), action)


@router.get("/products/{ref}", dependencies=READ, response_model=ProductDetail)
def get_product(ref: str, request: Request) -> JSONResponse:
    """A product by id or code, with variants and barcodes."""
    with get_db(request).uow(readonly=True) as uow:
        return _json(queries.get_product_or_raise(uow, ref))


@router.patch("/products/{ref}", dependencies=WRITE, response_model=ProductDetail)
def update_product(ref: str, body: ProductPatch, request: Request) -> JSONResponse:
    """Change product fields; send the ``version`` you read (409 if it moved on)."""
    with get_db(request).uow() as uow:
        product = service.update_product(uow, ref, version=body.version, changes=body.changes())
        uow.commit()
    return _json(product)


@router.post(
    "/products/{ref}/variants",
    status_code=201,
    response_model=VariantView,
    openapi_extra=IDEMPOTENCY_KEY,
)
def add_variant(
    ref: str,
    body: VariantIn,
    request: Request,
    principal: Principal = Depends(require(Permission.CATALOG_WRITE)),
) -> Response:
    """Add a variant to a product. Needs an ``Idempotency-Key``."""

    def action(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, to_json(service.add_variant(uow, ref, body.to_draft()))

    payload = {"product": ref, **body.model_dump(mode="json")}
    return run_idempotent(request, get_db(request), principal, payload, action)


# -- variants and barcodes ------------------------------------------------------------------------
@router.get("/variants/{sku}", dependencies=READ, response_model=BarcodeHit)
def get_variant(sku: str, request: Request) -> JSONResponse:
    """A variant by SKU, with its product's id, code and name."""
    with get_db(request).uow(readonly=True) as uow:
        return _json(queries.get_variant_or_raise(uow, sku))


@router.patch("/variants/{sku}", dependencies=WRITE, response_model=VariantView)
def update_variant(sku: str, body: VariantPatch, request: Request) -> JSONResponse:
    """Change a variant's price or status; send the ``version`` you read."""
    with get_db(request).uow() as uow:
        variant = service.update_variant(uow, sku, version=body.version, changes=body.changes())
        uow.commit()
    return _json(variant)


@router.post("/variants/{sku}/discontinue", dependencies=WRITE, response_model=VariantView)
def discontinue_variant(sku: str, request: Request) -> JSONResponse:
    """Stop selling a variant. Repeating it is harmless, so no key is needed."""
    with get_db(request).uow() as uow:
        variant = service.discontinue_variant(uow, sku)
        uow.commit()
    return _json(variant)


@router.post(
    "/variants/{sku}/barcodes",
    status_code=201,
    response_model=BarcodeView,
    openapi_extra=IDEMPOTENCY_KEY,
)
def add_barcode(
    sku: str,
    body: BarcodeIn,
    request: Request,
    principal: Principal = Depends(require(Permission.CATALOG_WRITE)),
) -> Response:
    """Attach an EAN-8/UPC-A/EAN-13/GTIN-14 to a variant. Needs an ``Idempotency-Key``."""

    def action(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, to_json(service.add_barcode(uow, sku, body.code))

    payload = {"sku": sku, **body.model_dump(mode="json")}
    return run_idempotent(request, get_db(request), principal, payload, action)


@router.delete("/variants/{sku}/barcodes/{code}", status_code=204, dependencies=WRITE)
def remove_barcode(sku: str, code: str, request: Request) -> Response:
    """Detach a barcode (given in any of its forms) from a variant."""
    with get_db(request).uow() as uow:
        service.remove_barcode(uow, sku, code)
        uow.commit()
    return Response(status_code=204)


@router.get("/barcodes/{code}", dependencies=READ, response_model=BarcodeHit)
def find_by_barcode(code: str, request: Request) -> JSONResponse:
    """What a scan finds: UPC-A, EAN-13 and GTIN-14 forms of one code find the same variant."""
    with get_db(request).uow(readonly=True) as uow:
        return _json(queries.find_variant_by_barcode(uow, code))


# -- import and export ----------------------------------------------------------------------------
@router.post("/import", response_model=importing.ImportReport, openapi_extra=IDEMPOTENCY_KEY)
def import_document(
    request: Request,
    document: dict[str, Any] = Body(..., description="An onestore.catalog/1 document."),
    skip_invalid: bool = Query(False, description="Import the good rows, report the bad."),
    principal: Principal = Depends(require(Permission.CATALOG_IMPORT)),
) -> Response:
    """Upsert a catalog document by code/SKU (same format as ``onestore import catalog``).

    Every row is validated first; with any bad row nothing is imported and the 422 lists
    each one, unless ``skip_invalid``. Needs an ``Idempotency-Key``.
    """

    def action(uow: UnitOfWork) -> tuple[int, Any]:
        report = importing.import_catalog(uow, document, skip_invalid=skip_invalid)
        return 200, to_json(report)

    payload = {"skip_invalid": skip_invalid, "document": document}
    return run_idempotent(request, get_db(request), principal, payload, action)


@router.get("/export", dependencies=READ)
def export_document(request: Request) -> JSONResponse:
    """The whole catalog as one onestore.catalog/1 document (what the import reads)."""
    with get_db(request).uow(readonly=True) as uow:
        return JSONResponse(exporting.export_document(uow))


router.include_router(reference_router)
