"""``onestore import prices|discounts|tax FILE`` and ``onestore price BASKET.json``.

Imports check the whole file first and write nothing when any row is wrong (exit 2 with every
problem on stderr and one summary line). ``onestore price`` prices a basket against the
database and prints the priced basket as JSON: a merchandiser's check of a promotion before it
goes live (``"at"`` in the basket prices it on a future date).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import typer

from onestore.api.strict_json import parse_strict
from onestore.catalog.cli import migrated_database, read_file
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import OnestoreError, ValidationFailed
from onestore.pricing import writes
from onestore.pricing.basket import parse_basket
from onestore.pricing.exporting import discounts_document, price_data
from onestore.pricing.model import Discount
from onestore.pricing.price_files import (
    PriceData,
    parse_prices_csv,
    parse_prices_json,
    prices_to_csv,
    prices_to_json,
)
from onestore.pricing.service import price_basket, priced_to_json
from onestore.pricing.settings_files import CouponIn, parse_discounts_file, parse_tax

T = TypeVar("T")


def register(*, app: typer.Typer, import_app: typer.Typer, export_app: typer.Typer) -> None:
    import_app.command("prices")(import_prices)
    import_app.command("discounts")(import_discounts)
    import_app.command("tax")(import_tax)
    export_app.command("prices")(export_prices)
    export_app.command("discounts")(export_discounts)
    app.command("price")(price_command)


def _json(file: Path) -> object:
    raw = read_file(file)
    try:
        return parse_strict(raw)
    except OnestoreError as exc:
        raise ValidationFailed.on("FILE", f"{file.name}: {exc.detail}") from None


def _report_and_raise(exc: ValidationFailed) -> NoReturn:
    """Every problem on its own line, then the one-line summary ``main`` prints."""
    for error in exc.errors[1:]:
        typer.echo(f"{error.field}: {error.reason}", err=True)
    raise exc


def _save(
    read: Callable[[], T], write: Callable[[UnitOfWork, T], writes.Change]
) -> tuple[T, writes.Change]:
    """Read the file, then write it in one unit of work; every problem reported, nothing half
    written."""
    try:
        data = read()
        db = migrated_database()
        with db.uow() as uow:
            change = write(uow, data)
            uow.commit()
    except ValidationFailed as exc:
        _report_and_raise(exc)
    return data, change


def import_prices(
    file: Path = typer.Argument(..., help="Prices: .json (groups and prices) or .csv (prices)."),
) -> None:
    """Import price groups and prices (upsert); see docs/pricing.md for both formats."""

    def read() -> PriceData:
        if file.suffix.lower() != ".csv":
            return parse_prices_json(_json(file))
        try:
            return parse_prices_csv(read_file(file).decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise ValidationFailed.on("FILE", f"{file.name} is not UTF-8 text") from None

    data, change = _save(read, writes.import_prices)
    typer.echo(
        f"imported {len(data.groups)} price groups and {len(data.prices)} prices "
        f"({change.created} new, {change.updated} updated); pricing version {change.version}"
    )


def import_discounts(
    file: Path = typer.Argument(..., help="A discounts file (onestore.discounts/1 JSON)."),
) -> None:
    """Import discounts and their coupon codes (upsert by code)."""

    def write(uow: UnitOfWork, found: tuple[list[Discount], list[CouponIn]]) -> writes.Change:
        change = writes.import_discounts(uow, found[0])
        return writes.import_coupons(uow, found[1]) if found[1] else change

    (discounts, coupons), change = _save(lambda: parse_discounts_file(_json(file)), write)
    typer.echo(
        f"imported {len(discounts)} discounts and {len(coupons)} coupons; "
        f"pricing version {change.version}"
    )


def import_tax(
    file: Path = typer.Argument(..., help="A tax file (onestore.tax/1 JSON)."),
) -> None:
    """Import tax rates, product tax groups and channel tax settings."""
    data, change = _save(lambda: parse_tax(_json(file)), writes.import_tax)
    typer.echo(
        f"imported {len(data.rates)} tax rates, {len(data.products)} product tax groups and "
        f"{len(data.channels)} channel settings; pricing version {change.version}"
    )


def price_command(
    basket: Path = typer.Argument(..., help="The basket (JSON): lines, channel, store, coupons…"),
) -> None:
    """Price a basket against the database and print the priced basket as JSON."""
    try:
        request = parse_basket(_json(basket))
        db = migrated_database()
        priced = price_basket(db, request)
    except ValidationFailed as exc:
        _report_and_raise(exc)
    json.dump(priced_to_json(priced), sys.stdout, indent=2)
    sys.stdout.write("\n")


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationFailed.on("--out", f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {out}", err=True)


def export_prices(
    csv: bool = typer.Option(False, "--csv", help="Prices only, as CSV (groups need JSON)."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file, not stdout."),
) -> None:
    """Export price groups and prices in the import format (JSON, or CSV of prices)."""
    db = migrated_database()
    with db.uow(readonly=True) as uow:
        version, data = price_data(uow)
    if csv:
        _write(prices_to_csv(data), out)
    else:
        _write(json.dumps(prices_to_json(data), indent=2) + "\n", out)
    typer.echo(f"pricing version {version}", err=True)


def export_discounts(
    include_inactive: bool = typer.Option(False, "--include-inactive", help="Also inactive."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file, not stdout."),
) -> None:
    """Export discounts and their coupons in the import format."""
    db = migrated_database()
    with db.uow(readonly=True) as uow:
        doc = discounts_document(uow, include_inactive=include_inactive)
    _write(json.dumps(doc, indent=2) + "\n", out)
