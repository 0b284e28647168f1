"""``onestore demo`` end to end: a fresh SQLite file, the full scale-1 demo, then re-runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from onestore.cli import main
from onestore.settings import get_settings


def test_demo_command_loads_once_then_skips_and_refuses_another_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONESTORE_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    get_settings.cache_clear()
    try:
        main(["demo", "--scale", "1", "--seed", "7"])
        out = capsys.readouterr().out
        assert "Loaded the demo retailer (seed 7, scale 1) into sqlite" in out
        assert "2,000 products" in out
        assert "stock balances" in out and "at 27 locations" in out
        lines = out.splitlines()[-4:]
        assert lines == [
            "Open        http://127.0.0.1:8000",
            "API docs    http://127.0.0.1:8000/docs",
            "Back office http://127.0.0.1:8000/backoffice",
            "Demo login  admin / onestore-demo",
        ]

        main(["demo", "--scale", "1", "--seed", "7", "--port", "8123"])
        out = capsys.readouterr().out
        assert "already in this sqlite database; nothing to do" in out
        assert "Open        http://127.0.0.1:8123" in out

        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "--scale", "1", "--seed", "8"])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            "error: this database already holds the demo with --seed 7 --scale 1; "
            "rerun with those, or use an empty database"
        ]
    finally:
        get_settings.cache_clear()
