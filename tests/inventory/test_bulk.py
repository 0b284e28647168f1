"""Opening stock in bulk on both backends: the books balance, existing balances are refused, bad
rows are named, batches add up, and the whole load is announced by one summary event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.inventory import availability, bulk, refs, service
from onestore.inventory.bulk import OPENING_STOCK_LOADED, receive_bulk
from onestore.inventory.model import MAX_QUANTITY
from onestore.inventory.tables import balances, movements
from onestore.kernel.errors import Conflict, ValidationFailed
from onestore.kernel.ids import is_id, new_id

from .conftest import LOCATIONS, SKUS, assert_books_balance, row_counts


@pytest.fixture
def inv(stock: Database) -> Iterator[Database]:
    yield stock
    assert_books_balance(stock)


def ids(db: Database) -> tuple[dict[str, str], dict[str, str]]:
    with db.uow(readonly=True) as uow:
        return refs.known_variant_ids(uow, SKUS), refs.known_location_ids(uow, LOCATIONS)


def every_balance(db: Database) -> list[tuple[str, str, int]]:
    """One row per SKU × location (15), quantities 1..15 in a scrambled order."""
    variant, location = ids(db)
    rows = [(variant[s], location[loc], 0) for loc in LOCATIONS for s in SKUS]
    rows.reverse()  # not key order: the load must not depend on the order it is given
    return [(v, loc, n) for n, (v, loc, _) in enumerate(rows, start=1)]


def load(db: Database, rows: Any, **kwargs: Any) -> int:
    kwargs.setdefault("reference", "OPENING-2026")
    kwargs.setdefault("actor", "migration")
    with db.uow() as uow:
        loaded = receive_bulk(uow, rows, **kwargs)
        uow.commit()
    return loaded


def inventory_events(db: Database) -> list[Any]:
    with db.uow(readonly=True) as uow:
        return list(
            uow.conn.execute(
                select(outbox).where(outbox.c.event_type.like("inventory.%")).order_by(outbox.c.seq)
            )
        )


def test_opening_stock_opens_each_balance_with_one_receipt(inv: Database) -> None:
    rows = every_balance(inv)
    assert load(inv, rows) == 15
    with inv.uow(readonly=True) as uow:
        stored = {(r.variant_id, r.location_id): r for r in uow.conn.execute(select(balances))}
        ledger = list(uow.conn.execute(select(movements).order_by(movements.c.seq)))
    assert {key: r.on_hand for key, r in stored.items()} == {(v, loc): n for v, loc, n in rows}
    assert all((r.reserved, r.in_transit, r.buffer) == (0, 0, 0) for r in stored.values())
    assert len(ledger) == 15
    assert {(m.kind, m.reference, m.actor, m.reason_code) for m in ledger} == {
        ("receipt", "OPENING-2026", "migration", None)
    }
    assert {(m.variant_id, m.location_id, m.on_hand_delta) for m in ledger} == set(rows)
    assert len({m.id for m in ledger}) == 15 and all(is_id(m.id) for m in ledger)
    # the balances behave like any other: a sale afterwards keeps the ledger equal to on hand
    with inv.uow() as uow:
        service.record_sale(uow, "SKU-1", "ST-01", 2)
        uow.commit()
    variant, location = ids(inv)
    opened = next(n for v, loc, n in rows if (v, loc) == (variant["SKU-1"], location["ST-01"]))
    with inv.uow(readonly=True) as uow:
        line = availability.availability(uow, ["SKU-1"], locations=["ST-01"])[0]
    assert line.available == opened - 2


def test_one_summary_event_counts_per_location_instead_of_one_per_balance(
    inv: Database,
) -> None:
    rows = every_balance(inv)
    load(inv, rows)
    published = inventory_events(inv)
    assert [e.event_type for e in published] == [OPENING_STOCK_LOADED]
    payload = published[0].payload
    assert published[0].aggregate_id == "OPENING-2026"
    assert payload["balances"] == 15 and payload["units"] == sum(range(1, 16))
    _, location = ids(inv)
    by_code = {p["location"]: p for p in payload["locations"]}
    assert list(by_code) == sorted(LOCATIONS)
    for code in LOCATIONS:
        here = [n for _, loc, n in rows if loc == location[code]]
        assert by_code[code] == {
            "location_id": location[code],
            "location": code,
            "balances": 5,
            "units": sum(here),
        }


def test_batches_smaller_than_the_load_add_up(inv: Database) -> None:
    seen: list[tuple[int, int]] = []
    assert load(inv, iter(every_balance(inv)), batch=4, progress=lambda *a: seen.append(a)) == 15
    assert seen == [(4, 15), (8, 15), (12, 15), (15, 15)]
    with inv.uow(readonly=True) as uow:
        assert uow.conn.execute(select(func.count()).select_from(balances)).scalar_one() == 15
        total = uow.conn.execute(select(func.sum(movements.c.on_hand_delta))).scalar_one()
    assert total == sum(range(1, 16))


def test_movement_ids_are_unique_ulids_across_counter_spans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    many = bulk._ids(1000)
    assert len(set(many)) == 1000 and all(is_id(i) for i in many)
    assert many == sorted(many)  # within one span the counter keeps ULID order
    monkeypatch.setattr(bulk, "_COUNTER_SPAN", 4)  # a fresh ULID every 4 ids
    few = bulk._ids(10)
    assert len(set(few)) == 10 and all(is_id(i) for i in few)
    assert len({i[:-5] for i in few}) == 3


def test_an_existing_balance_refuses_the_whole_load_naming_its_row(inv: Database) -> None:
    with inv.uow() as uow:
        service.receive(uow, "SKU-3", "ST-01", 4)
        uow.commit()
    before = row_counts(inv)
    rows = every_balance(inv)
    variant, location = ids(inv)
    clash = rows.index(next(r for r in rows if r[:2] == (variant["SKU-3"], location["ST-01"])))
    with pytest.raises(Conflict) as refused:
        load(inv, rows)
    assert [e.field for e in refused.value.errors] == [f"rows.{clash}"]
    assert "already exist" in refused.value.detail
    assert row_counts(inv) == before


def test_a_balance_opened_meanwhile_is_a_conflict_not_a_crash(
    inv: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-check can race a concurrent writer on PostgreSQL; the insert itself still
    refuses (primary key), and that surfaces as a 409 with nothing written."""
    with inv.uow() as uow:
        service.receive(uow, "SKU-2", "DC-01", 1)
        uow.commit()
    before = row_counts(inv)
    monkeypatch.setattr(bulk, "_refuse_existing", lambda _uow, _lines: None)
    with pytest.raises(Conflict, match="opened by another change meanwhile"):
        load(inv, every_balance(inv))
    assert row_counts(inv) == before


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [
        (0, "must be greater than 0"),
        (-3, "must be greater than 0"),
        (2.5, "must be a whole number"),
        (True, "must be a whole number"),
        ("7", "must be a whole number"),
        (MAX_QUANTITY + 1, f"must be at most {MAX_QUANTITY}"),
    ],
)
def test_a_bad_quantity_is_a_422_naming_its_row(inv: Database, quantity: Any, reason: str) -> None:
    rows: list[Any] = every_balance(inv)
    rows[6] = (*rows[6][:2], quantity)
    before = row_counts(inv)
    with pytest.raises(ValidationFailed) as refused:
        load(inv, rows)
    assert refused.value.status == 422
    assert [(e.field, e.reason) for e in refused.value.errors] == [("rows.6.quantity", reason)]
    assert row_counts(inv) == before


