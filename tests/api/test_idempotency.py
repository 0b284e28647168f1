"""Idempotency keys on a real route, POST /api/v1/staff (plan §4.B, R5–R10).

One execution per key and caller; a replay is byte-identical and says so; a different body
under the same key is refused; errors are stored and replayed; a crash frees the key; keys are
kept 24 h and then run anew. The concurrency test is also run against a deliberately naive
claim (check, then insert) to show it catches the race.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from starlette.requests import Request

from onestore.api.idempotency import run_idempotent
from onestore.auth.model import Principal, PrincipalKind
from onestore.auth.tables import staff_users
from onestore.db import idempotency
from onestore.db.database import Database
from onestore.db.tables import idempotency_keys
from onestore.kernel.clock import FrozenClock
from onestore.kernel.errors import (
    Conflict,
    IdempotencyInFlight,
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
)

from .conftest import PROBLEM_JSON, STAFF_URL, row_counts, staff_body

PROBLEM = "urn:onestore:problem:"


def _users(db: Database, username: str | None = None) -> int:
    query = select(func.count()).select_from(staff_users)
    if username is not None:
        query = query.where(staff_users.c.username == username)
    with db.uow(readonly=True) as uow:
        return int(uow.conn.execute(query).scalar_one())


def _post(client: TestClient, headers: dict[str, str], key: str | bytes | None, body: Any):
    sent = dict(headers)
    if key is not None:
        sent["Idempotency-Key"] = key  # type: ignore[assignment]
    return client.post(STAFF_URL, json=body, headers=sent)


# -- R5 sequential replay ---------------------------------------------------------------------
def test_replays_are_byte_identical_and_marked(
    client: TestClient, admin_headers: dict[str, str], db: Database
) -> None:
    first = _post(client, admin_headers, "K-1", staff_body("bob"))
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert first.json()["username"] == "bob"
    for _ in range(10):
        again = _post(client, admin_headers, "K-1", staff_body("bob"))
        assert again.status_code == 201
        assert again.content == first.content
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["content-type"] == first.headers["content-type"]
    assert _users(db, "bob") == 1


def test_key_order_and_spacing_of_the_body_do_not_matter(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = staff_body("bob")
    first = _post(client, admin_headers, "K-order", body)
    reordered = dict(reversed(list(body.items())))
    again = _post(client, admin_headers, "K-order", reordered)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content


# -- R6 concurrent same key -------------------------------------------------------------------
def _race(app: FastAPI, headers: dict[str, str], key: str, body: Any, n: int = 20) -> list[Any]:
    start = threading.Barrier(n)
    responses: list[Any] = []
    lock = threading.Lock()

    def worker() -> None:
        client = TestClient(app, raise_server_exceptions=False)
        start.wait()
        response = _post(client, headers, key, body)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(responses) == n
    return responses


def _check_one_execution(responses: list[Any], db: Database, username: str) -> None:
    executed = [
        r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    ]
    assert len(executed) == 1, [(r.status_code, r.text[:80]) for r in responses]
    for r in responses:
        if r is executed[0]:
            continue
        if r.status_code == 201:
            assert r.headers["Idempotent-Replayed"] == "true"
            assert r.content == executed[0].content
        else:
            assert r.status_code == 409, r.text
            assert r.json()["type"] == PROBLEM + "idempotency-in-flight", r.text
    assert _users(db, username) == 1


def test_concurrent_requests_with_one_key_execute_once(
    app: FastAPI, admin_headers: dict[str, str], db: Database
) -> None:
    responses = _race(app, admin_headers, "K-race", staff_body("racer"))
    _check_one_execution(responses, db, "racer")
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(500) == 0


def _naive_claim(
    db: Database, scope: str, key: str, digest: str
) -> idempotency.Claim | idempotency.StoredResponse:
    """The classic bug: look for the key, and if it is not there, take it — in two steps."""
    idempotency.validate_key(key)
    with db.uow(readonly=True) as uow:
        row = uow.conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        ).first()
    if row is not None:
        if row.state == idempotency.COMPLETED:
            return idempotency.StoredResponse(row.response_status, row.response_body)
        raise IdempotencyInFlight("in flight")
    dialect_insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    now = db.clock.now()
    with db.uow() as uow:
        uow.conn.execute(
            dialect_insert(idempotency_keys)
            .values(
                scope=scope,
                key=key,
                request_hash=digest,
                state=idempotency.IN_FLIGHT,
                created_at=now,
                locked_until=now + idempotency.LEASE,
            )
            .on_conflict_do_nothing()
        )
        uow.commit()
    return idempotency.Claim(scope, key)


def test_the_race_check_catches_a_naive_claim(
    app: FastAPI, admin_headers: dict[str, str], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: with check-then-insert the same race executes more than once."""
    monkeypatch.setattr(idempotency, "claim", _naive_claim)
    caught = 0
    for attempt in range(5):  # a race may, rarely, not happen in one round; it will in five
        responses = _race(app, admin_headers, f"K-naive-{attempt}", staff_body(f"naive{attempt}"))
        try:
            _check_one_execution(responses, db, f"naive{attempt}")
        except AssertionError:
            caught += 1
            break
    assert caught == 1, "the concurrency check did not notice a naive idempotency claim"


