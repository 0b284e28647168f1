"""The HTTP phases of ``onestore bench inventory``: a real ``uvicorn`` subprocess on loopback
(the API, or :mod:`.bench_floor`'s empty routes), driven by one keep-alive client per thread."""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.parse
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
    """One keep-alive connection per thread, through the standard library's ``http.client``.

    Why not httpx: the client shares the machine with the server and the database, and
    every millisecond of the load generator's CPU is one the server does not get. httpx
    cost about 0.8 ms of CPU per request here (the whole client process used a full core
    against the empty routes of phase c0); ``http.client`` does the same exchange — keep-alive,
    JSON body, status and JSON answer — for a fraction of that, as a load generator should."""

    def __init__(self, base: str, token: str) -> None:
        parsed = urllib.parse.urlsplit(base)
        self._host, self._port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._conn = http.client.HTTPConnection(self._host, self._port, timeout=60)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        headers = {**self._headers, "Idempotency-Key": f"bench-{new_id()}"}
        data = json.dumps(body).encode()
        try:
            self._conn.request("POST", path, body=data, headers=headers)
            answer = self._conn.getresponse()
        except (http.client.HTTPException, OSError):
            # The server closed the kept-alive connection: one retry on a new one (same key,
            # so the write still happens at most once).
            self._conn.close()
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=60)
            self._conn.request("POST", path, body=data, headers=headers)
            answer = self._conn.getresponse()
        content = answer.read()
        return answer.status, json.loads(content) if content else None

    def close(self) -> None:
        self._conn.close()


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
