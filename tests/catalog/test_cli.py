"""``onestore import catalog`` / ``onestore export catalog`` through ``onestore.cli.main``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestore.catalog import queries
from onestore.cli import main
from onestore.db.database import Database
from onestore.settings import get_settings

from .conftest import events
from .documents import document


@pytest.fixture
def cli_db(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """Point the CLI's settings at the test database."""
    monkeypatch.setenv("ONESTORE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def codes(db: Database) -> list[str]:
    with db.uow(readonly=True) as uow:
        return [p.code for p in queries.list_products(uow).items]


def test_import_json_then_export_and_reimport_both_formats(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("import", "catalog", str(write(tmp_path / "c.json", document()))) == 0
    out = capsys.readouterr().out
    assert "products: 2 created, 0 updated, 0 unchanged" in out
    assert codes(cli_db) == ["P-000001", "P-000002"]

    assert cli("export", "catalog") == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["format"] == "onestore.catalog/1" and len(exported["products"]) == 2
    assert cli("export", "catalog", "--format", "csv", "--out", str(tmp_path / "c.csv")) == 0
    assert "wrote 2 products" in capsys.readouterr().err
    emitted = events(cli_db)
    for name in ("c.csv", "c.json"):
        assert cli("import", "catalog", str(tmp_path / name)) == 0
        assert "products: 0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert events(cli_db) == emitted


def test_bad_rows_exit_2_list_every_row_and_import_nothing(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = document()
    doc["products"][1]["variants"][0]["list_price"] = "80.001"
    doc["products"][1]["unit"] = "crate"
    path = write(tmp_path / "bad.json", doc)
    assert cli("import", "catalog", str(path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[:-1] == [
        "products[1].variants[0]: list_price: USD allows at most 2 decimal places",
        "products[1]: unit: unknown unit 'crate'; add it to units or create it first",
        "assortments[0].lines[1]: product: product 'P-000002' is invalid in this document",
        "assortments[1].lines[0]: product: product 'P-000002' is invalid in this document",
    ]
    assert err[-1] == (
        "error: 4 invalid row(s) in bad.json; nothing was imported; fix them or use --skip-invalid"
    )
    assert codes(cli_db) == [] and events(cli_db) == 0

    assert cli("import", "catalog", "--skip-invalid", str(path)) == 0
    captured = capsys.readouterr()
    assert "products: 1 created, 0 updated, 0 unchanged, 1 invalid (skipped)" in captured.out
    assert captured.err.strip().splitlines()[-1] == "skipped 4 invalid row(s)"
    assert codes(cli_db) == ["P-000001"]


def test_csv_errors_name_the_line(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("import", "catalog", str(write(tmp_path / "ref.json", document()))) == 0
    capsys.readouterr()
    path = tmp_path / "products.txt"
    path.write_text(
        "product_code,product_name,category,brand,unit,status,description,sku,size,colour,"
        "style,list_price,currency,barcodes\n"
        "C-1,Cap,fashion,,ea,,,C-1,,,,12.00,USD,4006381333932\n",
        encoding="utf-8",
    )
    assert cli("import", "catalog", str(path)) == 2  # unknown extension
    assert "pass --format" in capsys.readouterr().err
    assert cli("import", "catalog", "--format", "csv", str(path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("line 2: barcodes: check digit of 4006381333932 is wrong")
    assert err[-1].startswith("error: 1 invalid row(s) in products.txt; nothing was imported")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"format": "onestore.catalog/1", "products": [', "not valid JSON"),
        ('{"format": "onestore.catalog/1", "units": [{"code": "x", "decimals": NaN}]}', "NaN"),
        ("[]", "must be a JSON object"),
    ],
)
def test_unreadable_json_is_one_line_and_exit_2(
    cli_db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    words: str,
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    assert cli("import", "catalog", str(path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0]


def test_missing_file_is_exit_2(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("import", "catalog", "/nonexistent/catalog.json") == 2
    assert "no such file" in capsys.readouterr().err


def test_a_database_without_schema_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONESTORE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        assert cli("export", "catalog") == 2
    finally:
        get_settings.cache_clear()
    assert capsys.readouterr().err.strip() == (
        "error: the database has no schema yet; run: onestore db upgrade"
    )


def test_import_of_a_directory_or_missing_file_is_one_line_and_exit_2(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder.json"
    folder.mkdir()
    for target in (folder, tmp_path / "absent.json"):
        assert cli("import", "catalog", str(target)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and "FILE" in err[0], err