# -- R7 same key, different body --------------------------------------------------------------
def test_same_key_with_another_body_is_422_and_changes_nothing(
    client: TestClient, admin_headers: dict[str, str], db: Database
) -> None:
    assert _post(client, admin_headers, "K-7", staff_body("bob")).status_code == 201
    before = row_counts(db)
    other = _post(client, admin_headers, "K-7", staff_body("carol"))
    assert other.status_code == 422
    assert other.headers["content-type"].startswith(PROBLEM_JSON)
    assert other.json()["type"] == PROBLEM + "idempotency-key-reused"
    assert row_counts(db) == before
    assert _users(db, "carol") == 0


# -- R8 missing or invalid key ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "slug"),
    [
        (None, "idempotency-key-missing"),
        ("", "idempotency-key-invalid"),
        ("k" * 256, "idempotency-key-invalid"),
        ("abc\x01def", "idempotency-key-invalid"),
        ("abc\tdef", "idempotency-key-invalid"),
        ("abc\x7f", "idempotency-key-invalid"),
        ("ключ".encode(), "idempotency-key-invalid"),
    ],
)
def test_missing_or_invalid_key_is_400_and_changes_nothing(
    client: TestClient, admin_headers: dict[str, str], db: Database, key: Any, slug: str
) -> None:
    before = row_counts(db)
    response = _post(client, admin_headers, key, staff_body("bob"))
    assert response.status_code == 400, response.text
    assert response.json()["type"] == PROBLEM + slug
    assert row_counts(db) == before


@pytest.mark.parametrize("key", ["k", "k" * 255, "a b", "~!@#$%^&*()_+{}|:<>?", "550e8400-e29b"])
def test_keys_of_1_to_255_printable_characters_are_accepted(
    client: TestClient, admin_headers: dict[str, str], key: str
) -> None:
    assert _post(client, admin_headers, key, staff_body("bob")).status_code == 201


def test_validate_key_directly() -> None:
    assert idempotency.validate_key("k" * 255) == "k" * 255
    for bad in ("", "k" * 256, "a\nb", "a\x00b", "é"):
        with pytest.raises(IdempotencyKeyInvalid):
            idempotency.validate_key(bad)


