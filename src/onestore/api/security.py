"""Authentication and the permission every route declares.

Each route carries exactly one of ``Depends(require(Permission.X))`` or ``Depends(public)``.
``tests/api/test_route_permissions.py`` walks every route and fails if one has neither, so a
new endpoint cannot ship unguarded. Pages and the JSON API use these same dependencies, so
the decision is made by one function, :func:`onestore.auth.model.permitted`.

A caller is identified by ``Authorization: Bearer <token>`` (API clients, POS devices) or by
the ``onestore_session`` cookie (back-office pages).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import Request

from onestore.auth import service as auth_service
from onestore.auth.model import Permission, Principal, permitted
from onestore.db.database import Database
from onestore.kernel.errors import NotAuthenticated, PermissionDenied

SESSION_COOKIE = "onestore_session"
API_PREFIX = "/api/"
log = logging.getLogger("onestore.auth")


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _resolve(request: Request) -> Principal | None:
    if hasattr(request.state, "principal"):
        principal: Principal | None = request.state.principal
        return principal
    db = get_db(request)
    principal = None
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthenticated("use 'Authorization: Bearer <token>'")
        with db.uow(readonly=True) as uow:
            principal = auth_service.principal_for_token(uow, token.strip())
        if principal is None:
            raise NotAuthenticated("token is unknown, expired or revoked")
    elif (cookie := request.cookies.get(SESSION_COOKIE)) and not request.url.path.startswith(
        API_PREFIX
    ):
        # The session cookie authenticates pages only: the JSON API takes bearer tokens, so a
        # form on another site cannot drive the API with a signed-in user's cookie.
        principal = _resolve_session(request, db, cookie)
    request.state.principal = principal
    return principal


def _resolve_session(request: Request, db: Database, cookie: str) -> Principal | None:
    with db.uow(readonly=True) as uow:
        found = auth_service.find_session(uow, db.settings, cookie)
        if found is None:
            return None
        session, due = found
        principal = auth_service.staff_principal(uow, session.user_id)
    request.state.page_session = session
    if due:
        try:
            with db.uow() as uow:
                auth_service.touch_session(uow, cookie)
                uow.commit()
        except Exception:  # a missed touch only shortens the session; never fail the page
            log.warning("could not record activity on a session", exc_info=True)
    return principal


def current_principal(request: Request) -> Principal:
    principal = _resolve(request)
    if principal is None:
        raise NotAuthenticated("sign in or send a bearer token")
    return principal


def optional_principal(request: Request) -> Principal | None:
    return _resolve(request)


def require(permission: Permission) -> Callable[[Request], Principal]:
    """Dependency: the caller must hold ``permission``; returns the principal."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if not permitted(principal, permission):
            raise PermissionDenied(f"requires permission {permission.value}")
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{permission.value.replace('.', '_')}"
    return dependency


def authenticated(request: Request) -> Principal:
    """Dependency for routes any signed-in caller may use (e.g. "who am I")."""
    return current_principal(request)


authenticated.permission = "authenticated"  # type: ignore[attr-defined]


def public(request: Request) -> None:
    """Dependency that declares a route open to anyone (health, login, docs)."""


public.permission = "public"  # type: ignore[attr-defined]


def declared_permission(dependency: Any) -> str | None:
    value = getattr(dependency, "permission", None)
    return str(value) if value is not None else None
