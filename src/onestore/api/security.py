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
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from onestore.auth import service as auth_service
from onestore.auth.model import Permission, Principal, permitted
from onestore.auth.token_cache import PrincipalCache
from onestore.db.database import Database
from onestore.kernel.errors import NotAuthenticated, PermissionDenied

SESSION_COOKIE = "onestore_session"
API_PREFIX = "/api/"
log = logging.getLogger("onestore.auth")


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def principals(request: Request) -> PrincipalCache:
    """This worker's memory of bearer tokens (:mod:`onestore.auth.token_cache`)."""
    cache: PrincipalCache = request.app.state.principals
    return cache


def _bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("use 'Authorization: Bearer <token>'")
    return token.strip()


def _remembered(request: Request) -> Principal | None:
    """The caller, if known without the database: resolved earlier in this request, or a
    bearer token this worker looked up a moment ago."""
    if hasattr(request.state, "principal"):
        principal: Principal | None = request.state.principal
        return principal
    header = request.headers.get("authorization", "")
    if header:
        principal = principals(request).get(_bearer(header))
        if principal is not None:
            request.state.principal = principal
            return principal
    return None


def _resolve(request: Request) -> Principal | None:
    known = _remembered(request)
    if known is not None or hasattr(request.state, "principal"):  # None: resolved as nobody
        return known
    db = get_db(request)
    principal = None
    header = request.headers.get("authorization", "")
    if header:
        token = _bearer(header)
        generation = principals(request).generation
        with db.uow(readonly=True) as uow:
            found = auth_service.token_principal(uow, token)
        if found is None:
            raise NotAuthenticated("token is unknown, expired or revoked")
        principal, expires_at = found
        principals(request).put(token, principal, expires_at, generation)
    elif (cookie := request.cookies.get(SESSION_COOKIE)) and not request.url.path.startswith(
        API_PREFIX
    ):
        # The session cookie authenticates pages only: the JSON API takes bearer tokens, so a
        # form on another site cannot drive the API with a signed-in user's cookie.
        principal = _resolve_session(request, db, cookie)
    request.state.principal = principal
    return principal


async def _resolve_async(request: Request) -> Principal | None:
    """:func:`_resolve` from the event loop: a remembered caller costs no thread hop; the
    database look-up (and a page session's touch) runs on a worker thread."""
    if (known := _remembered(request)) is not None:
        return known
    return await run_in_threadpool(_resolve, request)


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


def optional_principal(request: Request) -> Principal | None:
    return _resolve(request)


async def _current_principal(request: Request) -> Principal:
    principal = await _resolve_async(request)
    if principal is None:
        raise NotAuthenticated("sign in or send a bearer token")
    return principal


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: the caller must hold ``permission``; returns the principal. Async, so that
    a caller this worker already knows is checked on the event loop without a thread."""

    async def dependency(request: Request) -> Principal:
        principal = await _current_principal(request)
        if not permitted(principal, permission):
            raise PermissionDenied(f"requires permission {permission.value}")
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{permission.value.replace('.', '_')}"
    return dependency


async def authenticated(request: Request) -> Principal:
    """Dependency for routes any signed-in caller may use (e.g. "who am I")."""
    return await _current_principal(request)


authenticated.permission = "authenticated"  # type: ignore[attr-defined]


async def public(request: Request) -> None:
    """Dependency that declares a route open to anyone (health, login, docs)."""


public.permission = "public"  # type: ignore[attr-defined]


def declared_permission(dependency: Any) -> str | None:
    value = getattr(dependency, "permission", None)
    return str(value) if value is not None else None
