"""The one Jinja2 environment and the one function that turns a template into a response.

Every HTML response goes through :func:`render`, so autoescaping, ``StrictUndefined`` and the
security headers (CSP and friends) are decided in one place and cannot be forgotten by a new
page. ``StrictUndefined`` makes a misspelt variable an error in tests instead of a blank cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from onestore import __version__
from onestore.kernel.money import Money

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Pages load only our own stylesheet and script; nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages show data behind a login; a shared or back-button cache must not keep them.
    "Cache-Control": "no-store",
}

DISPLAY_LOCALE = "en"


def money(value: Money | None) -> str:
    """``Money`` as people read it (``€49.95``); an em dash when there is no price."""
    if value is None:
        return "—"
    return str(format_currency(value.amount, value.currency, locale=DISPLAY_LOCALE))


def plain(value: Any) -> str:
    """A cell value: blank-looking dash for ``None``/empty, exact text for decimals."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["plain"] = plain
    env.globals["version"] = __version__
    return env


environment = _environment()


def page_context(request: Request) -> dict[str, Any]:
    """What every page's layout needs: who is signed in and the token their forms must carry."""
    principal = getattr(request.state, "principal", None)
    session = getattr(request.state, "page_session", None)
    return {
        "request_path": request.url.path,
        "section": "",
        "user": principal,
        "session_csrf": session.csrf_token if session is not None else None,  # forms carry it
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    body = environment.get_template(template).render({**page_context(request), **(context or {})})
    return HTMLResponse(
        body, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )
