"""Every folder of Python code is a regular package, so a (non-editable) install ships it."""

from __future__ import annotations

from pathlib import Path

import onestore

ROOT = Path(onestore.__file__).parent


def test_every_code_folder_has_an_init() -> None:
    missing = [
        str(folder.relative_to(ROOT))
        for folder in [ROOT, *ROOT.rglob("*")]
        if folder.is_dir()
        and folder.name != "__pycache__"
        and any(folder.glob("*.py"))
        and not (folder / "__init__.py").exists()
    ]
    assert missing == []