def test_unknown_ids_duplicates_and_malformed_rows_are_named(inv: Database) -> None:
    rows: list[Any] = every_balance(inv)
    before = row_counts(inv)
    unknown = [*rows[:3], (new_id(), rows[3][1], 1), (rows[4][0], new_id(), 1)]
    with pytest.raises(ValidationFailed) as refused:
        load(inv, unknown)
    assert [e.field for e in refused.value.errors] == ["rows.3.variant_id", "rows.4.location_id"]

    with pytest.raises(ValidationFailed) as refused:
        load(inv, [*rows[:5], rows[2]])
    assert [(e.field, e.reason) for e in refused.value.errors] == [
        ("rows.5", "same balance as rows.2")
    ]

    with pytest.raises(ValidationFailed) as refused:
        load(inv, [rows[0], (rows[1][0], 5), (None, rows[2][1], 1)])
    assert [e.field for e in refused.value.errors] == ["rows.1", "rows.2.variant_id"]

    with pytest.raises(ValidationFailed, match="at least one row"):
        load(inv, [])
    with pytest.raises(ValidationFailed, match="reference"):
        load(inv, rows, reference=" ")
    with pytest.raises(ValueError, match="batch"):
        load(inv, rows, batch=0)
    assert row_counts(inv) == before


def test_many_bad_rows_are_reported_up_to_a_limit(inv: Database) -> None:
    rows: list[Any] = [(r[0], r[1], 0) for r in every_balance(inv)] * 3
    with pytest.raises(ValidationFailed) as refused:
        load(inv, rows)
    assert len(refused.value.errors) == bulk.MAX_REPORTED
    assert refused.value.errors[0].field == "rows.0.quantity"
