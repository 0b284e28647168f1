"""Operational endpoints: health with the schema revision, Prometheus metrics, self-hosted
API docs (nothing from a CDN), and the OpenAPI document."""

from __future__ import annotations

import re

from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from onestore.db.database import Database
from onestore.db.migrate import alembic_config


def test_health_reports_the_database_and_schema_revision(client: TestClient, db: Database) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
    assert response.json() == {
        "status": "ok",
        "database": db.dialect,
        "schema_revision": head,
    }


def test_health_is_503_when_the_database_is_gone(tmp_path) -> None:
    from onestore.api.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    with TestClient(create_app(db), raise_server_exceptions=False) as client:
        response = client.get("/health")
    db.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_metrics_are_prometheus_text_and_count_requests(client: TestClient) -> None:
    client.get("/health")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE onestore_http_requests_total counter" in text
    pattern = r'onestore_http_requests_total\{method="GET",route="/health",status="200"\} (\d+)'
    match = re.search(pattern, text)
    assert match and float(match.group(1)) >= 1
    assert "onestore_http_request_duration_seconds_bucket" in text


def test_metrics_label_routes_by_template_not_by_raw_path(client: TestClient) -> None:
    """Raw paths as labels would let any client grow the metric set without bound."""
    client.get("/api/v1/catalog/products/SOME-RANDOM-REF-123")
    client.get("/no/such/path/abc123")
    text = client.get("/metrics").text
    assert "SOME-RANDOM-REF-123" not in text
    assert "abc123" not in text


def test_docs_page_loads_nothing_from_other_sites(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    external = re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", html)
    assert external == [], external
    assets = re.findall(r"""["'](/static/swagger/[^"']+)["']""", html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert "/openapi.json" in html


def test_openapi_document_describes_the_api(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "onestore"
    assert "post" in spec["paths"]["/api/v1/staff"]
    assert "post" in spec["paths"]["/api/v1/auth/tokens"]
    assert "/metrics" not in spec["paths"]  # operational, not part of the API contract


def test_openapi_names_each_operations_permission_and_auth(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert operations
    for path, method, op in operations:
        assert op.get("x-permission"), f"{method.upper()} {path} has no x-permission"
        if "public" in op["x-permission"]:
            assert "security" not in op, f"public {method.upper()} {path} asks for a token"
        else:
            assert op["security"] == [{"bearer": []}], f"{method.upper()} {path}"
    staff = schema["paths"]["/api/v1/staff"]["post"]
    assert staff["x-permission"] == ["users.manage"]


def test_openapi_documents_the_idempotency_key_on_retryable_creates(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/staff", "/api/v1/catalog/products", "/api/v1/catalog/locations"):
        names = [p["name"] for p in paths[path]["post"].get("parameters", [])]
        assert "Idempotency-Key" in names, path
