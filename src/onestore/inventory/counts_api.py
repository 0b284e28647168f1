"""Cycle count API: count tasks under ``/api/v1/inventory/counts`` and inventory record
accuracy under ``/api/v1/inventory/accuracy`` (one router, so the app includes it once).

Reading needs ``inventory.read``. Changing a count needs ``inventory.write`` *at the task's
location*: a store manager counts and posts in their own store only, because a post moves that
store's stock. The route declares ``inventory.write`` (so a caller without it anywhere gets a
403 before any work) and the use case's location is checked inside the unit of work, where the
task is read. Every POST goes through ``run_idempotent``: a retried post replays the first
answer instead of correcting the books twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from onestore.api.idempotency import IDEMPOTENCY_KEY
from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal
from onestore.catalog.wire import to_json
from onestore.db.uow import UnitOfWork
from onestore.inventory import counts, counts_queries, model
from onestore.inventory.api_support import idempotent, may_write_at
from onestore.inventory.counts_queries import AccuracyReport, CountTaskPage, CountTaskView
from onestore.inventory.schemas import LocationRef, Reference, SkuRef

router = APIRouter(
    prefix="/api/v1/inventory", tags=["inventory counts"], route_class=StrictJSONRoute
)

READ = [Depends(require(Permission.INVENTORY_READ))]
WRITE = require(Permission.INVENTORY_WRITE)
MAX_DAYS = 3650

Counted = Annotated[int, Field(strict=True, ge=0, le=model.MAX_QUANTITY)]
TaskRef = Annotated[str, Field(min_length=1, max_length=32)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CountTaskIn(_Body):
    location: LocationRef
    skus: list[SkuRef] | None = Field(
        None,
        min_length=1,
        max_length=counts.MAX_LINES,
        description="Leave out to count the SKUs stocked there, least recently counted first.",
    )
    reference: Reference | None = None


class CountEntryIn(_Body):
    sku: SkuRef
    counted: Counted = Field(description="Units found, a whole number; 0 for an empty shelf.")


class CountEntriesIn(_Body):
    counts: list[CountEntryIn] = Field(min_length=1, max_length=counts.MAX_LINES)


def _on_task(
    request: Request,
    principal: Principal,
    task_id: str,
    payload: dict[str, Any],
    work: Callable[[UnitOfWork], CountTaskView],
) -> Response:
    def checked(uow: UnitOfWork) -> CountTaskView:
        may_write_at(
            principal, counts_queries.task_location_id(uow, task_id), "this count's location"
        )
        return work(uow)

    return idempotent(request, principal, {"id": task_id, **payload}, checked)


@router.post(
    "/counts", status_code=201, response_model=CountTaskView, openapi_extra=IDEMPOTENCY_KEY
)
def create_count(
    body: CountTaskIn, request: Request, principal: Principal = Depends(WRITE)
) -> Response:
    """Open a count task at a location (human number ``CC-000123``). Needs an
    ``Idempotency-Key``; 409 naming ``skus.N`` when a SKU is already on an open count there."""

    return idempotent(
        request,
        principal,
        body.model_dump(mode="json"),
        lambda uow: counts.create_task(
            uow, body.location, body.skus, body.reference, actor=principal.scope_key
        ),
        status=201,
        writes_at=body.location,
    )


@router.get("/counts", dependencies=READ, response_model=CountTaskPage)
def get_counts(
    request: Request,
    location: str | None = Query(None, min_length=1, max_length=32),
    status: Literal["open", "counted", "posted", "cancelled"] | None = Query(None),
    limit: int = Query(50, ge=1, le=counts_queries.MAX_LIMIT),
    offset: int = Query(0, ge=0, le=counts_queries.MAX_OFFSET),
) -> JSONResponse:
    """Count tasks, newest first."""
    with get_db(request).uow(readonly=True) as uow:
        page = counts_queries.list_tasks(
            uow, location=location, status=status, limit=limit, offset=offset
        )
    return JSONResponse(to_json(page))


@router.get("/counts/{task_id}", dependencies=READ, response_model=CountTaskView)
def get_count(task_id: TaskRef, request: Request) -> JSONResponse:
    """One count task with its lines, by id or number; ``variance`` = counted − expected."""
    with get_db(request).uow(readonly=True) as uow:
        found = counts_queries.get_task_or_raise(uow, task_id)
    return JSONResponse(to_json(found))


@router.post(
    "/counts/{task_id}/entries", response_model=CountTaskView, openapi_extra=IDEMPOTENCY_KEY
)
def enter_counts(
    task_id: TaskRef,
    body: CountEntriesIn,
    request: Request,
    principal: Principal = Depends(WRITE),
) -> Response:
    """Record counted quantities (a recount overwrites); ``expected`` is the on hand in the
    books at this moment. The task becomes ``counted`` when every line has a count."""
    return _on_task(
        request,
        principal,
        task_id,
        body.model_dump(mode="json"),
        lambda uow: counts.enter_counts(uow, task_id, [(c.sku, c.counted) for c in body.counts]),
    )


@router.post("/counts/{task_id}/post", response_model=CountTaskView, openapi_extra=IDEMPOTENCY_KEY)
def post_count(
    task_id: TaskRef, request: Request, principal: Principal = Depends(WRITE)
) -> Response:
    """Move each line's on hand by its variance (relative, so sales since the count stay).
    409 ``reserved-not-covered`` naming the lines when reserved units would not be covered."""
    return _on_task(
        request,
        principal,
        task_id,
        {},
        lambda uow: counts.post(uow, task_id, actor=principal.scope_key),
    )


@router.post(
    "/counts/{task_id}/cancel", response_model=CountTaskView, openapi_extra=IDEMPOTENCY_KEY
)
def cancel_count(
    task_id: TaskRef, request: Request, principal: Principal = Depends(WRITE)
) -> Response:
    """Drop an open or counted task; stock is not touched."""
    return _on_task(request, principal, task_id, {}, lambda uow: counts.cancel(uow, task_id))


@router.get("/accuracy", dependencies=READ, response_model=AccuracyReport)
def get_accuracy(
    request: Request,
    location: str | None = Query(None, min_length=1, max_length=32),
    days: int = Query(90, ge=1, le=MAX_DAYS, description="Posted counts of the last N days."),
    tolerance_percent: Decimal = Query(
        Decimal(0), ge=0, le=100, description="A line within this % of expected is accurate."
    ),
    tolerance_units: int = Query(0, ge=0, le=model.MAX_QUANTITY),
) -> JSONResponse:
    """Inventory record accuracy per location; ``below_target`` under 95 %."""
    with get_db(request).uow(readonly=True) as uow:
        report = counts.accuracy(
            uow,
            location,
            uow.now() - timedelta(days=days),
            tolerance_percent,
            tolerance_units=tolerance_units,
        )
    return JSONResponse(to_json(report))
