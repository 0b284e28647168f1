"""Inventory API: availability, receipts, adjustments, reservations and the movement ledger.

Every route declares its permission: ``inventory.read`` to look, ``inventory.write`` to change
stock on hand, ``inventory.reserve`` to hold it. Every POST goes through ``run_idempotent``, so a
client retrying a reserve after a timeout gets the first answer instead of a second hold; the
key is stored in the same transaction as the stock change (they only write to the database).
A reservation is visible to the caller that made it; callers who may change stock
(``inventory.write``) see all of them. Anyone else gets a 404, not a hint that it exists.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from onestore.api.idempotency import IDEMPOTENCY_KEY, Finish
from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal, scope_of
from onestore.catalog.wire import to_json
from onestore.inventory import availability, reservations, service
from onestore.inventory.api_support import at_the_desk, idempotent
from onestore.inventory.desk import CommitCall, ReserveCall, desk_for
from onestore.inventory.model import MovementKind
from onestore.inventory.schemas import (
    AdjustmentIn,
    ExtendIn,
    GoodsReceiptIn,
    ReceiptIn,
    ReservationIn,
)
from onestore.inventory.views import MovementPage, ReservationView, SkuAvailability

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"], route_class=StrictJSONRoute)

READ = [Depends(require(Permission.INVENTORY_READ))]


def _owner(principal: Principal) -> str | None:
    """Whose reservations this caller may see: None (all) for stock managers of the whole
    network, else their own — a store manager's grant covers one store, and a reservation may
    hold stock anywhere, so store-scoped callers see (and release, fulfil) only their own."""
    if scope_of(principal, Permission.INVENTORY_WRITE) is None:
        return None
    return principal.scope_key


@router.get("/availability", dependencies=READ, response_model=list[SkuAvailability])
def get_availability(
    request: Request,
    sku: list[str] = Query(..., min_length=1, max_length=availability.MAX_SKUS),
    location: list[str] = Query([], max_length=availability.MAX_LOCATIONS),
    channel: str | None = Query(None, min_length=1, max_length=32),
) -> JSONResponse:
    """Available to promise per SKU, at the ``location``s given, or at the locations serving
    ``channel``, or at every location. Lapsed soft reservations are already left out."""
    with get_db(request).uow(readonly=True) as uow:
        answer = availability.availability(uow, sku, locations=location, channel=channel)
    return JSONResponse(to_json(answer))


@router.post("/receipts", response_model=service.StockChange, openapi_extra=IDEMPOTENCY_KEY)
def post_receipt(
    body: ReceiptIn,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_WRITE)),
) -> Response:
    """Goods received at a location. Needs an ``Idempotency-Key``."""
    return idempotent(
        request,
        principal,
        body.model_dump(mode="json"),
        lambda uow: service.receive(
            uow,
            body.sku,
            body.location,
            body.quantity,
            reference=body.reference,
            actor=principal.scope_key,
        ),
        writes_at=body.location,
    )


@router.post("/adjustments", response_model=service.StockChange, openapi_extra=IDEMPOTENCY_KEY)
def post_adjustment(
    body: AdjustmentIn,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_WRITE)),
) -> Response:
    """A signed stock correction with a reason code. Needs an ``Idempotency-Key``."""
    return idempotent(
        request,
        principal,
        body.model_dump(mode="json"),
        lambda uow: service.adjust(
            uow,
            body.sku,
            body.location,
            body.quantity,
            reason_code=body.reason_code,
            kind=MovementKind(body.kind),
            reference=body.reference,
            actor=principal.scope_key,
        ),
        writes_at=body.location,
    )


@router.post(
    "/goods-receipts", response_model=list[service.StockChange], openapi_extra=IDEMPOTENCY_KEY
)
def post_goods_receipt(
    body: GoodsReceiptIn,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_WRITE)),
) -> Response:
    """A delivery of several SKUs at one location (an ASN or purchase order), all lines or
    none. Needs an ``Idempotency-Key``."""
    return idempotent(
        request,
        principal,
        body.model_dump(mode="json"),
        lambda uow: service.receive_many(
            uow,
            body.location,
            [(line.sku, line.quantity) for line in body.lines],
            reference=body.reference,
            actor=principal.scope_key,
        ),
        writes_at=body.location,
    )


@router.post(
    "/reservations", status_code=201, response_model=ReservationView, openapi_extra=IDEMPOTENCY_KEY
)
async def post_reservation(
    body: ReservationIn,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_RESERVE)),
) -> Response:
    """Hold every line or none (409 ``insufficient-stock`` naming the short line).
    Needs an ``Idempotency-Key``."""

    ttl = None if body.ttl_seconds is None else timedelta(seconds=body.ttl_seconds)
    desk = desk_for(get_db(request))

    async def submit(finish: Finish) -> ReservationView:
        return await desk.reserve_async(
            ReserveCall(
                [(line.sku, line.location, line.quantity) for line in body.lines],
                kind=body.kind,
                ttl=ttl,
                reservation_id=body.id,
                channel=body.channel,
                reference=body.reference,
                owner=principal.scope_key,
                finish=finish,
            )
        )

    payload = body.model_dump(mode="json")
    return await at_the_desk(request, principal, payload, submit, status=201)


@router.get("/reservations/{reservation_id}", response_model=ReservationView)
def get_reservation(
    reservation_id: str,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_RESERVE)),
) -> JSONResponse:
    with get_db(request).uow(readonly=True) as uow:
        found = reservations.get_reservation_or_raise(uow, reservation_id, owner=_owner(principal))
    return JSONResponse(to_json(found))


@router.post(
    "/reservations/{reservation_id}/extend",
    response_model=ReservationView,
    openapi_extra=IDEMPOTENCY_KEY,
)
def extend_reservation(
    reservation_id: str,
    body: ExtendIn,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_RESERVE)),
) -> Response:
    """Push a live soft reservation's expiry to now + ``ttl_seconds``."""
    return idempotent(
        request,
        principal,
        {"id": reservation_id, **body.model_dump(mode="json")},
        lambda uow: reservations.extend(
            uow,
            reservation_id,
            timedelta(seconds=body.ttl_seconds),
            owner=_owner(principal),
        ),
    )


