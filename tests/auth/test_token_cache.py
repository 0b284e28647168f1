"""A worker remembers whom a bearer token belongs to for a few seconds: a revocation through
the same worker applies at once, one made elsewhere within the TTL, and a token's own expiry is
never stretched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from onestore.auth import service as auth_service
from onestore.auth import token_cache
from onestore.auth.model import Principal, PrincipalKind
from onestore.auth.tables import api_tokens
from onestore.auth.token_cache import PrincipalCache
from onestore.db.database import Database
from onestore.kernel.clock import FrozenClock

PASSWORD = "correct horse battery"
ME = "/api/v1/auth/me"


def _who(n: int) -> Principal:
    return Principal(PrincipalKind.CUSTOMER, f"c{n}", f"c{n}@example.com")


def test_an_entry_lives_for_its_ttl_or_until_the_token_expires() -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    cache = PrincipalCache(5, clock.now)
    cache.put("tok-a", _who(1), None, cache.generation)
    cache.put("tok-b", _who(2), clock.now() + timedelta(seconds=2), cache.generation)
    assert cache.get("tok-a") == _who(1) and cache.get("tok-b") == _who(2)
    clock.advance(timedelta(seconds=2))
    assert cache.get("tok-a") == _who(1)
    assert cache.get("tok-b") is None  # the token expired: its TTL does not stretch that
    clock.advance(timedelta(seconds=3))
    assert cache.get("tok-a") is None
    assert cache.get("never-seen") is None


def test_forget_all_and_a_zero_ttl_mean_every_request_asks_the_database() -> None:
    clock = FrozenClock()
    cache = PrincipalCache(5, clock.now)
    cache.put("tok", _who(1), None, cache.generation)
    cache.forget_all()
    assert cache.get("tok") is None
    off = PrincipalCache(0, clock.now)
    off.put("tok", _who(1), None, off.generation)
    assert not off.enabled and off.get("tok") is None


def test_the_memory_is_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(token_cache, "MAX_ENTRIES", 3)
    clock = FrozenClock()
    cache = PrincipalCache(5, clock.now)
    for n in range(3):
        cache.put(f"tok-{n}", _who(n), None, cache.generation)
    clock.advance(timedelta(seconds=6))  # all three are stale now
    cache.put("tok-new", _who(9), None, cache.generation)
    assert cache.get("tok-new") == _who(9)
    assert len(cache._entries) == 1  # the stale ones were dropped to make room


def _sign_in(client: TestClient) -> tuple[str, dict[str, str]]:
    answer = client.post("/api/v1/auth/tokens", json={"username": "cashier1", "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}


def test_a_token_revoked_through_this_worker_stops_at_once(
    client: TestClient, make_staff: Callable[..., Any]
) -> None:
    _, other = make_staff("cashier")
    token_id, headers = _sign_in(client)
    assert client.get(ME, headers=headers).status_code == 200  # now remembered
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=other).status_code == 204
    assert client.get(ME, headers=headers).status_code == 401


def test_a_token_revoked_elsewhere_stops_within_the_ttl(
    client: TestClient, db: Database, clock: FrozenClock, make_staff: Callable[..., Any]
) -> None:
    """Another worker (or the CLI) revoking: this worker's memory answers until its entry
    lapses — ``ONESTORE_AUTH_CACHE_SECONDS`` (5 s) — then the database says no."""
    make_staff("cashier")
    token_id, headers = _sign_in(client)
    assert client.get(ME, headers=headers).status_code == 200
    with db.uow() as uow:
        uow.conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=uow.now())
        )
        uow.commit()
    assert client.get(ME, headers=headers).status_code == 200
    clock.advance(timedelta(seconds=db.settings.auth_cache_seconds + 0.5))
    assert client.get(ME, headers=headers).status_code == 401


def test_an_expiring_token_is_refused_the_moment_it_expires(
    client: TestClient, db: Database, clock: FrozenClock, make_staff: Callable[..., Any]
) -> None:
    user_id, _ = make_staff("cashier")
    with db.uow() as uow:
        issued = auth_service.issue_token(
            uow, PrincipalKind.STAFF, user_id, "short", expires_at=uow.now() + timedelta(seconds=2)
        )
        uow.commit()
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get(ME, headers=headers).status_code == 200
    clock.advance(timedelta(seconds=2))
    assert client.get(ME, headers=headers).status_code == 401


def test_a_look_up_that_began_before_a_revocation_is_not_remembered() -> None:
    """Found by review: a look-up racing a revocation stored its (stale) answer after the
    memory was cleared, and the revoked token worked on that worker for another TTL."""
    clock = FrozenClock()
    cache = PrincipalCache(5, clock.now)
    before = cache.generation
    cache.forget_all()  # the revocation lands while the look-up is in the database
    cache.put("tok", _who(1), None, before)
    assert cache.get("tok") is None
    cache.put("tok", _who(1), None, cache.generation)
    assert cache.get("tok") == _who(1)
