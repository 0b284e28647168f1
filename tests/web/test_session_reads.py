"""Signed-in page views are reads: they keep working while another transaction writes, and the
session cookie never authenticates the JSON API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from onestore.auth.model import Role
from onestore.db.database import Database

from .pages import sign_in


def test_pages_and_health_answer_while_sqlite_is_held_by_a_writer(
    db: Database, client: TestClient, make_user: Callable[..., str], backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's single writer lock is what this is about")
    make_user("reader", Role.CASHIER)
    assert sign_in(client, "reader").status_code == 303
    assert client.get("/backoffice").status_code == 200  # session touched just now
    writer = db.engine.connect().execution_options(onestore_sqlite_begin="IMMEDIATE")
    try:
        writer.begin()  # BEGIN IMMEDIATE: the write lock an import or a sale holds
        writer.execute(text("UPDATE auth_staff_users SET display_name = display_name"))
        assert client.get("/health").status_code == 200
        assert client.get("/backoffice/products").status_code == 200
    finally:
        writer.rollback()
        writer.close()


def test_the_session_cookie_does_not_authenticate_the_api(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("cookie", Role.ADMIN)
    assert sign_in(client, "cookie").status_code == 303
    assert client.get("/backoffice").status_code == 200
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
