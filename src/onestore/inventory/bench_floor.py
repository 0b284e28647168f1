"""The HTTP floor for ``onestore bench inventory``: the reserve and commit routes with nothing
behind them — no authentication, no database, no idempotency — served the same way.

Phase ``c0`` drives it with the same client, threads and bodies as phase ``c``, so the table
shows what HTTP alone (the client threads, uvicorn, FastAPI and JSON on these cores) leaves for
the real routes: the ceiling any HTTP result on this machine is read against.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from onestore.inventory.bench_setup import BASE
from onestore.kernel.ids import new_id

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post(f"{BASE}/reservations", status_code=201)
def reserve(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id(), "lines": body.get("lines", [])}


@app.post(BASE + "/reservations/{reservation_id}/commit")
def commit(reservation_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"id": reservation_id, "kind": "order"}
