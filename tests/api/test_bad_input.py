"""Hostile and malformed input (plan §4.G) against POST /api/v1/staff and /api/v1/auth/tokens.

Every case must be a 4xx ``application/problem+json`` with ``type``, ``title``, ``status`` and
``detail`` (validation failures also name the field in ``errors``), never a 5xx, and must leave
every table exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onestore.db.database import Database

from .conftest import PROBLEM_JSON, STAFF_URL, row_counts, staff_body

TOKENS_URL = "/api/v1/auth/tokens"
JSON = {"content-type": "application/json"}
MiB = 1024 * 1024


def _problem(response: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    if slug is not None:
        assert body["type"] == f"urn:onestore:problem:{slug}", body
    return body


@pytest.fixture
def send(client: TestClient, admin_headers: dict[str, str], db: Database) -> Iterator[Any]:
    """``send(url, content, headers)``: post raw bytes as the admin, and check nothing changed."""
    before = row_counts(db)
    keys = iter(range(1_000_000))

    def _send(url: str, content: Any, headers: dict[str, str] | None = None) -> Any:
        sent = {**admin_headers, "Idempotency-Key": f"bad-input-{next(keys)}", **(headers or {})}
        return client.post(url, content=content, headers=sent)

    yield _send
    assert row_counts(db) == before


TARGETS = [STAFF_URL, TOKENS_URL]

MALFORMED = {
    "truncated": b'{"username": "bob", "password": ',
    "not json": b"username=bob&password=x",
    "trailing garbage": b'{"username": "bob"} trailing',
    "single quotes": b"{'username': 'bob'}",
    "NaN": b'{"username": "bob", "password": NaN}',
    "Infinity": b'{"username": "bob", "password": Infinity}',
    "-Infinity": b'{"username": "bob", "password": -Infinity}',
    "duplicate keys": b'{"username": "bob", "username": "admin", "password": "x"}',
    "nested duplicate": b'{"grants": [{"role": "cashier", "role": "admin"}]}',
    "array depth 10000": b"[" * 10_000 + b"]" * 10_000,
    "object depth 10000": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "depth 33": b'{"username": ' + b"[" * 33 + b"]" * 33 + b"}",
    "invalid utf-8": b'{"username": "\xff\xfe", "password": "x"}',
    "integer of 5000 digits": b'{"username": "bob", "password": ' + b"9" * 5000 + b"}",
    "lone surrogate escape is fine but bad escape is not": b'{"username": "\\x41"}',
}


@pytest.mark.parametrize("url", TARGETS)
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_json_is_400(send: Any, url: str, case: str) -> None:
    _problem(send(url, MALFORMED[case], JSON), 400, "malformed-request")


@pytest.mark.parametrize("url", TARGETS)
def test_body_over_one_mebibyte_is_413(send: Any, url: str) -> None:
    padding = b" " * (MiB + 1 - len(b'{"username": "bob"}'))
    body = b'{"username": "bob"}' + padding
    assert len(body) == MiB + 1
    _problem(send(url, body, JSON), 413, "payload-too-large")


@pytest.mark.parametrize("url", TARGETS)
def test_body_of_exactly_one_mebibyte_is_not_refused_for_its_size(send: Any, url: str) -> None:
    body = b"{}" + b" " * (MiB - 2)
    assert send(url, body, JSON).status_code == 422  # read in full, then refused as invalid


@pytest.mark.parametrize("url", TARGETS)
def test_streamed_body_without_length_over_the_limit_is_413(send: Any, url: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(1025):
            yield b"a" * 1024
        yield b'"}'

    _problem(send(url, chunks(), JSON), 413, "payload-too-large")


@pytest.mark.parametrize("url", TARGETS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_wrong_content_type_is_refused(send: Any, url: str, content_type: str | None) -> None:
    body = b'{"username": "bob", "display_name": "Bob", "password": "correct horse battery"}'
    headers = {"content-type": content_type} if content_type else {}
    response = send(url, body, headers)
    assert response.status_code in (400, 415, 422)
    _problem(response, response.status_code)


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (STAFF_URL, staff_body(role="admin", is_superuser=True), "is_superuser"),
        (STAFF_URL, staff_body(id="01ARZ3NDEKTSV4RRFFQ69G5FAV"), "id"),
        (STAFF_URL, staff_body(password_hash="$argon2id$..."), "password_hash"),
        (
            STAFF_URL,
            {**staff_body(), "grants": [{"role": "cashier", "store_id": "S1"}]},
            "grants.0.store_id",
        ),
        (TOKENS_URL, {"username": "bob", "password": "x", "role": "admin"}, "role"),
        (TOKENS_URL, {"username": "bob", "password": "x", "expires_at": None}, "expires_at"),
    ],
)
def test_unknown_fields_are_422_naming_the_field(
    send: Any, url: str, body: dict[str, Any], field: str
) -> None:
    import json

    problem = _problem(send(url, json.dumps(body), JSON), 422, "validation-failed")
    assert {"field": field, "reason": "unknown field"} in problem["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in staff_body().items() if k != "password"}, "password"),
        (staff_body(password="short"), "password"),
        (staff_body(password=12345678901), "password"),
        ({**staff_body(), "username": None}, "username"),
        ({**staff_body(), "username": ""}, "username"),
        ({**staff_body(), "username": "x" * 65}, "username"),
        ({**staff_body(), "username": ["bob"]}, "username"),
        ({**staff_body(), "grants": []}, "grants"),
        ({**staff_body(), "grants": [{"role": "superuser"}]}, "grants.0.role"),
        ({**staff_body(), "grants": [{"role": "cashier"}] * 51}, "grants"),
        ({**staff_body(), "grants": "cashier"}, "grants"),
    ],
)
def test_invalid_staff_fields_are_422_naming_the_field(
    send: Any, body: dict[str, Any], field: str
) -> None:
    import json

    problem = _problem(send(STAFF_URL, json.dumps(body), JSON), 422, "validation-failed")
    assert field in {e["field"] for e in problem["errors"]}, problem["errors"]
    assert problem["detail"].startswith(problem["errors"][0]["field"])


@pytest.mark.parametrize("url", TARGETS)
@pytest.mark.parametrize("content", [b"", b"null", b"[]", b'"text"', b"12", b"true"])
def test_body_that_is_not_an_object_is_422(send: Any, url: str, content: bytes) -> None:
    _problem(send(url, content, JSON), 422, "validation-failed")


def test_unknown_route_is_404_problem(client: TestClient) -> None:
    for path in ("/api/v1/nope", "/api/v1/staff/extra/segments", "/nothing-here"):
        response = client.get(path)
        if path.startswith("/api/"):
            _problem(response, 404, "not-found")
        else:
            assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "url"), [("PUT", STAFF_URL), ("DELETE", STAFF_URL), ("GET", TOKENS_URL)]
)
def test_wrong_method_is_405_problem(
    client: TestClient, admin_headers: dict[str, str], db: Database, method: str, url: str
) -> None:
    before = row_counts(db)
    response = client.request(method, url, headers=admin_headers)
    _problem(response, 405, "method-not-allowed")
    # Starlette lists only the first matching route's methods in Allow (GET for /staff), so
    # we check that the header is there, not that it is complete.
    assert response.headers.get("allow")
    assert row_counts(db) == before


def test_malformed_login_does_not_count_as_a_failed_login(
    client: TestClient, make_staff: Any
) -> None:
    """A body we cannot parse never reaches the password check, so it cannot lock anyone."""
    make_staff("cashier")
    for _ in range(12):
        client.post(TOKENS_URL, content=b'{"username": "cashier1", "password": NaN}', headers=JSON)
    ok = client.post(TOKENS_URL, json={"username": "cashier1", "password": "correct horse battery"})
    assert ok.status_code == 201


# -- NUL characters (PostgreSQL text cannot hold them: they must be a 4xx, not a 500) -------------
def test_nul_in_a_json_string_is_refused_naming_the_field(client, admin_headers) -> None:
    body = {
        "username": "nul\u0000user",
        "display_name": "x",
        "password": "correct horse battery",
        "grants": [{"role": "cashier"}],
    }
    response = client.post(
        "/api/v1/staff", json=body, headers=admin_headers | {"Idempotency-Key": "nul-1"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "username"


def test_nul_in_the_path_or_query_is_refused(client, admin_headers) -> None:
    for url, field in [
        ("/api/v1/catalog/products/a%00b", "path"),
        ("/api/v1/catalog/products?q=a%00b", "query.q"),
    ]:
        response = client.get(url, headers=admin_headers)
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["field"] == field


def test_nul_in_a_login_form_is_refused(client) -> None:
    response = client.post(
        "/login",
        content=b"username=a%00b&password=x&csrf_token=t&next=/",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
