"""The top-level ``onestore`` command: help, schema commands, errors as exit 2 + one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onestore.cli import main
from onestore.db import idempotency
from onestore.db.database import Database
from onestore.kernel.clock import FrozenClock
from onestore.settings import get_settings


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ONESTORE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def test_help_lists_the_sub_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("db", "serve", "demo", "import", "export", "relay"):
        assert command in out


def test_db_upgrade_then_current(sqlite_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    from alembic.script import ScriptDirectory

    from onestore.db.migrate import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None and head != "0001"  # the inventory migration follows the foundation
    assert _run(["db", "upgrade"]) == 0
    assert f"revision {head}" in capsys.readouterr().out
    assert _run(["db", "current"]) == 0
    assert capsys.readouterr().out.strip() == head


def test_serve_refuses_an_empty_database_with_one_line(
    sqlite_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: the database has no schema yet; run: onestore db upgrade"]


def test_an_unknown_option_is_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["serve", "--port", "nope"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_purge_removes_only_keys_past_retention(
    sqlite_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["db", "upgrade"]) == 0
    now = datetime.now(UTC)
    old = Database(sqlite_env, clock=FrozenClock(now - timedelta(hours=25)))
    idempotency.claim(old, "s", "old", "h")
    fresh = Database(sqlite_env, clock=FrozenClock(now - timedelta(hours=23)))
    idempotency.claim(fresh, "s", "fresh", "h")
    assert _run(["db", "purge-idempotency-keys"]) == 0
    assert "purged 1 " in capsys.readouterr().out
    assert _run(["db", "purge-idempotency-keys", "--older-than-hours", "1"]) == 2
