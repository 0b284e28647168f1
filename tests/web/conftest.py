"""Fixtures for page tests: staff users and a client signed in through the real form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from onestore.auth import service as auth_service
from onestore.auth.model import Grant, Role
from onestore.db.database import Database

from .pages import PASSWORD, sign_in


@pytest.fixture
def make_user(db: Database) -> Callable[..., str]:
    """``make_user(username, *roles) -> user_id``; no roles gives a staff user without access."""

    def _make(username: str, *roles: Role) -> str:
        with db.uow() as uow:
            user_id = auth_service.create_staff_user(
                uow,
                username=username,
                display_name=username.title(),
                password=PASSWORD,
                grants=[Grant(role, None) for role in roles],
            )
            uow.commit()
        return user_id

    return _make


@pytest.fixture
def signed_in(client: TestClient, make_user: Callable[..., str]) -> TestClient:
    """The client with a live back-office session for merchandiser ``mia``."""
    make_user("mia", Role.MERCHANDISER)
    response = sign_in(client, "mia")
    assert response.status_code == 303, response.text
    return client
