"""CI runs exactly what the README tells a contributor to run.

The README opens with a fenced block of two commands: the demo, then the tests. The second
must appear verbatim, not commented out, in ``.ci/run``, so the two can never drift apart.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _first_code_block(markdown: str) -> list[str]:
    match = re.search(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)
    assert match, "README.md has no fenced code block"
    return [line.strip() for line in match.group(1).splitlines() if line.strip()]


def test_readme_starts_with_the_demo_and_the_test_command() -> None:
    commands = _first_code_block((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(commands) == 2, commands
    assert "demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = _first_code_block((ROOT / "README.md").read_text(encoding="utf-8"))[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    live_lines = [line for line in ci.splitlines() if not line.lstrip().startswith("#")]
    assert any(test_command in line for line in live_lines), (
        f"{test_command!r} is not run by .ci/run"
    )


def test_ci_script_is_strict_bash_and_executable() -> None:
    path = ROOT / ".ci" / "run"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") or text.startswith("#!/bin/bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.stat(path).st_mode & stat.S_IXUSR
    for tool in (".venv/bin/ruff check src tests", ".venv/bin/mypy", ".venv/bin/lint-imports"):
        assert tool in text


def test_the_configuration_table_lists_every_setting() -> None:
    from onestore.settings import Settings

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [
        f"ONESTORE_{name.upper()}"
        for name in Settings.model_fields
        if f"`ONESTORE_{name.upper()}`" not in readme
    ]
    assert missing == []