@router.post(
    "/reservations/{reservation_id}/release",
    response_model=ReservationView,
    openapi_extra=IDEMPOTENCY_KEY,
)
def release_reservation(
    reservation_id: str,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_RESERVE)),
) -> Response:
    """Give the held units back (cart emptied, order cancelled)."""
    return idempotent(
        request,
        principal,
        {"id": reservation_id},
        lambda uow: reservations.release(uow, reservation_id, owner=_owner(principal)),
    )


@router.post(
    "/reservations/{reservation_id}/commit",
    response_model=ReservationView,
    openapi_extra=IDEMPOTENCY_KEY,
)
async def commit_reservation(
    reservation_id: str,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_RESERVE)),
) -> Response:
    """The order is placed: the soft hold becomes an order hold on the same units (it stops
    expiring and waits for fulfilment or cancel)."""
    desk = desk_for(get_db(request))
    return await at_the_desk(
        request,
        principal,
        {"id": reservation_id},
        lambda finish: desk.commit_async(
            CommitCall(reservation_id, _owner(principal), finish=finish)
        ),
    )


@router.post(
    "/reservations/{reservation_id}/fulfil",
    response_model=ReservationView,
    openapi_extra=IDEMPOTENCY_KEY,
)
def fulfil_reservation(
    reservation_id: str,
    request: Request,
    principal: Principal = Depends(require(Permission.INVENTORY_RESERVE)),
) -> Response:
    """Consume the held units: they leave on hand as a sale (shipped, picked up, carried out)."""
    return idempotent(
        request,
        principal,
        {"id": reservation_id},
        lambda uow: reservations.fulfil(
            uow, reservation_id, owner=_owner(principal), actor=principal.scope_key
        ),
    )


@router.get("/movements", dependencies=READ, response_model=MovementPage)
def get_movements(
    request: Request,
    sku: str | None = Query(None, min_length=1, max_length=64),
    location: str | None = Query(None, min_length=1, max_length=32),
    limit: int = Query(50, ge=1, le=service.MAX_LIMIT),
    offset: int = Query(0, ge=0, le=service.MAX_OFFSET),
) -> JSONResponse:
    """The stock ledger, oldest first."""
    with get_db(request).uow(readonly=True) as uow:
        page = service.list_movements(uow, sku=sku, location=location, limit=limit, offset=offset)
    return JSONResponse(to_json(page))
