"""Map errors to RFC 9457 problem+json, once, for the API and the pages alike."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from onestore.db.contention import as_busy
from onestore.kernel.errors import (
    DatabaseBusy,
    FieldError,
    NotAuthenticated,
    OnestoreError,
    TooManyAttempts,
)

log = logging.getLogger("onestore.api")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:onestore:problem:"


def problem_body(
    status: int, slug: str, title: str, detail: str, instance: str, errors: list[FieldError]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    return body


def error_body(err: OnestoreError, instance: str) -> dict[str, Any]:
    return problem_body(err.status, err.slug, err.title, err.detail, instance, err.errors)


def problem_response(err: OnestoreError, instance: str) -> JSONResponse:
    headers = {}
    if isinstance(err, TooManyAttempts | DatabaseBusy):
        headers["Retry-After"] = str(err.retry_after)
    if isinstance(err, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(err, instance), status_code=err.status, media_type=PROBLEM_JSON, headers=headers
    )


def dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        # Keep the location for query/path/header; the body prefix adds nothing for a client.
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for item in exc.errors():
        reason = str(item.get("msg", "invalid"))
        if item.get("type") == "extra_forbidden":
            reason = "unknown field"
        errors.append(FieldError(_field_path(tuple(item.get("loc", ()))), reason))
    return errors


HTML_PATH_PREFIXES = ("/backoffice", "/pos", "/shop", "/login", "/logout")
"""Paths served as pages: their errors are HTML pages (``onestore.web.errors``), not JSON."""


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return path == "/" or path.startswith(HTML_PATH_PREFIXES)


class ErrorPage(Protocol):
    """Renders an error as an HTML page (the web layer provides it; see ``web.errors``)."""

    def __call__(
        self,
        request: Request,
        status_code: int,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Response: ...


def install(app: FastAPI, error_page: ErrorPage) -> None:
    """Register the handlers; page paths get ``error_page``, everything else problem+json."""

    @app.exception_handler(OnestoreError)
    async def _onestore_error(request: Request, exc: OnestoreError) -> Response:
        if isinstance(exc, NotAuthenticated) and _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        if _wants_html(request):
            headers = (
                {"Retry-After": str(exc.retry_after)}
                if isinstance(exc, TooManyAttempts | DatabaseBusy)
                else None
            )
            return error_page(request, exc.status, exc.detail, headers=headers)
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = validation_errors(exc)
        first = errors[0] if errors else FieldError("body", "invalid")
        detail = f"{first.field}: {first.reason}"
        if _wants_html(request):
            return error_page(request, 422, detail)
        body = problem_body(
            422, "validation-failed", "Validation failed", detail, request.url.path, errors
        )
        return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request):
            return error_page(request, exc.status_code, str(exc.detail), headers=exc.headers)
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        body = problem_body(
            exc.status_code, slug, str(exc.detail), str(exc.detail), request.url.path, []
        )
        return JSONResponse(
            body, status_code=exc.status_code, media_type=PROBLEM_JSON, headers=exc.headers
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> Response:
        busy = as_busy(exc)
        if busy is not None:
            log.warning("database contention on %s %s: %s", request.method, request.url.path, exc)
            return await _onestore_error(request, busy)
        return await _bug(request, exc)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _wants_html(request):
            return error_page(request, 500, "An unexpected error occurred; it has been logged.")
        body = problem_body(
            500,
            "internal-error",
            "Internal error",
            "an unexpected error occurred; it has been logged",
            request.url.path,
            [],
        )
        return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)
