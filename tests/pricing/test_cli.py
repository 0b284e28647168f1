"""``onestore import prices|discounts|tax`` and ``onestore price`` through ``onestore.cli.main``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestore.cli import main
from onestore.db.database import Database
from onestore.settings import get_settings


@pytest.fixture
def cli_db(shop: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("ONESTORE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield shop
    get_settings.cache_clear()


def cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def write(path: Path, doc: object) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


DISCOUNTS = {
    "format": "onestore.discounts/1",
    "discounts": [
        {
            "code": "TEE3",
            "name": "3 tees for 50",
            "kind": "quantity",
            "concurrency": "best_price",
            "currency": "USD",
            "items": {"products": ["TEE"]},
            "deal": {"quantity": 3, "price": "50.00"},
        },
        {
            "code": "WELCOME",
            "name": "Welcome 5 off",
            "kind": "threshold",
            "concurrency": "compounded",
            "currency": "USD",
            "coupon_required": True,
            "tiers": [{"min_amount": "50.00", "method": "amount", "value": "5.00"}],
        },
    ],
    "coupons": [{"code": "HELLO", "discount": "WELCOME", "max_uses": 100}],
}


def test_import_then_price_a_basket(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = "group,sku,amount,currency,valid_from,valid_to\nWEBP,TEE-M,19.00,USD,,\n"
    groups = {
        "format": "onestore.prices/1",
        "price_groups": [{"code": "WEBP", "name": "Web", "channels": ["WEB"]}],
    }
    assert cli("import", "prices", str(write(tmp_path / "g.json", groups))) == 0
    assert cli("import", "prices", str(write(tmp_path / "p.csv", prices))) == 0
    assert cli("import", "discounts", str(write(tmp_path / "d.json", DISCOUNTS))) == 0
    out = capsys.readouterr().out
    assert "imported 2 discounts and 1 coupons" in out
    basket = {
        "channel": "WEB",
        "coupons": ["hello"],
        "lines": [{"sku": "TEE-S", "quantity": 2}, {"sku": "TEE-M", "quantity": 2}],
    }
    assert cli("price", str(write(tmp_path / "b.json", basket))) == 0
    priced = json.loads(capsys.readouterr().out)
    # 2 × 20.00 + 2 × 19.00 = 78.00; one deal of 3 (the dearest units: 20, 20, 19 → 50.00,
    # saving 9.00), then the coupon threshold: 69.00 ≥ 50.00 → 5.00 off
    assert priced["subtotal"]["amount"] == "78.00"
    assert priced["total"]["amount"] == "64.00"
    assert priced["lines"][1]["price_source"] == "price group WEBP"


def test_bad_files_exit_2_with_one_line_naming_the_field(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = json.loads(json.dumps(DISCOUNTS))
    bad["discounts"][0]["deal"]["quantity"] = 1
    assert cli("import", "discounts", str(write(tmp_path / "d.json", bad))) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: discounts[0].deal.quantity:")
    unknown = {
        "format": "onestore.prices/1",
        "prices": [{"group": "X", "sku": "NOPE", "amount": "1.00", "currency": "USD"}],
    }
    assert cli("import", "prices", str(write(tmp_path / "p.json", unknown))) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: prices[0].group: unknown price group 'X'")
    basket = {"channel": "WEB", "lines": [{"sku": "TEE-S", "quantity": "-2"}]}
    assert cli("price", str(write(tmp_path / "b.json", basket))) == 2
    assert capsys.readouterr().err.strip() == "error: lines[0].quantity: must be more than 0"
    assert cli("price", str(tmp_path / "missing.json")) == 2
    assert "no such file" in capsys.readouterr().err


def test_exports_reimport_unchanged(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = {
        "format": "onestore.prices/1",
        "price_groups": [{"code": "WEBP", "name": "Web", "channels": ["WEB"]}],
        "prices": [{"group": "WEBP", "sku": "TEE-M", "amount": "19.00", "currency": "USD"}],
    }
    assert cli("import", "prices", str(write(tmp_path / "g.json", groups))) == 0
    assert cli("import", "discounts", str(write(tmp_path / "d.json", DISCOUNTS))) == 0
    capsys.readouterr()
    assert cli("export", "discounts", "--out", str(tmp_path / "out.json")) == 0
    exported = json.loads((tmp_path / "out.json").read_text())
    assert [d["code"] for d in exported["discounts"]] == ["TEE3", "WELCOME"]
    assert exported["coupons"][0]["code"] == "HELLO"
    assert cli("import", "discounts", str(tmp_path / "out.json")) == 0
    assert cli("export", "prices", "--csv") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "WEBP,TEE-M,19.00,USD,,"
    assert cli("export", "prices") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["price_groups"][0]["channels"] == ["WEB"]
