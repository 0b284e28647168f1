"""``onestore bench inventory`` in-process with tiny settings: every phase runs (HTTP included,
against a real uvicorn subprocess), the last line is the JSON object, and nothing oversold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onestore.db.database import Database
from onestore.inventory import bench
from onestore.settings import Settings

KEYS = {
    "bench",
    "db",
    "raw_tps",
    "service_tps",
    "http_tps",
    "service_ratio",
    "http_ratio",
    "spread_tps",
    "oversold",
    "availability_p99_ms",
    "basket_p99_ms",
}


def test_bench_runs_every_phase_and_ends_with_json(db: Database, db_url: str) -> None:
    settings = Settings(database_url=db_url, db_pool_size=8, sqlite_busy_timeout_ms=60_000)
    wide = Database(settings=settings)  # the wall clock, as the bench's server has
    lines: list[str] = []
    try:
        result = bench.run(wide, seconds=0.5, concurrency=4, skus=60, echo=lines.append)
    finally:
        wide.dispose()
    last = json.loads(lines[-1])
    assert last == result
    assert set(last) >= KEYS
    assert last["bench"] == "inventory" and last["db"] == db.dialect
    assert last["oversold"] == 0
    assert last["ledger_mismatch"] == 0 and last["reserved_mismatch"] == 0
    for key in ("raw_tps", "service_tps", "http_tps", "http_floor_tps", "spread_tps"):
        assert last[key] > 0, key
    assert last["availability_p99_ms"] > 0 and last["basket_p99_ms"] > 0
    assert any(line.startswith("a. conditional UPDATE") for line in lines)


def test_bench_refuses_a_database_without_schema(tmp_path: Path) -> None:
    empty = Database(f"sqlite:///{tmp_path}/empty.db")
    try:
        with pytest.raises(bench.BenchError, match="onestore db upgrade"):
            bench.run(empty, seconds=0.1, concurrency=1, skus=50, echo=lambda _line: None)
    finally:
        empty.dispose()
