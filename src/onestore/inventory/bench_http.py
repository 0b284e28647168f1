"""The HTTP phases of ``onestore bench inventory``: a real ``uvicorn`` subprocess on loopback
(the API, or :mod:`.bench_floor`'s empty routes), driven by one keep-alive client per thread."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from typing import Any

from onestore.db.database import Database
from onestore.inventory.bench_phases import BenchBusy, Outcome, Phase, run_phase
from onestore.inventory.bench_setup import (
    BASE,
    HOT_LOCATION,
    TTL,
    BenchError,
    admin_token,
    restock,
)
from onestore.kernel.ids import new_id


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Http:
    """One keep-alive client per thread: httpx if installed, else urllib."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            import httpx
        except ImportError:
            self._client: Any = None
        else:
            self._client = httpx.Client(base_url=base, headers=self.headers, timeout=60)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        headers = {"Idempotency-Key": f"bench-{new_id()}"}
        if self._client is not None:
            answer = self._client.post(path, json=body, headers=headers)
            return answer.status_code, answer.json() if answer.content else None
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - loopback URL built here
            self.base + path,
            data=json.dumps(body).encode(),
            headers={**self.headers, **headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _start_server(
    db: Database, port: int, concurrency: int, workers: int = 1, app: str = "onestore.api.asgi:app"
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ONESTORE_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "ONESTORE_DB_POOL_SIZE": str(max(10, min(200, concurrency))),
        "ONESTORE_SQLITE_BUSY_TIMEOUT_MS": "60000",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the bench server exited with status {server.returncode}")
        try:
            url = f"http://127.0.0.1:{port}/health"
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise BenchError("the bench server did not answer /health within 30 s")


def drain_backlog(db: Database) -> int:
    """Deliver the outbox events the setup and the in-process phases left pending, as a
    running API would have, so the HTTP phase pays for its own events only (the server's
    in-process bus delivers a batch after every write). Returns how many were pending."""
    from onestore.api.app import create_app
    from onestore.events.outbox import pending_count

    with db.uow(readonly=True) as uow:
        backlog = pending_count(uow)
    if backlog and not db.settings.event_bus_url:
        drainer = Database(settings=db.settings)
        try:
            create_app(drainer).state.bus.drain()
        finally:
            drainer.dispose()
    return backlog


def http_phase(
    db: Database, code: str, seconds: float, c: int, workers: int = 1, floor: bool = False
) -> Phase:
    token = admin_token(db)
    port = _free_port()
    app = "onestore.inventory.bench_floor:app" if floor else "onestore.api.asgi:app"
    server = _start_server(db, port, c, workers, app)
    body = {
        "ttl_seconds": int(TTL.total_seconds()),
        "lines": [{"sku": code, "location": HOT_LOCATION, "quantity": 1}],
    }

    def setup(_n: int) -> dict[str, Any]:
        return {"http": _Http(f"http://127.0.0.1:{port}", token)}

    def op(_n: int, _rng: random.Random, state: dict[str, Any]) -> Outcome:
        http: _Http = state["http"]
        status, answer = http.post(f"{BASE}/reservations", body)
        if status == 409 and isinstance(answer, dict) and "insufficient" in str(answer.get("type")):
            restock(db, code)
            return "insufficient"
        if status in (429, 503):
            raise BenchBusy(status)
        if status != 201:
            raise BenchError(f"POST reservations answered {status}: {answer}")
        status, answer = http.post(f"{BASE}/reservations/{answer['id']}/commit", {})
        if status in (429, 503):
            raise BenchBusy(status)
        if status != 200:
            raise BenchError(f"POST commit answered {status}: {answer}")
        return "ok"

    def teardown(state: dict[str, Any]) -> None:
        state["http"].close()

    try:
        return run_phase("floor" if floor else "http", seconds, c, op, setup, teardown)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
