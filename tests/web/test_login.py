"""Signing in and out of the back office: sessions, lockout, idle timeout, CSRF, redirects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from onestore.api.security import SESSION_COOKIE
from onestore.auth.model import Role
from onestore.kernel.clock import FrozenClock
from onestore.settings import Settings
from onestore.web.login import LOGIN_CSRF_COOKIE, safe_next

from .pages import hidden_fields, sign_in


def test_root_redirects_to_backoffice(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/backoffice"


def test_anonymous_page_request_redirects_to_login_with_next(client: TestClient) -> None:
    response = client.get("/backoffice", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/backoffice"

    response = client.get("/backoffice/products?q=linen shirt&page=2", follow_redirects=False)
    assert response.status_code == 303
    # The whole target survives as one parameter, query string included.
    assert response.headers["location"] == (
        "/login?next=/backoffice/products%3Fq%3Dlinen%2520shirt%26page%3D2"
    )


def test_anonymous_api_request_still_gets_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_login_page_has_csrf_cookie_and_field(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    token = hidden_fields(page.text)["csrf_token"]
    assert client.cookies.get(LOGIN_CSRF_COOKIE) == token
    cookie_header = page.headers["set-cookie"].lower()
    assert "httponly" in cookie_header and "samesite=strict" in cookie_header
    assert 'for="username"' in page.text and 'for="password"' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_login_success_sets_session_cookie_and_goes_to_next(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("mia", Role.MERCHANDISER)
    response = sign_in(client, "mia", next_path="/backoffice/products?q=linen")
    assert response.status_code == 303
    assert response.headers["location"] == "/backoffice/products?q=linen"
    set_cookie = [v.lower() for v in response.headers.get_list("set-cookie")]
    session = next(v for v in set_cookie if v.startswith(SESSION_COOKIE))
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert "secure" not in session  # settings.secure_cookies is off in tests
    assert client.cookies.get(LOGIN_CSRF_COOKIE) is None  # the one-off token is dropped

    home = client.get("/backoffice")
    assert home.status_code == 200
    assert "Mia" in home.text
    assert "Sign out" in home.text


def test_cookies_are_secure_when_configured(
    app: FastAPI, make_user: Callable[..., str], settings: Settings
) -> None:
    settings.secure_cookies = True
    make_user("mia", Role.MERCHANDISER)
    with TestClient(app, base_url="https://testserver") as https_client:
        form = https_client.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()
        response = sign_in(https_client, "mia")
    assert response.status_code == 303
    session = next(
        v for v in response.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE)
    )
    assert "secure" in session.lower()


def test_wrong_password_shows_the_form_again(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("mia", Role.MERCHANDISER)
    response = sign_in(client, "mia", password="wrong horse battery")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert 'value="mia"' in response.text  # the username is kept
    assert client.cookies.get(SESSION_COOKIE) is None
    assert client.get("/backoffice", follow_redirects=False).status_code == 303

    unknown = sign_in(client, "nobody")
    assert unknown.status_code == 401
    assert "Wrong username or password." in unknown.text


def test_ten_failures_lock_the_account_for_thirty_minutes(
    client: TestClient, make_user: Callable[..., str], clock: FrozenClock
) -> None:
    make_user("mia", Role.MERCHANDISER)
    for _ in range(10):
        assert sign_in(client, "mia", password="not the password").status_code == 401

    locked = sign_in(client, "mia")  # the right password no longer helps
    assert locked.status_code == 429
    assert "locked" in locked.text and "try again in 30 minutes" in locked.text
    assert locked.headers["retry-after"] == "1801"
    assert client.cookies.get(SESSION_COOKIE) is None

    clock.advance(timedelta(minutes=29))
    still = sign_in(client, "mia")
    assert still.status_code == 429
    assert "try again in 1 minute." in still.text

    clock.advance(timedelta(minutes=1))
    unlocked = sign_in(client, "mia")
    assert unlocked.status_code == 303
    assert client.get("/backoffice").status_code == 200


def test_nine_failures_do_not_lock(client: TestClient, make_user: Callable[..., str]) -> None:
    make_user("mia", Role.MERCHANDISER)
    for _ in range(9):
        assert sign_in(client, "mia", password="not the password").status_code == 401
    assert sign_in(client, "mia").status_code == 303


def test_session_ends_after_fifteen_idle_minutes(signed_in: TestClient, clock: FrozenClock) -> None:
    # Activity keeps the session alive: each request restarts the idle clock.
    for _ in range(3):
        clock.advance(timedelta(minutes=14, seconds=59))
        assert signed_in.get("/backoffice").status_code == 200

    clock.advance(timedelta(minutes=15, seconds=1))
    response = signed_in.get("/backoffice", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/backoffice"
    # Coming back does not revive it.
    clock.advance(timedelta(seconds=1))
    assert signed_in.get("/backoffice", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_on_the_server(signed_in: TestClient) -> None:
    home = signed_in.get("/backoffice")
    token = hidden_fields(home.text)["csrf_token"]
    stolen = signed_in.cookies.get(SESSION_COOKIE)
    assert stolen

    response = signed_in.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert signed_in.cookies.get(SESSION_COOKIE) is None

    # Replaying the old cookie value (a copy kept elsewhere) must not work either.
    signed_in.cookies.set(SESSION_COOKIE, stolen)
    again = signed_in.get("/backoffice", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


def test_logout_without_the_session_csrf_token_is_refused(signed_in: TestClient) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        response = signed_in.post("/logout", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "still signed in" in response.text
    assert signed_in.get("/backoffice").status_code == 200


def test_login_without_matching_csrf_token_is_refused(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("mia", Role.MERCHANDISER)
    form = {"username": "mia", "password": "correct horse battery", "next": ""}

    # A cross-site form post: no token cookie, no field.
    cross_site = client.post("/login", data=form, follow_redirects=False)
    assert cross_site.status_code == 403
    assert "did not come from this site" in cross_site.text

    # Cookie present but the field is a guess.
    client.get("/login")
    guessed = client.post("/login", data={**form, "csrf_token": "x" * 43}, follow_redirects=False)
    assert guessed.status_code == 403

    # Field copied from somewhere, but this browser's cookie differs.
    token = hidden_fields(client.get("/login").text)["csrf_token"]
    client.cookies.set(LOGIN_CSRF_COOKIE, "y" * 43, path="/login")
    mismatched = client.post("/login", data={**form, "csrf_token": token}, follow_redirects=False)
    assert mismatched.status_code == 403
    assert client.cookies.get(SESSION_COOKIE) is None


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "backoffice",
        "",
    ],
)
def test_next_outside_the_site_is_ignored(
    client: TestClient, make_user: Callable[..., str], target: str
) -> None:
    make_user("mia", Role.MERCHANDISER)
    response = sign_in(client, "mia", next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/backoffice"


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/backoffice/products?q=a%20b&page=2") == "/backoffice/products?q=a%20b&page=2"
    assert (
        safe_next("/backoffice/products/ABC-1#variant-1") == "/backoffice/products/ABC-1#variant-1"
    )
    assert safe_next("/x" * 2000) == "/backoffice"


def test_signed_in_user_visiting_login_goes_on(signed_in: TestClient) -> None:
    response = signed_in.get("/login?next=/backoffice/products", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/backoffice/products"


def test_anonymous_redirect_round_trip(client: TestClient, make_user: Callable[..., str]) -> None:
    """The ``next`` the error handler writes is the one the form sends back after sign-in."""
    make_user("mia", Role.MERCHANDISER)
    bounce = client.get("/backoffice/products?q=linen shirt&page=2", follow_redirects=False)
    login_page = client.get(bounce.headers["location"])
    next_path = hidden_fields(login_page.text)["next"]
    assert next_path == "/backoffice/products?q=linen%20shirt&page=2"
    response = sign_in(client, "mia", next_path=next_path)
    assert response.headers["location"] == next_path
