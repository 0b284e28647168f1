"""Route coverage guard (plan R45) and the anonymous / cashier columns of the authz matrix.

Every route of the real app — JSON API and pages, including routes other contexts add later —
must declare who may call it through one of its dependencies (``require(...)``, ``public`` or
``authenticated``, see ``onestore.api.security``). Then, for every route that is not public:
an anonymous request gets 401 (API) or a redirect to /login (pages), and a cashier gets 403
wherever the declared permission is one a cashier lacks. Nothing here lists routes by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from onestore.api.security import declared_permission
from onestore.auth.model import Grant, Permission, Principal, PrincipalKind, Role, permitted

DUMMY_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the template, e.g. /api/v1/catalog/products/{ref}
    declared: frozenset[str]

    @property
    def is_page(self) -> bool:
        return not self.path.startswith("/api/")

    @property
    def url(self) -> str:
        """The template with every path parameter filled with a dummy value of its type."""

        def fill(match: re.Match[str]) -> str:
            convertor = match.group(2) or "str"
            return {"int": "1", "float": "1.5", "uuid": "00000000-0000-0000-0000-000000000001"}.get(
                convertor, DUMMY_ID
            )

        return re.sub(r"{(\w+)(?::(\w+))?}", fill, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _route_contexts(app: FastAPI) -> Iterator[Any]:
    """Every effective route, including those of included routers, on any FastAPI version."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependencies(sub)


def endpoints(app: FastAPI) -> tuple[list[Endpoint], list[BaseRoute]]:
    """(every method of every route with its declared permissions, every non-route mount)."""
    found: list[Endpoint] = []
    mounts: list[BaseRoute] = []
    for route in _route_contexts(app):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            original = getattr(route, "original_route", route)
            mounts.append(original)
            continue
        declared = frozenset(
            p for p in (declared_permission(c) for c in _dependencies(dependant)) if p is not None
        )
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            found.append(Endpoint(method, route.path_format or route.path, declared))
    return found, mounts


@pytest.fixture(scope="module")
def routes() -> tuple[list[Endpoint], list[BaseRoute]]:
    """The routes of the real app (no database needed to list them)."""
    from onestore.api.app import create_app
    from onestore.db.database import Database

    db = Database("sqlite://")
    try:
        return endpoints(create_app(db))
    finally:
        db.dispose()


# -- R45: every route declares its permission ----------------------------------------------
def test_the_app_has_the_routes_we_expect_to_guard(
    routes: tuple[list[Endpoint], list[BaseRoute]],
) -> None:
    found, _ = routes
    paths = {e.path for e in found}
    assert {"/health", "/api/v1/staff", "/api/v1/auth/tokens"} <= paths
    assert len(found) >= 10


def test_every_route_declares_a_permission(
    routes: tuple[list[Endpoint], list[BaseRoute]],
) -> None:
    found, _ = routes
    missing = [str(e) for e in found if not e.declared]
    assert missing == [], f"routes without require(...)/public/authenticated: {missing}"


def test_no_route_is_both_public_and_guarded(
    routes: tuple[list[Endpoint], list[BaseRoute]],
) -> None:
    found, _ = routes
    mixed = [str(e) for e in found if "public" in e.declared and len(e.declared) > 1]
    assert mixed == []


def test_declared_permissions_are_known(routes: tuple[list[Endpoint], list[BaseRoute]]) -> None:
    found, _ = routes
    known = {p.value for p in Permission} | {"public", "authenticated"}
    unknown = {str(e): sorted(e.declared - known) for e in found if e.declared - known}
    assert unknown == {}


def test_only_static_files_are_mounted(routes: tuple[list[Endpoint], list[BaseRoute]]) -> None:
    """A mounted sub-application would bypass every dependency: only asset folders may be."""
    _, mounts = routes
    for mount in mounts:
        assert isinstance(mount, Mount), mount
        assert isinstance(mount.app, StaticFiles), f"{mount.path} mounts {mount.app!r}"
        assert mount.path.startswith("/static"), mount.path


def test_the_guard_would_notice_an_unguarded_route() -> None:
    """Sensitivity check: add a route without a declaration to a copy of the app."""
    from onestore.api.app import create_app
    from onestore.db.database import Database

    db = Database("sqlite://")
    app = create_app(db)

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    found, _ = endpoints(app)
    db.dispose()
    assert [str(e) for e in found if not e.declared] == ["GET /api/v1/forgotten"]


# -- anonymous and cashier requests -------------------------------------------------------
def _guarded(routes: tuple[list[Endpoint], list[BaseRoute]]) -> list[Endpoint]:
    return [e for e in routes[0] if e.declared and "public" not in e.declared]


def _send(client: TestClient, endpoint: Endpoint, headers: dict[str, str] | None = None) -> Any:
    kwargs: dict[str, Any] = {"headers": headers or {}, "follow_redirects": False}
    if endpoint.method in BODY_METHODS:
        kwargs["json"] = {}
    return client.request(endpoint.method, endpoint.url, **kwargs)


def test_anonymous_requests_to_guarded_routes_are_refused(
    client: TestClient, routes: tuple[list[Endpoint], list[BaseRoute]]
) -> None:
    wrong: list[str] = []
    for endpoint in _guarded(routes):
        response = _send(client, endpoint)
        if endpoint.is_page:
            location = response.headers.get("location", "")
            if response.status_code not in (302, 303, 307) or not location.startswith("/login"):
                wrong.append(f"{endpoint}: {response.status_code} {location!r}")
        elif response.status_code != 401 or response.json().get("status") != 401:
            wrong.append(f"{endpoint}: {response.status_code}")
    assert wrong == []


def test_a_bad_token_is_refused_like_no_token(
    client: TestClient, routes: tuple[list[Endpoint], list[BaseRoute]]
) -> None:
    headers = {"Authorization": "Bearer ost_" + "x" * 43}
    wrong = [
        str(e)
        for e in _guarded(routes)
        if not e.is_page and _send(client, e, headers).status_code != 401
    ]
    assert wrong == []


CASHIER = Principal(PrincipalKind.STAFF, DUMMY_ID, "Cashier", (Grant(Role.CASHIER, None),))


def test_cashier_gets_403_wherever_a_cashier_lacks_the_permission(
    client: TestClient,
    routes: tuple[list[Endpoint], list[BaseRoute]],
    make_staff: Any,
) -> None:
    _, headers = make_staff("cashier")
    checked, wrong = 0, []
    for endpoint in _guarded(routes):
        needed = [Permission(p) for p in endpoint.declared if p in Permission._value2member_map_]
        if not needed or all(permitted(CASHIER, p) for p in needed):
            continue
        checked += 1
        response = _send(client, endpoint, headers)
        if response.status_code != 403:
            wrong.append(f"{endpoint}: {response.status_code}")
    assert wrong == []
    assert checked >= 1  # POST /api/v1/staff at least
