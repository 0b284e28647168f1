"""Transfer API: open, ship, receive, cancel and read inter-store transfers.

Permissions are per location, because a transfer touches two stores' stock: creating,
shipping and cancelling change the *source*, so the caller needs ``inventory.write`` there;
receiving changes the *destination*, so it needs ``inventory.write`` there. A store manager of
ST-01 can therefore ship out of ST-01 and receive into ST-01, and nothing at ST-02. The route
declares ``inventory.write`` (held somewhere) and the use case's locations are checked inside
the unit of work, so a refusal is stored with the ``Idempotency-Key`` like any other answer.
Reading needs ``inventory.read``. Every POST goes through ``run_idempotent``: a retried ship
after a timeout gets the first answer, not a 409.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from onestore.api.idempotency import IDEMPOTENCY_KEY
from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal
from onestore.catalog.wire import to_json
from onestore.db.uow import UnitOfWork
from onestore.inventory import refs, transfers
from onestore.inventory.api_support import idempotent, may_write_at
from onestore.inventory.transfers_schemas import ReceiveIn, ShipIn, TransferIn
from onestore.inventory.transfers_views import TransferPage, TransferView

router = APIRouter(
    prefix="/api/v1/inventory/transfers", tags=["inventory"], route_class=StrictJSONRoute
)

READ = [Depends(require(Permission.INVENTORY_READ))]
WRITE = Depends(require(Permission.INVENTORY_WRITE))


@router.post("", status_code=201, response_model=TransferView, openapi_extra=IDEMPOTENCY_KEY)
def create_transfer(body: TransferIn, request: Request, principal: Principal = WRITE) -> Response:
    """Open a transfer: every line is held at ``from_location`` or none is (409
    ``insufficient-stock`` naming the short line). Needs ``inventory.write`` at the source."""

    def work(uow: UnitOfWork) -> TransferView:
        source = refs.location_ids(uow, [body.from_location], ["from_location"])[0]
        may_write_at(principal, source, "the transfer's source")
        return transfers.create(
            uow,
            body.from_location,
            body.to_location,
            [(line.sku, line.quantity) for line in body.lines],
            reference=body.reference,
            actor=principal.scope_key,
            transfer_id=body.id,
        )

    return idempotent(request, principal, body.model_dump(mode="json"), work, status=201)


@router.get("", dependencies=READ, response_model=TransferPage)
def list_transfers(
    request: Request,
    location: str | None = Query(None, min_length=1, max_length=32),
    status: str | None = Query(None, min_length=1, max_length=12),
    limit: int = Query(50, ge=1, le=transfers.MAX_LIMIT),
    offset: int = Query(0, ge=0, le=transfers.MAX_OFFSET),
) -> JSONResponse:
    """Transfers newest first; ``location`` matches either end."""
    with get_db(request).uow(readonly=True) as uow:
        page = transfers.list_transfers(
            uow, location=location, status=status, limit=limit, offset=offset
        )
    return JSONResponse(to_json(page))


@router.get("/{transfer}", dependencies=READ, response_model=TransferView)
def get_transfer(transfer: str, request: Request) -> JSONResponse:
    """One transfer by id or number (``TR-000123``)."""
    with get_db(request).uow(readonly=True) as uow:
        found = transfers.get_or_raise(uow, transfer)
    return JSONResponse(to_json(found))


@router.post("/{transfer}/ship", response_model=TransferView, openapi_extra=IDEMPOTENCY_KEY)
def ship_transfer(
    transfer: str,
    request: Request,
    body: ShipIn | None = Body(None),
    principal: Principal = WRITE,
) -> Response:
    """The units leave the source and go in transit. Needs ``inventory.write`` at the source."""
    shipment = body or ShipIn()

    def work(uow: UnitOfWork) -> TransferView:
        may_write_at(
            principal, transfers.locations_or_raise(uow, transfer)[0], "the transfer's source"
        )
        return transfers.ship(
            uow,
            transfer,
            carrier=shipment.carrier,
            tracking=shipment.tracking,
            actor=principal.scope_key,
        )

    payload = {"transfer": transfer, **shipment.model_dump(mode="json")}
    return idempotent(request, principal, payload, work)


@router.post("/{transfer}/receive", response_model=TransferView, openapi_extra=IDEMPOTENCY_KEY)
def receive_transfer(
    transfer: str,
    request: Request,
    body: ReceiveIn | None = Body(None),
    principal: Principal = WRITE,
) -> Response:
    """The units arrive. List only the lines that differ from what was shipped (with a
    ``discrepancy_reason``); the rest arrived in full. Needs ``inventory.write`` at the
    destination."""
    receipt = body or ReceiveIn()

    def work(uow: UnitOfWork) -> TransferView:
        may_write_at(
            principal, transfers.locations_or_raise(uow, transfer)[1], "the transfer's destination"
        )
        return transfers.receive(
            uow,
            transfer,
            [(line.sku, line.received, line.discrepancy_reason) for line in receipt.lines],
            actor=principal.scope_key,
        )

    payload = {"transfer": transfer, **receipt.model_dump(mode="json")}
    return idempotent(request, principal, payload, work)


@router.post("/{transfer}/cancel", response_model=TransferView, openapi_extra=IDEMPOTENCY_KEY)
def cancel_transfer(transfer: str, request: Request, principal: Principal = WRITE) -> Response:
    """Call off an open transfer and release its hold. Needs ``inventory.write`` at the
    source."""

    def work(uow: UnitOfWork) -> TransferView:
        may_write_at(
            principal, transfers.locations_or_raise(uow, transfer)[0], "the transfer's source"
        )
        return transfers.cancel(uow, transfer, actor=principal.scope_key)

    return idempotent(request, principal, {"transfer": transfer}, work)
