"""Stock and reservation use cases on both backends; after every test the books balance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.inventory import availability, holds, reservations, service
from onestore.inventory.model import InsufficientStock, MovementKind
from onestore.inventory.tables import movements
from onestore.inventory.tables import reservations as reservation_table
from onestore.kernel.clock import FrozenClock
from onestore.kernel.errors import Conflict, NotFound, ValidationFailed
from onestore.kernel.ids import new_id

from .conftest import assert_books_balance, run

MINUTES_15 = timedelta(minutes=15)


@pytest.fixture
def inv(stock: Database) -> Iterator[Database]:
    yield stock
    assert_books_balance(stock)


def receive(db: Database, sku: str, location: str, quantity: int) -> None:
    run(db, service.receive, sku, location, quantity)


def hold(db: Database, lines: list[tuple[str, str, Any]], **kwargs: Any) -> Any:
    kwargs.setdefault("kind", "soft")
    kwargs.setdefault("ttl", MINUTES_15 if kwargs["kind"] == "soft" else None)
    with db.uow() as uow:
        made = holds.reserve(uow, reservations.line_requests(uow, lines), **kwargs)
        uow.commit()
    return made


def avail(db: Database, sku: str, location: str) -> int:
    with db.uow(readonly=True) as uow:
        return availability.availability(uow, [sku], locations=[location])[0].available


def ledger_rows(db: Database) -> int:
    with db.uow(readonly=True) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(movements)).scalar_one())


def events(db: Database, event_type: str) -> int:
    with db.uow(readonly=True) as uow:
        query = select(func.count()).select_from(outbox).where(outbox.c.event_type == event_type)
        return int(uow.conn.execute(query).scalar_one())


# -- on-hand movements ----------------------------------------------------------------------------
def test_receive_creates_the_balance_and_a_ledger_row(inv: Database) -> None:
    change = run(inv, service.receive, "SKU-1", "ST-01", 12, reference="ASN-1")
    run(inv, service.receive, "SKU-1", "ST-01", 3)
    assert (change.on_hand, change.available) == (12, 12)
    assert avail(inv, "SKU-1", "ST-01") == 15
    with inv.uow(readonly=True) as uow:
        page = service.list_movements(uow, sku="SKU-1", location="ST-01")
    assert [(m.kind, m.on_hand_delta, m.reference) for m in page.items] == [
        ("receipt", 12, "ASN-1"),
        ("receipt", 3, None),
    ]
    assert events(inv, "inventory.availability_changed") == 2


def test_sale_return_and_adjustments_move_on_hand(inv: Database) -> None:
    receive(inv, "SKU-1", "ST-01", 10)
    run(inv, service.record_sale, "SKU-1", "ST-01", 4)
    run(inv, service.record_return, "SKU-1", "ST-01", 1)
    run(inv, service.adjust, "SKU-1", "ST-01", -2, reason_code="shrink")
    run(inv, service.adjust, "SKU-1", "ST-01", -1, reason_code="torn", kind=MovementKind.DAMAGE)
    run(inv, service.adjust, "SKU-1", "ST-01", 3, reason_code="found")
    assert avail(inv, "SKU-1", "ST-01") == 7


def test_stock_cannot_go_below_what_is_reserved(inv: Database) -> None:
    receive(inv, "SKU-1", "ST-01", 5)
    hold(inv, [("SKU-1", "ST-01", 3)])
    with pytest.raises(InsufficientStock) as err:
        run(inv, service.record_sale, "SKU-1", "ST-01", 3)
    assert "only 2" in err.value.detail
    with pytest.raises(InsufficientStock):
        run(inv, service.adjust, "SKU-1", "ST-01", -3, reason_code="shrink")
    run(inv, service.record_sale, "SKU-1", "ST-01", 2)
    assert avail(inv, "SKU-1", "ST-01") == 0


def test_selling_from_an_empty_location_is_refused_and_changes_nothing(inv: Database) -> None:
    with pytest.raises(InsufficientStock):
        run(inv, service.record_sale, "SKU-2", "ST-02", 1)
    with inv.uow(readonly=True) as uow:
        assert service.list_movements(uow).items == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda uow: service.receive(uow, "NOPE", "ST-01", 1), "sku"),
        (lambda uow: service.receive(uow, "SKU-1", "NOPE", 1), "location"),
        (lambda uow: service.receive(uow, "SKU-1", "ST-01", 0), "quantity"),
        (lambda uow: service.receive(uow, "SKU-1", "ST-01", 2.5), "quantity"),
        (lambda uow: service.receive(uow, "SKU-1", "ST-01", 10**9), "quantity"),
        (lambda uow: service.adjust(uow, "SKU-1", "ST-01", 0, reason_code="x"), "quantity"),
        (lambda uow: service.adjust(uow, "SKU-1", "ST-01", -1, reason_code=""), "reason_code"),
        (
            lambda uow: service.adjust(
                uow, "SKU-1", "ST-01", 2, reason_code="x", kind=MovementKind.DAMAGE
            ),
            "quantity",
        ),
    ],
)
def test_bad_input_names_the_field(inv: Database, call: Any, field: str) -> None:
    with pytest.raises(ValidationFailed) as err, inv.uow() as uow:
        call(uow)
    assert err.value.errors[0].field == field


def test_buffer_is_held_back_from_availability(inv: Database) -> None:
    receive(inv, "SKU-1", "ST-01", 10)
    run(inv, service.set_buffer, "SKU-1", "ST-01", 4)
    assert avail(inv, "SKU-1", "ST-01") == 6
    with pytest.raises(InsufficientStock) as err:
        hold(inv, [("SKU-1", "ST-01", 7)])
    assert err.value.errors[0].reason == "only 6 available"
    hold(inv, [("SKU-1", "ST-01", 6)])


# -- reservations ---------------------------------------------------------------------------------
def test_reserve_holds_every_line_and_announces_it(inv: Database) -> None:
    receive(inv, "SKU-1", "ST-01", 5)
    receive(inv, "SKU-2", "DC-01", 5)
    made = hold(
        inv,
        [("SKU-2", "DC-01", 2), ("SKU-1", "ST-01", 1), ("SKU-1", "ST-01", 2)],
        channel="WEB",
        reference="cart-9",
    )
    assert made.status == "active" and made.kind == "soft"
    assert made.expires_at == inv.clock.now() + MINUTES_15
    assert [(ln.sku, ln.location, ln.quantity) for ln in made.lines] == [
        ("SKU-2", "DC-01", 2),
        ("SKU-1", "ST-01", 3),
    ]
    assert avail(inv, "SKU-1", "ST-01") == 2 and avail(inv, "SKU-2", "DC-01") == 3
    assert events(inv, "inventory.reserved") == 1


def test_a_short_line_fails_the_whole_reservation(inv: Database) -> None:
    receive(inv, "SKU-1", "ST-01", 5)
    receive(inv, "SKU-2", "ST-01", 1)
    with pytest.raises(InsufficientStock) as err:
        hold(inv, [("SKU-1", "ST-01", 2), ("SKU-3", "ST-01", 1), ("SKU-2", "ST-01", 1)])
    assert err.value.errors[0].field == "lines.1.quantity"
    assert err.value.errors[0].reason == "only 0 available"
    assert avail(inv, "SKU-1", "ST-01") == 5 and avail(inv, "SKU-2", "ST-01") == 1
    with inv.uow(readonly=True) as uow:
        count = select(func.count()).select_from(reservation_table)
        assert uow.conn.execute(count).scalar_one() == 0


def test_a_client_id_is_honoured_once(inv: Database) -> None:
    receive(inv, "SKU-1", "ST-01", 5)
    rid = new_id()
    assert hold(inv, [("SKU-1", "ST-01", 1)], reservation_id=rid).id == rid
    with pytest.raises(Conflict):
        hold(inv, [("SKU-1", "ST-01", 1)], reservation_id=rid)
    with pytest.raises(ValidationFailed):
        hold(inv, [("SKU-1", "ST-01", 1)], reservation_id="not-a-ulid")


def test_lapsed_holds_are_ignored_before_the_sweep_and_swept_by_the_next_reserve(
    inv: Database, clock: FrozenClock
) -> None:
    receive(inv, "SKU-1", "ST-01", 3)
    first = hold(inv, [("SKU-1", "ST-01", 3)])
    assert avail(inv, "SKU-1", "ST-01") == 0
    clock.advance(MINUTES_15)
    assert avail(inv, "SKU-1", "ST-01") == 3  # expired, not yet swept
    with inv.uow(readonly=True) as uow:
        assert reservations.get_reservation_or_raise(uow, first.id).status == "expired"
    hold(inv, [("SKU-1", "ST-01", 2)])  # sweeps the lapsed hold in the same transaction
    assert avail(inv, "SKU-1", "ST-01") == 1
    with inv.uow(readonly=True) as uow:
        status = select(reservation_table.c.status).where(reservation_table.c.id == first.id)
        assert uow.conn.execute(status).scalar_one() == "expired"
    assert events(inv, "inventory.released") == 1


def test_the_sweeper_expires_only_what_is_due(inv: Database, clock: FrozenClock) -> None:
    receive(inv, "SKU-1", "ST-01", 10)
    hold(inv, [("SKU-1", "ST-01", 1)], ttl=timedelta(minutes=5))
    hold(inv, [("SKU-1", "ST-01", 2)], ttl=timedelta(minutes=30))
    hold(inv, [("SKU-1", "ST-01", 3)], kind="order")
    clock.advance(timedelta(minutes=10))
    assert run(inv, reservations.expire_due) == 1
    assert run(inv, reservations.expire_due) == 0
    assert avail(inv, "SKU-1", "ST-01") == 5


def test_extend_release_commit_and_fulfil(inv: Database, clock: FrozenClock) -> None:
    receive(inv, "SKU-1", "ST-01", 10)
    soft = hold(inv, [("SKU-1", "ST-01", 2)])
    clock.advance(timedelta(minutes=10))
    extended = run(inv, reservations.extend, soft.id, timedelta(minutes=15))
    assert extended.expires_at == clock.now() + MINUTES_15
    clock.advance(timedelta(minutes=10))
    assert avail(inv, "SKU-1", "ST-01") == 8  # still held thanks to the extension
    run(inv, reservations.release, soft.id)
    with pytest.raises(Conflict, match="already released"):
        run(inv, reservations.release, soft.id)
    order = hold(inv, [("SKU-1", "ST-01", 4)], kind="order", reference="SO-1")
    with pytest.raises(Conflict):
        run(inv, reservations.extend, order.id, MINUTES_15)
    with pytest.raises(Conflict, match="already an order reservation"):
        run(inv, holds.commit, order.id)
    done = run(inv, reservations.fulfil, order.id, actor="test")
    assert done.status == "fulfilled"
    assert avail(inv, "SKU-1", "ST-01") == 6
    with pytest.raises(Conflict, match="already fulfilled"):
        run(inv, reservations.fulfil, order.id)
    with inv.uow(readonly=True) as uow:
        last = service.list_movements(uow, sku="SKU-1").items[-1]
    assert (last.kind, last.on_hand_delta, last.reference) == ("sale", -4, "SO-1")


def test_commit_turns_a_cart_hold_into_an_order_hold(inv: Database, clock: FrozenClock) -> None:
    receive(inv, "SKU-1", "ST-01", 10)
    soft = hold(inv, [("SKU-1", "ST-01", 3)])
    before = ledger_rows(inv)
    committed = run(inv, holds.commit, soft.id)
    assert (committed.kind, committed.status, committed.expires_at) == ("order", "active", None)
    assert [(ln.sku, ln.location, ln.quantity) for ln in committed.lines] == [("SKU-1", "ST-01", 3)]
    clock.advance(timedelta(days=30))  # an order hold does not lapse
    assert run(inv, reservations.expire_due) == 0
    assert avail(inv, "SKU-1", "ST-01") == 7
    assert ledger_rows(inv) == before  # committing moves no stock
    with pytest.raises(Conflict, match="already an order reservation"):
        run(inv, holds.commit, soft.id)
    assert run(inv, reservations.fulfil, soft.id).status == "fulfilled"
    assert avail(inv, "SKU-1", "ST-01") == 7 and ledger_rows(inv) == before + 1


def test_a_lapsed_hold_can_be_neither_extended_nor_committed(
    inv: Database, clock: FrozenClock
) -> None:
    receive(inv, "SKU-1", "ST-01", 10)
    soft = hold(inv, [("SKU-1", "ST-01", 2)])
    clock.advance(MINUTES_15)
    for call in (
        holds.commit,
        reservations.fulfil,
        lambda uow, rid: reservations.extend(uow, rid, MINUTES_15),
    ):
        with pytest.raises(Conflict, match="expired"):
            run(inv, call, soft.id)
    run(inv, reservations.release, soft.id)  # giving it back is still fine
    assert avail(inv, "SKU-1", "ST-01") == 10


def test_someone_elses_reservation_is_not_found(inv: Database) -> None:
    receive(inv, "SKU-1", "ST-01", 10)
    made = hold(inv, [("SKU-1", "ST-01", 2)], owner="staff:A", channel="WEB")
    for kwargs in ({"owner": "staff:B"}, {"channel": "POS"}):
        with pytest.raises(NotFound):
            run(inv, reservations.release, made.id, **kwargs)
    with pytest.raises(NotFound):
        run(inv, holds.commit, new_id())
    with pytest.raises(NotFound):
        run(inv, holds.commit, made.id, owner="staff:B")
    with pytest.raises(NotFound):
        run(inv, reservations.fulfil, made.id, owner="staff:B")
    with pytest.raises(NotFound):
        run(inv, reservations.release, "../etc/passwd")
    run(inv, reservations.release, made.id, owner="staff:A", channel="WEB")


# -- availability ---------------------------------------------------------------------------------
def test_availability_by_locations_channel_and_in_bulk(inv: Database) -> None:
    receive(inv, "SKU-1", "DC-01", 7)
    receive(inv, "SKU-1", "ST-01", 2)
    receive(inv, "SKU-1", "ST-02", 5)
    receive(inv, "SKU-2", "ST-01", 1)
    with inv.uow(readonly=True) as uow:
        web = availability.availability(uow, ["SKU-1", "SKU-2", "SKU-3"], channel="WEB")
        everywhere = availability.availability(uow, ["SKU-1"])
        two = availability.availability(uow, ["SKU-1"], locations=["ST-02", "ST-01"])
    assert [(a.sku, a.available) for a in web] == [("SKU-1", 9), ("SKU-2", 1), ("SKU-3", 0)]
    assert [b.location for b in web[0].locations] == ["DC-01", "ST-01"]
    assert everywhere[0].available == 14
    assert [(b.location, b.available) for b in two[0].locations] == [("ST-02", 5), ("ST-01", 2)]


def test_availability_refuses_unknown_references(inv: Database) -> None:
    with inv.uow(readonly=True) as uow:
        with pytest.raises(ValidationFailed) as err:
            availability.availability(uow, ["SKU-1", "NOPE"])
        assert err.value.errors[0].field == "sku.1"
        with pytest.raises(ValidationFailed) as err:
            availability.availability(uow, ["SKU-1"], locations=["NOPE"])
        assert err.value.errors[0].field == "location.0"
        with pytest.raises(NotFound):
            availability.availability(uow, ["SKU-1"], channel="NOPE")


def test_a_lapsed_hold_does_not_block_a_shelf_sale(inv: Database, clock: FrozenClock) -> None:
    receive(inv, "SKU-1", "ST-01", 2)
    receive(inv, "SKU-2", "ST-01", 5)
    hold(inv, [("SKU-1", "ST-01", 2), ("SKU-2", "ST-01", 1)])
    with pytest.raises(InsufficientStock):
        run(inv, service.record_sale, "SKU-1", "ST-01", 1)
    clock.advance(MINUTES_15)
    run(inv, service.record_sale, "SKU-1", "ST-01", 2)  # frees both lines of the lapsed hold
    assert avail(inv, "SKU-1", "ST-01") == 0 and avail(inv, "SKU-2", "ST-01") == 5


def test_a_channel_holds_only_where_it_is_served(inv: Database) -> None:
    receive(inv, "SKU-1", "ST-02", 5)
    with pytest.raises(ValidationFailed) as err:
        hold(inv, [("SKU-1", "DC-01", 1), ("SKU-1", "ST-02", 1)], channel="WEB")
    assert [e.field for e in err.value.errors] == ["lines.1.location"]
    with pytest.raises(ValidationFailed) as err:
        hold(inv, [("SKU-1", "ST-02", 1)], channel="NOPE")
    assert err.value.errors[0].field == "channel"


def test_an_expiry_picked_before_a_commit_does_not_undo_it(
    inv: Database, clock: FrozenClock
) -> None:
    """The sweeper (or a reserve freeing lapsed holds) picks a soft hold, the shopper's checkout
    commits it just before it lapses, and then the expiry reaches the row: the order hold must
    survive, or its units would be sold twice."""
    from onestore.inventory.model import ReservationStatus

    receive(inv, "SKU-1", "ST-01", 5)
    soft = hold(inv, [("SKU-1", "ST-01", 5)])
    clock.advance(MINUTES_15 - timedelta(seconds=1))
    run(inv, holds.commit, soft.id)
    clock.advance(timedelta(seconds=2))  # the expirer's "now": past the old expiry
    assert run(inv, reservations._free, [soft.id], ReservationStatus.EXPIRED) == {}
    kept = run(inv, reservations.get_reservation_or_raise, soft.id)
    assert (kept.kind, kept.status) == ("order", "active")
    assert avail(inv, "SKU-1", "ST-01") == 0
