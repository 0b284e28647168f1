"""The auth API end to end: sign-in with lockout over HTTP, /me, token revocation, and
creating staff users (concurrent same username, unknown location, repeated grants)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from onestore.db.database import Database
from onestore.kernel.clock import FrozenClock

PROBLEM = "urn:onestore:problem:"
PASSWORD = "correct horse battery"


def _staff(username: str, **grant: Any) -> dict[str, Any]:
    return {
        "username": username,
        "display_name": username.title(),
        "password": PASSWORD,
        "grants": [{"role": "cashier", **grant}],
    }


def test_sign_in_returns_a_working_token_and_me_describes_the_caller(
    client: TestClient, make_staff: Callable[..., Any]
) -> None:
    make_staff("store_manager")  # username store_manager1
    signed_in = client.post(
        "/api/v1/auth/tokens", json={"username": "store_manager1", "password": PASSWORD}
    )
    assert signed_in.status_code == 201, signed_in.text
    token = signed_in.json()["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    body = me.json()
    assert body["kind"] == "staff" and body["grants"] == [
        {"role": "store_manager", "location_id": None}
    ]
    assert "users.read" in body["permissions"] and "users.manage" not in body["permissions"]


def test_wrong_password_ten_times_locks_with_429_and_retry_after(
    client: TestClient, make_staff: Callable[..., Any], clock: FrozenClock
) -> None:
    make_staff("cashier")
    wrong = {"username": "cashier1", "password": "not the password"}
    for _ in range(10):
        response = client.post("/api/v1/auth/tokens", json=wrong)
        assert response.status_code == 401
        assert response.json()["type"] == PROBLEM + "not-authenticated"
    right = {"username": "cashier1", "password": PASSWORD}
    locked = client.post("/api/v1/auth/tokens", json=right)
    assert locked.status_code == 429
    assert 1700 < int(locked.headers["Retry-After"]) <= 1801
    clock.advance(timedelta(minutes=30))
    assert client.post("/api/v1/auth/tokens", json=right).status_code == 201


def test_unknown_user_and_wrong_password_look_the_same(
    client: TestClient, make_staff: Callable[..., Any]
) -> None:
    make_staff("cashier")
    unknown = client.post("/api/v1/auth/tokens", json={"username": "ghost", "password": "x"})
    wrong = client.post("/api/v1/auth/tokens", json={"username": "cashier1", "password": "x"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]


def test_revoked_token_stops_working(client: TestClient, make_staff: Callable[..., Any]) -> None:
    _, headers = make_staff("cashier")
    token_id = client.post(
        "/api/v1/auth/tokens", json={"username": "cashier1", "password": PASSWORD}
    ).json()["id"]
    # The fixture's token revokes the token made by signing in: both belong to cashier1.
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=headers).status_code == 404
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    own = headers["Authorization"].split()[1]
    with_own = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {own}"})
    assert with_own.status_code == 200


def test_malformed_authorization_headers_are_401(client: TestClient) -> None:
    for value in ("Basic dXNlcjpwdw==", "Bearer", "Bearer ", "ost_abc", "Bearer ost_nope"):
        response = client.get("/api/v1/auth/me", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_concurrent_creation_of_one_username_gives_one_user_and_no_500(
    app: FastAPI, admin_headers: dict[str, str], db: Database
) -> None:
    start = threading.Barrier(8)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = TestClient(app, raise_server_exceptions=False)
        start.wait()
        response = client.post(
            "/api/v1/staff",
            json=_staff("samename"),
            headers={**admin_headers, "Idempotency-Key": f"distinct-{n}"},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == [201] + [409] * 7


def test_grant_at_an_unknown_location_is_422_naming_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/staff",
        json=_staff("bob", location_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        headers={**admin_headers, "Idempotency-Key": "loc"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "grants.0.location_id"


def test_a_repeated_grant_is_stored_once(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = _staff("bob")
    body["grants"] = [{"role": "cashier"}, {"role": "cashier"}, {"role": "finance"}]
    response = client.post(
        "/api/v1/staff", json=body, headers={**admin_headers, "Idempotency-Key": "dup"}
    )
    assert response.status_code == 201, response.text
    assert sorted(g["role"] for g in response.json()["grants"]) == ["cashier", "finance"]
