"""Helpers for page tests: sign in through the real form, read hidden fields out of the HTML."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from httpx import Response

PASSWORD = "correct horse battery"
_HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[a-z_]+)" value="(?P<value>[^"]*)">')


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page (CSRF tokens, ``next``), by name."""
    return {m.group("name"): html.unescape(m.group("value")) for m in _HIDDEN.finditer(page)}


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = ""
) -> Response:
    """Open the sign-in form (which sets the CSRF cookie) and post it, without following."""
    page = client.get("/login", params={"next": next_path} if next_path else None)
    assert page.status_code == 200, page.text
    token = hidden_fields(page.text)["csrf_token"]
    return client.post(
        "/login",
        data={"username": username, "password": password, "next": next_path, "csrf_token": token},
        follow_redirects=False,
    )