# -- R9 scoping -------------------------------------------------------------------------------
def test_two_callers_with_one_key_get_independent_results(
    client: TestClient, make_staff: Callable[..., Any], db: Database
) -> None:
    _, alice = make_staff("admin")
    _, bob = make_staff("admin")
    first = _post(client, alice, "shared-key", staff_body("fromalice"))
    second = _post(client, bob, "shared-key", staff_body("frombob"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["username"] == "frombob"
    # Even with the very same body, the second caller never receives the first one's result.
    third = _post(client, bob, "another-shared", staff_body("fromalice"))
    _post(client, alice, "another-shared", staff_body("fromalice"))
    assert third.status_code == 409 and "Idempotent-Replayed" not in third.headers
    assert _users(db, "fromalice") == 1 and _users(db, "frombob") == 1


# -- R10 retention ----------------------------------------------------------------------------
def test_keys_replay_for_24_hours_then_run_anew_after_purge(
    client: TestClient, admin_headers: dict[str, str], db: Database, clock: FrozenClock
) -> None:
    first = _post(client, admin_headers, "K-10", staff_body("bob"))
    assert first.status_code == 201
    clock.advance(timedelta(hours=23, minutes=59))
    assert idempotency.purge(db, timedelta(hours=24)) == 0
    again = _post(client, admin_headers, "K-10", staff_body("bob"))
    assert again.headers.get("Idempotent-Replayed") == "true" and again.content == first.content
    clock.advance(timedelta(minutes=1))  # exactly 24 h old: may now be pruned
    assert idempotency.purge(db, timedelta(hours=24)) == 1
    fresh = _post(client, admin_headers, "K-10", staff_body("carol"))  # not 422: the key is new
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert _users(db, "bob") == 1 and _users(db, "carol") == 1


def test_purge_refuses_a_retention_under_24_hours(db: Database) -> None:
    with pytest.raises(ValueError, match="24"):
        idempotency.purge(db, timedelta(hours=23, minutes=59))


# -- stored errors, crashes, abandoned claims -------------------------------------------------
def test_an_error_result_is_stored_and_replayed(
    client: TestClient, admin_headers: dict[str, str], db: Database
) -> None:
    assert _post(client, admin_headers, "K-a", staff_body("bob")).status_code == 201
    clash = _post(client, admin_headers, "K-b", staff_body("bob"))
    assert clash.status_code == 409
    assert clash.json()["type"] == PROBLEM + "conflict"
    assert "Idempotent-Replayed" not in clash.headers
    replay = _post(client, admin_headers, "K-b", staff_body("bob"))
    assert replay.status_code == 409
    assert replay.content == clash.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["content-type"].startswith(PROBLEM_JSON)
    assert _users(db, "bob") == 1


def _request(key: str | None) -> Request:
    headers = [(b"idempotency-key", key.encode())] if key is not None else []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/test/crash",
        "raw_path": b"/test/crash",
        "query_string": b"",
        "headers": headers,
        "scheme": "http",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }
    return Request(scope)


CALLER = Principal(PrincipalKind.STAFF, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "Tester")


def test_a_crash_inside_the_action_releases_the_key(db: Database) -> None:
    calls: list[str] = []

    def crashing(uow: Any) -> tuple[int, Any]:
        calls.append("crash")
        raise RuntimeError("worker died mid-request")

    def working(uow: Any) -> tuple[int, Any]:
        calls.append("work")
        return 201, {"ok": True}

    with pytest.raises(RuntimeError):
        run_idempotent(_request("K-crash"), db, CALLER, {"x": 1}, crashing)
    with db.uow(readonly=True) as uow:
        assert uow.conn.execute(select(func.count()).select_from(idempotency_keys)).scalar() == 0
    response = run_idempotent(_request("K-crash"), db, CALLER, {"x": 1}, working)
    assert (response.status_code, response.body) == (201, b'{"ok":true}')
    replay = run_idempotent(_request("K-crash"), db, CALLER, {"x": 1}, working)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.body == response.body
    assert calls == ["crash", "work"]


def test_an_expected_error_inside_the_action_is_stored(db: Database) -> None:
    def refusing(uow: Any) -> tuple[int, Any]:
        raise Conflict("no")

    with pytest.raises(Conflict):
        run_idempotent(_request("K-err"), db, CALLER, {"x": 1}, refusing)
    replay = run_idempotent(_request("K-err"), db, CALLER, {"x": 1}, refusing)
    assert replay.status_code == 409 and replay.headers["Idempotent-Replayed"] == "true"


def test_missing_key_is_refused_before_anything_runs(db: Database) -> None:
    with pytest.raises(IdempotencyKeyMissing):
        run_idempotent(_request(None), db, CALLER, {}, lambda uow: (200, {}))


def test_an_abandoned_claim_is_taken_over_after_its_lease(db: Database, clock: FrozenClock) -> None:
    """A worker that died without releasing holds the key only until the lease ends."""
    digest = idempotency.request_hash({"x": 1})
    assert isinstance(idempotency.claim(db, "s", "K-lease", digest), idempotency.Claim)
    with pytest.raises(IdempotencyInFlight):
        idempotency.claim(db, "s", "K-lease", digest)
    clock.advance(idempotency.LEASE + timedelta(seconds=1))
    assert isinstance(idempotency.claim(db, "s", "K-lease", digest), idempotency.Claim)
    with pytest.raises(IdempotencyInFlight):  # and the new holder is protected in turn
        idempotency.claim(db, "s", "K-lease", digest)
