"""``onestore bench pricing --quick`` through the command line on a migrated database: the last
line is the JSON object with sane numbers, a second run reuses every bench row, and old bench
discounts are switched off so exactly 200 stay live.

The engine's best-price search budget is lowered for these tests (``search_states``): a
100-line bench basket otherwise spends its whole 20,000-state budget, ~15 s on its own. What is
tested here is the bench's plumbing, not the engine's speed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestore.cli import main
from onestore.db.database import Database
from onestore.pricing import bench, engine, writes
from onestore.pricing.bench_data import DISCOUNTS
from onestore.pricing.definitions import parse_discount
from onestore.settings import Settings, get_settings

REQUIRED = {
    "bench",
    "discounts",
    "database",
    "not_exact",
    "not_exhaustive",
    "engine_p99_ms_20_lines",
    *(
        f"{stat}_{size}_lines"
        for size in (5, 20, 100)
        for stat in ("p50_ms", "p99_ms", "baskets_per_s")
    ),
}


@pytest.fixture
def env_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The migrated test database as the command's ONESTORE_DATABASE_URL."""
    monkeypatch.setenv("ONESTORE_DATABASE_URL", db_url)
    defaults = engine.price.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "search_states", 500)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    try:
        main(argv)
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def _active_bench_discounts(url: str) -> int:
    db = Database(settings=Settings(database_url=url))
    try:
        return bench.active_bench_discounts(db)
    finally:
        db.dispose()


def test_quick_run_ends_with_json_and_a_second_run_reuses_the_setup(
    env_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = _run(["bench", "pricing", "--quick"], capsys)
    assert code == 0, err
    last = json.loads(lines[-1])
    assert set(last) >= REQUIRED
    assert last["bench"] == "pricing" and last["discounts"] == DISCOUNTS
    assert last["database"] == env_db.split(":")[0].split("+")[0]
    for size in (5, 20, 100):
        assert last[f"p99_ms_{size}_lines"] >= last[f"p50_ms_{size}_lines"] > 0
        assert last[f"baskets_per_s_{size}_lines"] > 0
        assert last[f"mean_discounts_applied_{size}_lines"] > 0  # the offers do meet
    assert last["engine_p99_ms_20_lines"] > 0
    assert last["baskets_5_lines"] == 100 and last["baskets_100_lines"] == 2
    priced = sum(last[f"baskets_{size}_lines"] for size in (5, 20, 100))
    assert 0 <= last["not_exact"] <= priced and 0 <= last["not_exhaustive"] <= priced
    assert any("written now: catalog, tax, discounts, coupons" in line for line in lines)
    assert _active_bench_discounts(env_db) == DISCOUNTS

    code, lines, err = _run(["bench", "pricing", "--quick", "--seed", "2"], capsys)
    assert code == 0, err
    assert any("all reused" in line for line in lines)
    again = json.loads(lines[-1])
    assert again["discounts"] == DISCOUNTS and again["seed"] == 2
    assert _active_bench_discounts(env_db) == DISCOUNTS


def test_setup_switches_off_bench_discounts_of_older_runs(env_db: str) -> None:
    db = Database(settings=Settings(database_url=env_db))
    try:
        bench.ensure_setup(db, lambda _line: None)
        old = parse_discount(
            {
                "code": "BENCH-D999",
                "name": "From an older bench",
                "kind": "simple",
                "concurrency": "best_price",
                "method": "percent",
                "value": "50",
            }
        )
        with db.uow() as uow:
            writes.import_discounts(uow, [old])
            uow.commit()
        assert bench.active_bench_discounts(db) == DISCOUNTS + 1
        setup = bench.ensure_setup(db, lambda _line: None)
        assert setup.wrote == ["discounts"] and setup.deactivated == 1
        assert bench.active_bench_discounts(db) == DISCOUNTS
        assert bench.ensure_setup(db, lambda _line: None).wrote == []
    finally:
        db.dispose()


def test_refuses_a_database_without_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONESTORE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        code, _lines, err = _run(["bench", "pricing", "--quick"], capsys)
    finally:
        get_settings.cache_clear()
    assert code == 2
    assert err.strip() == "error: the database has no schema yet; run: onestore db upgrade"
