"""Errors on pages are pages: ``api/problems.py`` hands page requests here instead of JSON.

A person who follows a stale link or lacks a role should see where they are and a way on,
not a problem+json document; scripts calling the API still get problem+json.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import Request
from fastapi.responses import HTMLResponse

from onestore.api.security import optional_principal
from onestore.kernel.errors import OnestoreError
from onestore.web.rendering import render

_HEADINGS = {
    403: "You don't have access to this page",
    404: "Page not found",
    405: "That action isn't possible here",
    422: "Something in the request was not valid",
    429: "Too many attempts",
    500: "Something went wrong",
}

_FRIENDLY_DETAIL = {
    404: "There is nothing at this address. It may have been mistyped or the item removed.",
    405: "This page cannot be used that way; go back and try again.",
}


def _identify(request: Request) -> None:
    """Find who is asking when routing failed before any permission check ran (404, 405).

    The page then keeps its navigation and name instead of looking signed out.
    """
    if hasattr(request.state, "principal"):
        return
    try:
        optional_principal(request)
    except OnestoreError:
        request.state.principal = None


def error_page(
    request: Request,
    status_code: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``error.html`` with a heading chosen by status and the error's own detail."""
    if status_code < 500:
        _identify(request)
    if detail == HTTPStatus(status_code).phrase and status_code in _FRIENDLY_DETAIL:
        detail = _FRIENDLY_DETAIL[status_code]  # Starlette's bare "Not Found" says nothing
    heading = _HEADINGS.get(status_code, "The request could not be completed")
    return render(
        request,
        "error.html",
        {"status": status_code, "heading": heading, "detail": detail},
        status_code=status_code,
        headers=headers,
    )
