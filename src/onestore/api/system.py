"""Operational endpoints: health, Prometheus metrics, OpenAPI and its docs page.

The docs page uses Swagger UI from the ``swagger-ui-bundle-v2`` package, served from this
process, so nothing loads from a CDN.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from sqlalchemy import text

from onestore.api.security import declared_permission, get_db, public
from onestore.api.strict_json import StrictJSONRoute
from onestore.db.migrate import current_revision

REQUESTS = Counter("onestore_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "onestore_http_request_duration_seconds", "HTTP request latency", ["method", "route"]
)

router = APIRouter(route_class=StrictJSONRoute, tags=["system"])


@router.get("/health", dependencies=[Depends(public)])
def health(request: Request) -> JSONResponse:
    """Liveness and readiness: the database answers and its schema revision."""
    db = get_db(request)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(db.engine)
    except Exception as exc:  # the point of a health check is to report, not raise
        return JSONResponse(
            {"status": "unavailable", "database": db.dialect, "error": type(exc).__name__},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": db.dialect, "schema_revision": revision})


@router.get("/metrics", dependencies=[Depends(public)], include_in_schema=False)
def metrics() -> Response:
    """Prometheus text format; aggregates all workers when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = DEFAULT_REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/openapi.json", dependencies=[Depends(public)], include_in_schema=False)
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", dependencies=[Depends(public)], include_in_schema=False)
def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="onestore API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon-32x32.png",
    )


def route_permissions(app: FastAPI) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(path, method, declared permissions) of every route, included routers too."""
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        declared = frozenset(
            p for p in (declared_permission(d.call) for d in _flatten(dependant)) if p
        )
        for method in route.methods or ():
            yield str(route.path_format), method, declared


def _flatten(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _flatten(sub)


def install_openapi(app: FastAPI) -> None:
    """Describe bearer-token auth and each operation's permission in the schema.

    The docs page then offers "Authorize", and a client can see which permission
    (``x-permission``) an operation needs without reading the code.
    """

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /api/v1/auth/tokens.",
                }
            }
            for path, method, permissions in route_permissions(app):
                operation = schema["paths"].get(path, {}).get(method.lower())
                if operation is None:
                    continue
                operation["x-permission"] = sorted(permissions)
                if "public" not in permissions:
                    operation["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def install_metrics(app: FastAPI) -> None:
    """Count and time every request per route template, as a plain ASGI middleware: the
    ``@app.middleware("http")`` form wraps each request in extra tasks and streams, which cost
    more than many of our routes themselves."""
    app.add_middleware(_Metrics)


class _Metrics:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if nothing below answers

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], template, str(status)).inc()
