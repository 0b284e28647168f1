"""``onestore inventory sweep`` against the configured database, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onestore.cli import main
from onestore.db.database import Database
from onestore.inventory import availability, holds, reservations, service
from onestore.settings import get_settings

from .conftest import assert_books_balance


def test_sweep_expires_due_holds_and_says_how_many(
    stock: Database,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The test clock stands at 2026-01-01 12:00, so these holds are long due by the system
    # clock the command uses, except the order reservation, which never expires.
    with stock.uow() as uow:
        service.receive(uow, "SKU-1", "DC-01", 10)
        for kind, ttl in (
            ("soft", timedelta(minutes=5)),
            ("soft", timedelta(days=1)),
            ("order", None),
        ):
            lines = reservations.line_requests(uow, [("SKU-1", "DC-01", 2)])
            holds.reserve(uow, lines, kind=kind, ttl=ttl)
        uow.commit()
    monkeypatch.setenv("ONESTORE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        main(["inventory", "sweep"])
        assert capsys.readouterr().out.strip() == "expired 2 reservations"
        main(["inventory", "sweep"])
        assert capsys.readouterr().out.strip() == "expired 0 reservations"
    finally:
        get_settings.cache_clear()
    assert_books_balance(stock)
    with stock.uow(readonly=True) as uow:
        balance = availability.availability(uow, ["SKU-1"], locations=["DC-01"])[0]
    assert balance.locations[0].reserved == 2
