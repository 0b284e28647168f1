"""Catalog API for reference data: units, categories, attributes, locations, channels and
assortments. Included by ``onestore.catalog.api.router`` (same prefix and conventions).

Lists are small tables read whole and paged here; permissions follow who owns the data:
``catalog.write`` for units, categories and attributes, ``locations.write`` for locations,
``channels.write`` for channels and assortments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from onestore.api.idempotency import IDEMPOTENCY_KEY, run_idempotent
from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal
from onestore.catalog import assortments, network, queries, reference, taxonomy
from onestore.catalog.assortments import LineSpec
from onestore.catalog.schemas import (
    AssortmentIn,
    AssortmentLineIn,
    AssortmentPatch,
    AttributeIn,
    AttributePatch,
    CategoryIn,
    CategoryPatch,
    ChannelIn,
    ChannelPatch,
    LocationIn,
    LocationPatch,
    UnitIn,
    UnitPatch,
)
from onestore.catalog.views import (
    AssortmentView,
    AttributeView,
    CategoryView,
    ChannelView,
    LocationView,
    Page,
    UnitView,
)
from onestore.catalog.wire import to_json
from onestore.db.uow import UnitOfWork

router = APIRouter(route_class=StrictJSONRoute)

READ = [Depends(require(Permission.CATALOG_READ))]
"""Shared with ``api`` (as are ``Limit`` and ``Offset``): one definition of the read rule
and of paging for every catalog route."""
CATALOG_WRITE = [Depends(require(Permission.CATALOG_WRITE))]
LOCATIONS_WRITE = [Depends(require(Permission.LOCATIONS_WRITE))]
CHANNELS_WRITE = [Depends(require(Permission.CHANNELS_WRITE))]

Limit = Query(50, ge=1, le=queries.MAX_LIMIT, description="Page size, 1-100.")
Offset = Query(0, ge=0, le=queries.MAX_OFFSET, description="Rows to skip.")


def _page(
    request: Request, lister: Callable[[UnitOfWork], list[Any]], limit: int, offset: int
) -> JSONResponse:
    with get_db(request).uow(readonly=True) as uow:
        rows = lister(uow)
    page = Page(items=rows[offset : offset + limit], total=len(rows), limit=limit, offset=offset)
    return JSONResponse(to_json(page))


def _read(request: Request, reader: Callable[[UnitOfWork], Any]) -> JSONResponse:
    with get_db(request).uow(readonly=True) as uow:
        return JSONResponse(to_json(reader(uow)))


def _write(request: Request, writer: Callable[[UnitOfWork], Any]) -> JSONResponse:
    with get_db(request).uow() as uow:
        result = writer(uow)
        uow.commit()
    return JSONResponse(to_json(result))


def _create(
    request: Request, principal: Principal, body: Any, writer: Callable[[UnitOfWork], Any]
) -> Response:
    def action(uow: UnitOfWork) -> tuple[int, Any]:
        return 201, to_json(writer(uow))

    return run_idempotent(request, get_db(request), principal, body.model_dump(mode="json"), action)


# -- units ----------------------------------------------------------------------------------------
@router.get("/units", dependencies=READ, response_model=Page[UnitView])
def list_units(request: Request, limit: int = Limit, offset: int = Offset) -> JSONResponse:
    return _page(request, reference.list_units, limit, offset)


@router.post("/units", status_code=201, response_model=UnitView, openapi_extra=IDEMPOTENCY_KEY)
def create_unit(
    body: UnitIn,
    request: Request,
    principal: Principal = Depends(require(Permission.CATALOG_WRITE)),
) -> Response:
    """Create a unit of measure. Needs an ``Idempotency-Key``."""
    return _create(
        request, principal, body, lambda uow: taxonomy.create_unit(uow, **body.fields_dict())
    )


@router.patch("/units/{code}", dependencies=CATALOG_WRITE, response_model=UnitView)
def update_unit(code: str, body: UnitPatch, request: Request) -> JSONResponse:
    return _write(request, lambda uow: taxonomy.update_unit(uow, code, **body.given()))


# -- categories -----------------------------------------------------------------------------------
@router.get("/categories", dependencies=READ, response_model=Page[CategoryView])
def list_categories(
    request: Request,
    parent: str | None = Query(None, max_length=64, description="Only this one's children."),
    limit: int = Limit,
    offset: int = Offset,
) -> JSONResponse:
    return _page(request, lambda uow: reference.list_categories(uow, parent=parent), limit, offset)


@router.post(
    "/categories", status_code=201, response_model=CategoryView, openapi_extra=IDEMPOTENCY_KEY
)
def create_category(
    body: CategoryIn,
    request: Request,
    principal: Principal = Depends(require(Permission.CATALOG_WRITE)),
) -> Response:
    """Create a category (``parent`` is a category code). Needs an ``Idempotency-Key``."""
    return _create(
        request, principal, body, lambda uow: taxonomy.create_category(uow, **body.fields_dict())
    )


@router.get("/categories/{ref}", dependencies=READ, response_model=CategoryView)
def get_category(ref: str, request: Request) -> JSONResponse:
    return _read(request, lambda uow: reference.get_category_or_raise(uow, ref))


@router.patch("/categories/{ref}", dependencies=CATALOG_WRITE, response_model=CategoryView)
def update_category(ref: str, body: CategoryPatch, request: Request) -> JSONResponse:
    """Rename or move a category; a move that would make a loop is refused (422)."""
    return _write(request, lambda uow: taxonomy.update_category(uow, ref, **body.given()))


# -- attributes -----------------------------------------------------------------------------------
@router.get("/attributes", dependencies=READ, response_model=Page[AttributeView])
def list_attributes(request: Request, limit: int = Limit, offset: int = Offset) -> JSONResponse:
    return _page(request, reference.list_attributes, limit, offset)


@router.post(
    "/attributes", status_code=201, response_model=AttributeView, openapi_extra=IDEMPOTENCY_KEY
)
def create_attribute(
    body: AttributeIn,
    request: Request,
    principal: Principal = Depends(require(Permission.CATALOG_WRITE)),
) -> Response:
    """Define a product attribute. Needs an ``Idempotency-Key``."""
    return _create(
        request, principal, body, lambda uow: taxonomy.create_attribute(uow, **body.fields_dict())
    )


@router.get("/attributes/{code}", dependencies=READ, response_model=AttributeView)
def get_attribute(code: str, request: Request) -> JSONResponse:
    return _read(request, lambda uow: reference.get_attribute_or_raise(uow, code))


@router.patch("/attributes/{code}", dependencies=CATALOG_WRITE, response_model=AttributeView)
def update_attribute(code: str, body: AttributePatch, request: Request) -> JSONResponse:
    """Rename an attribute or add choices (choices cannot be removed)."""
    return _write(request, lambda uow: taxonomy.update_attribute(uow, code, **body.given()))


# -- locations ------------------------------------------------------------------------------------
@router.get("/locations", dependencies=READ, response_model=Page[LocationView])
def list_locations(
    request: Request,
    kind: str | None = Query(None, max_length=16, description="dc, store or vendor."),
    limit: int = Limit,
    offset: int = Offset,
) -> JSONResponse:
    return _page(request, lambda uow: reference.list_locations(uow, kind=kind), limit, offset)


@router.post(
    "/locations", status_code=201, response_model=LocationView, openapi_extra=IDEMPOTENCY_KEY
)
def create_location(
    body: LocationIn,
    request: Request,
    principal: Principal = Depends(require(Permission.LOCATIONS_WRITE)),
) -> Response:
    """Create a DC, store or vendor location. Needs an ``Idempotency-Key``."""
    return _create(
        request, principal, body, lambda uow: network.create_location(uow, **body.fields_dict())
    )


@router.get("/locations/{ref}", dependencies=READ, response_model=LocationView)
def get_location(ref: str, request: Request) -> JSONResponse:
    return _read(request, lambda uow: reference.get_location_or_raise(uow, ref))


@router.patch("/locations/{ref}", dependencies=LOCATIONS_WRITE, response_model=LocationView)
def update_location(ref: str, body: LocationPatch, request: Request) -> JSONResponse:
    return _write(request, lambda uow: network.update_location(uow, ref, body.given()))


# -- channels -------------------------------------------------------------------------------------
@router.get("/channels", dependencies=READ, response_model=Page[ChannelView])
def list_channels(
    request: Request,
    kind: str | None = Query(None, max_length=16),
    limit: int = Limit,
    offset: int = Offset,
) -> JSONResponse:
    return _page(request, lambda uow: reference.list_channels(uow, kind=kind), limit, offset)


@router.post(
    "/channels", status_code=201, response_model=ChannelView, openapi_extra=IDEMPOTENCY_KEY
)
def create_channel(
    body: ChannelIn,
    request: Request,
    principal: Principal = Depends(require(Permission.CHANNELS_WRITE)),
) -> Response:
    """Create a channel with the locations serving it. Needs an ``Idempotency-Key``."""
    return _create(
        request, principal, body, lambda uow: network.create_channel(uow, **body.fields_dict())
    )


@router.get("/channels/{ref}", dependencies=READ, response_model=ChannelView)
def get_channel(ref: str, request: Request) -> JSONResponse:
    return _read(request, lambda uow: reference.get_channel_or_raise(uow, ref))


@router.patch("/channels/{ref}", dependencies=CHANNELS_WRITE, response_model=ChannelView)
def update_channel(ref: str, body: ChannelPatch, request: Request) -> JSONResponse:
    """Change a channel; ``locations`` replaces the whole serving set."""
    return _write(request, lambda uow: network.update_channel(uow, ref, **body.given()))


# -- assortments ----------------------------------------------------------------------------------
def _lines(lines: list[AssortmentLineIn]) -> list[LineSpec]:
    return [LineSpec(ln.product, ln.category, ln.exclude) for ln in lines]


@router.get("/assortments", dependencies=READ, response_model=Page[AssortmentView])
def list_assortments(request: Request, limit: int = Limit, offset: int = Offset) -> JSONResponse:
    return _page(request, reference.list_assortments, limit, offset)


@router.post(
    "/assortments", status_code=201, response_model=AssortmentView, openapi_extra=IDEMPOTENCY_KEY
)
def create_assortment(
    body: AssortmentIn,
    request: Request,
    principal: Principal = Depends(require(Permission.CHANNELS_WRITE)),
) -> Response:
    """Create an assortment with its channels and lines. Needs an ``Idempotency-Key``."""
    fields = {**body.fields_dict(), "lines": _lines(body.lines)}
    return _create(
        request, principal, body, lambda uow: assortments.create_assortment(uow, **fields)
    )


@router.get("/assortments/{ref}", dependencies=READ, response_model=AssortmentView)
def get_assortment(ref: str, request: Request) -> JSONResponse:
    return _read(request, lambda uow: reference.get_assortment_or_raise(uow, ref))


@router.patch("/assortments/{ref}", dependencies=CHANNELS_WRITE, response_model=AssortmentView)
def update_assortment(ref: str, body: AssortmentPatch, request: Request) -> JSONResponse:
    """Change an assortment; ``channels`` and ``lines`` each replace the whole list."""
    fields = body.given()
    if body.lines is not None:
        fields["lines"] = _lines(body.lines)
    return _write(request, lambda uow: assortments.update_assortment(uow, ref, **fields))
