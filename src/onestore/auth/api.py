"""Auth API: exchange a password for a token, see who you are, manage staff users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from onestore.api.idempotency import IDEMPOTENCY_KEY, run_idempotent
from onestore.api.security import authenticated, get_db, principals, public, require
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth import service
from onestore.auth.model import (
    CUSTOMER_PERMISSIONS,
    ROLE_PERMISSIONS,
    Grant,
    Permission,
    Principal,
    PrincipalKind,
    StaffUser,
    scope_of,
)
from onestore.auth.schemas import (
    CustomerTokenRequest,
    GrantOut,
    PrincipalOut,
    StaffUserIn,
    StaffUserOut,
    TokenOut,
    TokenRequest,
)
from onestore.db.uow import UnitOfWork

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=StrictJSONRoute)


def _sign_in(
    request: Request,
    kind: PrincipalKind,
    token_name: str,
    authenticate: Callable[[UnitOfWork], service.LoginResult],
) -> TokenOut:
    issued = service.sign_in(
        get_db(request),
        authenticate,
        lambda uow, user_id: service.issue_token(uow, kind, user_id, token_name),
    )
    return TokenOut(id=issued.id, token=issued.token)


@router.post("/tokens", status_code=201, dependencies=[Depends(public)])
def create_token(body: TokenRequest, request: Request) -> TokenOut:
    """Sign in with a staff username and password; returns a bearer token (shown once)."""
    settings = get_db(request).settings
    return _sign_in(
        request,
        PrincipalKind.STAFF,
        body.name,
        lambda uow: service.authenticate_staff(uow, settings, body.username, body.password),
    )


@router.post("/customer-tokens", status_code=201, dependencies=[Depends(public)])
def create_customer_token(body: CustomerTokenRequest, request: Request) -> TokenOut:
    """Sign in as a shopper with email and password; returns a bearer token (shown once)."""
    settings = get_db(request).settings
    return _sign_in(
        request,
        PrincipalKind.CUSTOMER,
        body.name,
        lambda uow: service.authenticate_customer(uow, settings, body.email, body.password),
    )


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    dependencies=[Depends(require(Permission.TOKENS_MANAGE_OWN))],
)
def revoke_token(token_id: str, request: Request) -> Response:
    """Revoke one of your own tokens."""
    db = get_db(request)
    principal: Principal = request.state.principal
    with db.uow() as uow:
        service.revoke_token(uow, principal, token_id)
        uow.commit()
    principals(request).forget_all()  # no request through this worker may use it any more
    return Response(status_code=204)


@router.get("/me")
def me(principal: Principal = Depends(authenticated)) -> PrincipalOut:
    """The caller, their role grants and the permissions those give."""
    if principal.kind is PrincipalKind.CUSTOMER:
        perms = sorted(p.value for p in CUSTOMER_PERMISSIONS)
    else:
        perms = sorted({p.value for g in principal.grants for p in ROLE_PERMISSIONS[g.role]})
    return PrincipalOut(
        kind=principal.kind.value,
        id=principal.id,
        name=principal.name,
        grants=[GrantOut(role=g.role, location_id=g.location_id) for g in principal.grants],
        permissions=perms,
    )


staff_router = APIRouter(prefix="/api/v1/staff", tags=["auth"], route_class=StrictJSONRoute)


def _staff_out(user: StaffUser) -> dict[str, Any]:
    return StaffUserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        is_active=user.is_active,
        created_at=user.created_at,
        grants=[GrantOut(role=g.role, location_id=g.location_id) for g in user.grants],
    ).model_dump(mode="json")


@staff_router.get("")
def list_staff(
    request: Request, principal: Principal = Depends(require(Permission.USERS_READ))
) -> list[StaffUserOut]:
    """Staff users; a store-scoped caller sees only the staff of their own locations."""
    db = get_db(request)
    with db.uow(readonly=True) as uow:
        users = service.list_staff(uow, scope_of(principal, Permission.USERS_READ))
    return [StaffUserOut.model_validate(_staff_out(u)) for u in users]


@staff_router.post(
    "",
    status_code=201,
    response_model=StaffUserOut,
    responses={201: {"model": StaffUserOut}},
    openapi_extra=IDEMPOTENCY_KEY,
)
def create_staff(
    body: StaffUserIn,
    request: Request,
    principal: Principal = Depends(require(Permission.USERS_MANAGE)),
) -> Response:
    """Create a staff user with role grants. Needs an ``Idempotency-Key`` header."""
    db = get_db(request)

    grants = [Grant(g.role, g.location_id) for g in body.grants]
    service.check_grantable(scope_of(principal, Permission.USERS_MANAGE), grants)

    def action(uow: UnitOfWork) -> tuple[int, Any]:
        user_id = service.create_staff_user(
            uow,
            username=body.username,
            display_name=body.display_name,
            password=body.password,
            grants=grants,
        )
        return 201, _staff_out(service.get_staff_or_raise(uow, user_id))

    # The fingerprint kept with the key leaves the password out: a fast unsalted hash of it
    # stored beside the key could be brute-forced. A retry that changes only the password
    # therefore replays the first result rather than getting a 422.
    fingerprint = body.model_dump(mode="json", exclude={"password"})
    return run_idempotent(request, db, principal, fingerprint, action)
