"""Buffer stock policy API: CRUD, recompute, and "why is this buffer what it is".

Reads need ``inventory.read``; every change needs ``inventory.write`` and an
``Idempotency-Key`` (``run_idempotent``), so a retried recompute or create does not run twice.
A store-scoped caller (a store manager) may only manage policies for their own location and
recompute their own location: a channel or network-wide policy reaches other stores' stock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from onestore.api.idempotency import IDEMPOTENCY_KEY
from onestore.api.security import get_db, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth.model import Permission, Principal, scope_of
from onestore.catalog.wire import to_json
from onestore.inventory import buffer_rules, buffers
from onestore.inventory.api_support import idempotent
from onestore.inventory.buffer_rules import PolicyDraft
from onestore.inventory.schemas import LocationRef, SkuRef

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"], route_class=StrictJSONRoute)

READ = [Depends(require(Permission.INVENTORY_READ))]
WRITE = require(Permission.INVENTORY_WRITE)
POLICIES = "/buffer-policies"

Name = Annotated[str, Field(min_length=1, max_length=buffer_rules.MAX_NAME)]
Method = Literal["fixed", "percent", "days_of_cover"]
CategoryRef = Annotated[str, Field(min_length=1, max_length=64)]
ChannelRef = Annotated[str, Field(min_length=1, max_length=32)]
Units = Annotated[int, Field(strict=True, ge=0, le=buffer_rules.MAX_UNITS)]
Percent = Annotated[
    Decimal,
    Field(ge=0, le=100, max_digits=5, decimal_places=2, description="0-100, 2 places."),
]
Days = Annotated[
    Decimal,
    Field(gt=0, le=buffer_rules.MAX_DAYS, max_digits=6, decimal_places=2, description="Cover."),
]
RiskClass = Literal["A", "B", "C"]
VelocityDays = Annotated[int, Field(strict=True, ge=1, le=buffer_rules.MAX_VELOCITY_DAYS)]
PolicyId = Annotated[str, Path(min_length=1, max_length=26)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _PolicyFields(_Body):
    """What a policy covers and its method's inputs; every one optional here."""

    sku: SkuRef | None = None
    category: CategoryRef | None = None
    location: LocationRef | None = None
    channel: ChannelRef | None = None
    units: Units | None = None
    percent: Percent | None = None
    days: Days | None = None
    risk_class: RiskClass | None = None
    velocity_days: VelocityDays | None = None


class PolicyIn(_PolicyFields):
    """Scope: at most one of ``sku``/``category`` and one of ``location``/``channel`` (none =
    all products / every location). Inputs: ``units`` (fixed), ``percent`` (percent), or
    ``days`` + ``risk_class`` + ``velocity_days`` (days_of_cover), and only those."""

    name: Name
    method: Method

    def draft(self) -> PolicyDraft:
        return PolicyDraft(**self.model_dump())


class PolicyPatch(_PolicyFields):
    """Only the fields present change; ``null`` clears a scope or an input. Naming a SKU drops
    the category (and the reverse), naming a location drops the channel (and the reverse), and
    a new method drops the old method's inputs unless they are sent again."""

    name: Name | None = None
    method: Method | None = None

    @model_validator(mode="after")
    def _not_null(self) -> Self:
        for name in ("name", "method"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError("not_null", f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class RecomputeIn(_Body):
    location: LocationRef | None = Field(None, description="Only this location; all if absent.")


def _within(principal: Principal) -> frozenset[str] | None:
    """The locations a store-scoped caller may manage buffers at; None means everywhere."""
    return scope_of(principal, Permission.INVENTORY_WRITE)


@router.get(POLICIES, dependencies=READ, response_model=list[buffers.PolicyView])
def list_policies(request: Request) -> JSONResponse:
    """Every buffer policy, by name."""
    with get_db(request).uow(readonly=True) as uow:
        return JSONResponse(to_json(buffers.list_policies(uow)))


@router.post(
    POLICIES,
    status_code=201,
    response_model=buffers.PolicyView,
    openapi_extra=IDEMPOTENCY_KEY,
)
def create_policy(
    body: PolicyIn, request: Request, principal: Principal = Depends(WRITE)
) -> Response:
    """Create a policy. Buffers change at the next recompute. Needs an ``Idempotency-Key``."""
    return idempotent(
        request,
        principal,
        body.model_dump(mode="json"),
        lambda uow: buffers.create_policy(uow, body.draft(), within=_within(principal)),
        status=201,
    )


@router.post(
    f"{POLICIES}/recompute",
    response_model=buffers.RecomputeResult,
    openapi_extra=IDEMPOTENCY_KEY,
)
def recompute(
    body: RecomputeIn, request: Request, principal: Principal = Depends(WRITE)
) -> Response:
    """Apply the policies to every balance (or one location's) now; says how many balances
    were examined and how many buffers changed. Needs an ``Idempotency-Key``."""
    return idempotent(
        request,
        principal,
        body.model_dump(mode="json"),
        lambda uow: buffers.recompute(uow, body.location, within=_within(principal)),
        one_transaction=False,  # a long job: claim the key first, so a retry gets a 409
    )


@router.get(f"{POLICIES}/{{policy_id}}", dependencies=READ, response_model=buffers.PolicyView)
def get_policy(policy_id: PolicyId, request: Request) -> JSONResponse:
    with get_db(request).uow(readonly=True) as uow:
        return JSONResponse(to_json(buffers.get_policy_or_raise(uow, policy_id)))


@router.patch(
    f"{POLICIES}/{{policy_id}}", response_model=buffers.PolicyView, openapi_extra=IDEMPOTENCY_KEY
)
def update_policy(
    policy_id: PolicyId,
    body: PolicyPatch,
    request: Request,
    principal: Principal = Depends(WRITE),
) -> Response:
    """Change some fields of a policy. Needs an ``Idempotency-Key``."""
    return idempotent(
        request,
        principal,
        {"id": policy_id, **body.model_dump(mode="json", exclude_unset=True)},
        lambda uow: buffers.update_policy(
            uow, policy_id, body.changes(), within=_within(principal)
        ),
    )


@router.delete(
    f"{POLICIES}/{{policy_id}}", response_model=buffers.PolicyView, openapi_extra=IDEMPOTENCY_KEY
)
def delete_policy(
    policy_id: PolicyId, request: Request, principal: Principal = Depends(WRITE)
) -> Response:
    """Delete a policy; answers with what was deleted. The balances it covered are reset (or
    taken over by the next policy in line) at the next recompute."""
    return idempotent(
        request,
        principal,
        {"id": policy_id},
        lambda uow: buffers.delete_policy(uow, policy_id, within=_within(principal)),
    )


@router.get("/buffers", dependencies=READ, response_model=buffers.BufferExplanation)
def explain_buffer(
    request: Request,
    sku: str = Query(..., min_length=1, max_length=64),
    location: str = Query(..., min_length=1, max_length=32),
) -> JSONResponse:
    """Why ``sku`` at ``location`` holds back what it does: the policy, the numbers and the
    sentence, or that it was set by hand and by whom."""
    with get_db(request).uow(readonly=True) as uow:
        return JSONResponse(to_json(buffers.explain(uow, sku, location)))
