"""Sign in and sign out of the back office with a password and a server-side session.

The session itself lives in the database (``auth.service``); this module only moves it in and
out of the ``onestore_session`` cookie and guards the two forms against cross-site posts:

* the sign-in form uses a double-submit token — a random value in a short-lived cookie that
  must equal the hidden field, compared in constant time — because there is no session yet;
* the sign-out form carries the session's own ``csrf_token``.

``next`` is followed only when it is a path on this site, so a crafted link cannot use our
sign-in page to bounce a freshly signed-in user to somewhere else.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onestore.api.security import SESSION_COOKIE, get_db, optional_principal, public
from onestore.api.strict_json import StrictJSONRoute
from onestore.auth import service as auth_service
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import NotAuthenticated, OnestoreError, TooManyAttempts
from onestore.web.errors import error_page
from onestore.web.rendering import render

router = APIRouter(route_class=StrictJSONRoute, include_in_schema=False)

LOGIN_CSRF_COOKIE = "onestore_login_csrf"
LOGIN_CSRF_MAX_AGE = 60 * 60  # long enough to type a password, short enough to go stale
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
DEFAULT_NEXT = "/backoffice"
MAX_PASSWORD_CHARS = 1024  # no real password is longer; stops megabyte hashing requests


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site (``/...``, not ``//host``), else the default.

    Browsers treat ``\\`` like ``/`` and drop tabs and newlines inside URLs, so ``/\\evil`` or
    ``/\\t/evil`` would leave the site; anything with those characters is refused outright.
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return DEFAULT_NEXT
    if value.startswith("//") or "\\" in value:
        return DEFAULT_NEXT
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return value


def _valid_token(value: str | None) -> bool:
    return value is not None and _TOKEN_SHAPE.fullmatch(value) is not None


def _tokens_match(cookie: str | None, field: str) -> bool:
    if not _valid_token(cookie) or not _valid_token(field):
        return False
    assert cookie is not None
    return hmac.compare_digest(cookie.encode(), field.encode())


def _login_form(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The sign-in page, with a CSRF token that is reused while its cookie is alive.

    Reusing the token keeps two open sign-in tabs working; a fresh one is made when the
    cookie is missing or malformed.
    """
    existing = request.cookies.get(LOGIN_CSRF_COOKIE)
    token = existing if _valid_token(existing) else secrets.token_urlsafe(32)
    assert token is not None
    response = render(
        request,
        "login.html",
        {"csrf_token": token, "next": next_path, "username": username, "error": error},
        status_code=status_code,
        headers=headers,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_CSRF_MAX_AGE,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=get_db(request).settings.secure_cookies,
    )
    return response


def _signed_in(request: Request) -> bool:
    try:
        return optional_principal(request) is not None
    except NotAuthenticated:  # a bad bearer header on a page request: treat as signed out
        return False


@router.get("/login", dependencies=[Depends(public)])
def login_page(request: Request, next: str = "") -> Response:
    """The sign-in form; someone already signed in goes straight on to ``next``."""
    target = safe_next(next)
    if _signed_in(request):
        return RedirectResponse(target, status_code=303)
    return _login_form(request, next_path=target)


def _locked_message(retry_after: int) -> str:
    # The service rounds seconds up by one; 1801 s is "30 minutes", 61 s is "1 minute".
    minutes = max(1, round(retry_after / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"This account is locked after too many failed sign-ins; try again in {minutes} {unit}."


@router.post("/login", dependencies=[Depends(public)])
def login_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    """Check the password and start a session; failures re-show the form with the reason.

    The unit of work is committed even when the password is wrong, so the failure counter that
    leads to the lockout is kept (the service raises after writing it).
    """
    target = safe_next(next)
    username = username.strip()[:200]
    if not _tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_form(
            request,
            next_path=target,
            username=username,
            error="The sign-in form expired or did not come from this site. Please try again.",
            status_code=403,
        )
    if not username or not password or len(password) > MAX_PASSWORD_CHARS:
        return _login_form(
            request,
            next_path=target,
            username=username,
            error="Wrong username or password.",
            status_code=401,
        )
    db = get_db(request)
    old = request.cookies.get(SESSION_COOKIE)

    def open_session(uow: UnitOfWork, user_id: str) -> auth_service.PageSession:
        if old:
            auth_service.end_session(uow, old)  # never keep two sessions for one browser
        return auth_service.start_session(uow, user_id)

    try:
        session = auth_service.sign_in(
            db,
            lambda uow: auth_service.authenticate_staff(uow, db.settings, username, password),
            open_session,
        )
    except TooManyAttempts as exc:
        return _login_form(
            request,
            next_path=target,
            username=username,
            error=_locked_message(exc.retry_after),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except OnestoreError:
        return _login_form(
            request,
            next_path=target,
            username=username,
            error="Wrong username or password.",
            status_code=401,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.session_id,
        path="/",
        httponly=True,
        samesite="lax",
        secure=db.settings.secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _clear_session_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


@router.post("/logout", dependencies=[Depends(public)])
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    """End the session named by the cookie, if the form carries that session's CSRF token."""
    db = get_db(request)
    _signed_in(request)  # resolves the cookie and sets request.state.page_session
    session: auth_service.PageSession | None = getattr(request.state, "page_session", None)
    response: Response
    if session is None:
        # Nothing live to end (expired, already signed out): just forget the cookie.
        response = RedirectResponse("/login", status_code=303)
        _clear_session_cookie(response, db.settings.secure_cookies)
        return response
    if not hmac.compare_digest(session.csrf_token.encode(), csrf_token.encode()):
        return error_page(
            request, 403, "The sign-out form did not come from this site; you are still signed in."
        )
    with db.uow() as uow:
        auth_service.end_session(uow, session.session_id)
        uow.commit()
    response = RedirectResponse("/login", status_code=303)
    _clear_session_cookie(response, db.settings.secure_cookies)
    return response
