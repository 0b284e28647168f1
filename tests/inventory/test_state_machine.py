"""Any sequence of receive / sale / adjust / buffer / reserve / extend / release / commit /
fulfil / transfer (create, ship, receive, cancel) / cycle count (count, post) / clock advance /
sweep keeps the books right, and every decision matches a plain Python shadow
of the rules (so "succeeded" and "refused" are checked too, not only the totals).

Invariants after every step, for every balance: the ledger sums to on hand, reserved equals
the units of active reservations (transfer holds included), in transit equals what shipped
transfers carry, and on hand = available + effective reserved + buffer whenever that leaves
available >= 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete

from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.inventory import availability, counts, holds, reservations, service, transfers
from onestore.inventory.model import InsufficientStock, MovementKind
from onestore.inventory.tables import (
    balances,
    count_lines,
    count_tasks,
    movements,
    reservation_lines,
    transfer_lines,
)
from onestore.inventory.tables import reservations as reservation_table
from onestore.inventory.tables import transfers as transfer_table
from onestore.kernel.clock import FrozenClock
from onestore.kernel.errors import Conflict

from .conftest import assert_books_balance

SKUS = ["SKU-1", "SKU-2"]
LOCS = ["DC-01", "ST-01"]
Key = tuple[str, str]
keys_ = st.tuples(st.sampled_from(SKUS), st.sampled_from(LOCS))


@dataclass
class Hold:
    kind: str
    expires_at: datetime | None
    lines: dict[Key, int]
    status: str = "active"


@dataclass
class Move:
    """A transfer of one SKU: its source hold while open, then units in transit."""

    sku: str
    source: str
    destination: str
    quantity: int
    hold: Hold
    status: str = "open"


@dataclass
class Count:
    key: Key
    counted: int
    expected: int


@dataclass
class Shadow:
    on_hand: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    buffer: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    in_transit: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    holds: dict[str, Hold] = field(default_factory=dict)
    moves: dict[str, Move] = field(default_factory=dict)
    counts: dict[str, Count] = field(default_factory=dict)

    def all_holds(self) -> list[Hold]:
        return [*self.holds.values(), *(m.hold for m in self.moves.values())]

    def live(self, hold: Hold, now: datetime) -> bool:
        return hold.status == "active" and (hold.expires_at is None or hold.expires_at > now)

    def held(self, key: Key, now: datetime) -> int:
        return sum(h.lines.get(key, 0) for h in self.all_holds() if self.live(h, now))

    def sweep(self, keys: set[Key] | None, now: datetime) -> int:
        """Mark lapsed holds on ``keys`` (None: all) expired, as the service does; how many."""
        due = [
            h
            for h in self.all_holds()
            if h.status == "active"
            and not self.live(h, now)
            and (keys is None or set(h.lines) & keys)
        ]
        for hold in due:
            hold.status = "expired"
        return len(due)

    def available(self, key: Key, now: datetime) -> int:
        return self.on_hand[key] - self.held(key, now) - self.buffer[key]


def make_machine(db: Database, clock: FrozenClock) -> type[RuleBasedStateMachine]:
    class Inventory(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with db.uow() as uow:
                for table in (
                    count_lines,
                    count_tasks,
                    transfer_lines,
                    transfer_table,
                    reservation_lines,
                    reservation_table,
                    movements,
                    balances,
                    outbox,
                ):
                    uow.conn.execute(delete(table))
                uow.commit()
            self.shadow = Shadow()

        def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
            with db.uow() as uow:
                result = fn(uow, *args, **kwargs)
                uow.commit()
            return result

        @initialize(quantity=st.integers(0, 8))
        def opening_stock(self, quantity: int) -> None:
            """Start with stock everywhere, so reservations mostly succeed and can lapse."""
            if quantity:
                for key in [(s, loc) for s in SKUS for loc in LOCS]:
                    self.receive(key, quantity)

        @rule(key=keys_, quantity=st.integers(1, 6))
        def receive(self, key: Key, quantity: int) -> None:
            self._run(service.receive, *key, quantity)
            self.shadow.on_hand[key] += quantity

        @rule(key=keys_, quantity=st.integers(1, 6))
        def sell(self, key: Key, quantity: int) -> None:
            ok = self.shadow.on_hand[key] - self.shadow.held(key, clock.now()) >= quantity
            try:
                self._run(service.record_sale, *key, quantity)
            except InsufficientStock:
                assert not ok
                return
            assert ok
            self.shadow.on_hand[key] -= quantity
            self.shadow.sweep({key}, clock.now())

        @rule(key=keys_, delta=st.integers(-4, 4).filter(bool), damage=st.booleans())
        def adjust(self, key: Key, delta: int, damage: bool) -> None:
            kind = MovementKind.DAMAGE if damage and delta < 0 else MovementKind.ADJUSTMENT
            ok = self.shadow.on_hand[key] + delta - self.shadow.held(key, clock.now()) >= 0
            try:
                self._run(service.adjust, *key, delta, reason_code="count", kind=kind)
            except InsufficientStock:
                assert delta < 0 and not ok
                return
            assert ok or delta > 0
            self.shadow.on_hand[key] += delta
            if delta < 0:
                self.shadow.sweep({key}, clock.now())

        @rule(key=keys_, buffer=st.integers(0, 3))
        def set_buffer(self, key: Key, buffer: int) -> None:
            self._run(service.set_buffer, *key, buffer)
            self.shadow.buffer[key] = buffer

        @rule(
            lines=st.lists(st.tuples(keys_, st.integers(1, 4)), min_size=1, max_size=3),
            order=st.booleans(),
            minutes=st.integers(1, 30),
        )
        def reserve(self, lines: list[tuple[Key, int]], order: bool, minutes: int) -> None:
            wanted: dict[Key, int] = defaultdict(int)
            for key, quantity in lines:
                wanted[key] += quantity
            now = clock.now()
            ok = all(self.shadow.available(k, now) >= q for k, q in wanted.items())
            kind = "order" if order else "soft"
            ttl = None if order else timedelta(minutes=minutes)

            def act(uow: Any) -> Any:
                requests = reservations.line_requests(uow, [(*k, q) for k, q in lines])
                return holds.reserve(uow, requests, kind=kind, ttl=ttl)

            try:
                made = self._run(act)
            except InsufficientStock:
                assert not ok
                return
            assert ok
            self.shadow.sweep(set(wanted), now)  # the reserve expired lapsed holds it touched
            self.shadow.holds[made.id] = Hold(kind, None if ttl is None else now + ttl, wanted)

        def _pick(self, data: st.DataObject) -> str | None:
            if not self.shadow.holds:
                return None
            return data.draw(st.sampled_from(sorted(self.shadow.holds)))

        @precondition(lambda self: bool(self.shadow.holds))
        @rule(data=st.data(), minutes=st.integers(1, 30))
        def extend(self, data: st.DataObject, minutes: int) -> None:
            rid = self._pick(data)
            if rid is None:
                return
            hold = self.shadow.holds[rid]
            ok = hold.kind == "soft" and self.shadow.live(hold, clock.now())
            try:
                self._run(reservations.extend, rid, timedelta(minutes=minutes))
            except Conflict:
                assert not ok
                return
            assert ok
            hold.expires_at = clock.now() + timedelta(minutes=minutes)

        @precondition(lambda self: bool(self.shadow.holds))
        @rule(data=st.data())
        def release(self, data: st.DataObject) -> None:
            rid = self._pick(data)
            if rid is None:
                return
            hold = self.shadow.holds[rid]
            try:
                self._run(reservations.release, rid)
            except Conflict:
                assert hold.status != "active"
                return
            assert hold.status == "active"
            hold.status = "released"

        @precondition(lambda self: bool(self.shadow.holds))
        @rule(data=st.data())
        def commit(self, data: st.DataObject) -> None:
            rid = self._pick(data)
            if rid is None:
                return
            hold = self.shadow.holds[rid]
            ok = hold.kind == "soft" and self.shadow.live(hold, clock.now())
            try:
                self._run(holds.commit, rid)
            except Conflict:
                assert not ok
                return
            assert ok
            hold.kind, hold.expires_at = "order", None

        @precondition(lambda self: bool(self.shadow.holds))
        @rule(data=st.data())
        def fulfil(self, data: st.DataObject) -> None:
            rid = self._pick(data)
            if rid is None:
                return
            hold = self.shadow.holds[rid]
            try:
                self._run(reservations.fulfil, rid)
            except Conflict:
                assert not self.shadow.live(hold, clock.now())
                return
            assert self.shadow.live(hold, clock.now())
            hold.status = "fulfilled"
            for key, quantity in hold.lines.items():
                self.shadow.on_hand[key] -= quantity

        @rule(sku=st.sampled_from(SKUS), outbound=st.booleans(), quantity=st.integers(1, 4))
        def create_transfer(self, sku: str, outbound: bool, quantity: int) -> None:
            source, destination = LOCS if outbound else LOCS[::-1]
            key = (sku, source)
            ok = self.shadow.available(key, clock.now()) >= quantity
            try:
                made = self._run(transfers.create, source, destination, [(sku, quantity)])
            except InsufficientStock:
                assert not ok
                return
            assert ok and made.status == "open"
            self.shadow.sweep({key}, clock.now())
            hold = Hold("order", None, {key: quantity})
            self.shadow.moves[made.id] = Move(sku, source, destination, quantity, hold)

        def _move(self, data: st.DataObject) -> tuple[str, Move] | None:
            if not self.shadow.moves:
                return None
            tid = data.draw(st.sampled_from(sorted(self.shadow.moves)))
            return tid, self.shadow.moves[tid]

        @precondition(lambda self: bool(self.shadow.moves))
        @rule(data=st.data())
        def ship_transfer(self, data: st.DataObject) -> None:
            picked = self._move(data)
            if picked is None:
                return
            tid, move = picked
            try:
                self._run(transfers.ship, tid, carrier="UPS")
            except Conflict:
                assert move.status != "open"
                return
            assert move.status == "open"
            move.status, move.hold.status = "shipped", "fulfilled"
            self.shadow.on_hand[(move.sku, move.source)] -= move.quantity
            self.shadow.in_transit[(move.sku, move.destination)] += move.quantity

        @precondition(lambda self: bool(self.shadow.moves))
        @rule(data=st.data(), difference=st.integers(-2, 1))
        def receive_transfer(self, data: st.DataObject, difference: int) -> None:
            picked = self._move(data)
            if picked is None:
                return
            tid, move = picked
            received = max(0, move.quantity + difference)
            reason = None if received == move.quantity else "short"
            try:
                self._run(transfers.receive, tid, [(move.sku, received, reason)])
            except Conflict:
                assert move.status != "shipped"
                return
            assert move.status == "shipped"
            move.status = "received"
            self.shadow.in_transit[(move.sku, move.destination)] -= move.quantity
            self.shadow.on_hand[(move.sku, move.destination)] += received

        @precondition(lambda self: bool(self.shadow.moves))
        @rule(data=st.data())
        def cancel_transfer(self, data: st.DataObject) -> None:
            picked = self._move(data)
            if picked is None:
                return
            tid, move = picked
            try:
                self._run(transfers.cancel, tid)
            except Conflict:
                assert move.status != "open"
                return
            assert move.status == "open"
            move.status, move.hold.status = "cancelled", "released"

        @rule(key=keys_, counted=st.integers(0, 12))
        def count(self, key: Key, counted: int) -> None:
            """A counter counts one SKU at one location and enters it; posting comes later."""
            if any(c.key == key for c in self.shadow.counts.values()):
                with pytest.raises(Conflict, match="already on count task"):
                    self._run(counts.create_task, key[1], [key[0]])
                return
            task = self._run(counts.create_task, key[1], [key[0]])
            self._run(counts.enter_counts, task.id, [(key[0], counted)])
            self.shadow.counts[task.id] = Count(key, counted, self.shadow.on_hand[key])

        @precondition(lambda self: bool(self.shadow.counts))
        @rule(data=st.data())
        def post_count(self, data: st.DataObject) -> None:
            task_id = data.draw(st.sampled_from(sorted(self.shadow.counts)))
            entry = self.shadow.counts.pop(task_id)
            variance = entry.counted - entry.expected
            after = self.shadow.on_hand[entry.key] + variance
            ok = variance >= 0 or after - self.shadow.held(entry.key, clock.now()) >= 0
            try:
                self._run(counts.post, task_id)
            except Conflict:
                assert not ok
                self._run(counts.cancel, task_id)
                return
            assert ok
            self.shadow.on_hand[entry.key] = after
            if variance < 0:
                self.shadow.sweep({entry.key}, clock.now())

        @rule(minutes=st.integers(1, 20))
        def advance(self, minutes: int) -> None:
            clock.advance(timedelta(minutes=minutes))

        @rule()
        def sweep(self) -> None:
            expected = self.shadow.sweep(None, clock.now())
            assert self._run(reservations.expire_due) == expected

        @invariant()
        def books_balance(self) -> None:
            assert_books_balance(db)
            now = clock.now()
            with db.uow(readonly=True) as uow:
                answer = availability.availability(uow, SKUS, locations=LOCS)
            for sku_answer in answer:
                for b in sku_answer.locations:
                    key = (b.sku, b.location)
                    assert b.on_hand == self.shadow.on_hand[key], key
                    assert b.reserved == self.shadow.held(key, now), key
                    assert b.buffer == self.shadow.buffer[key], key
                    assert b.in_transit == self.shadow.in_transit[key], key
                    expected = self.shadow.available(key, now)
                    assert b.available == max(0, expected), key
                    if expected >= 0:
                        assert b.on_hand == b.available + b.reserved + b.buffer

    return Inventory


def test_any_sequence_keeps_the_books(stock: Database, clock: FrozenClock, backend: str) -> None:
    machine = make_machine(stock, clock)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=60 if backend == "sqlite" else 25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
