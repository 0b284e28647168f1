"""Idempotency keys recorded for many requests in one transaction (the reservation desk):
one statement at commit, and a key that already has a row stops the whole commit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select

from onestore.db import idempotency
from onestore.db.database import Database
from onestore.db.tables import idempotency_keys, outbox
from onestore.kernel.events import DomainEvent


def _count(db: Database, table: Any) -> int:
    with db.uow(readonly=True) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_keys_recorded_together_are_written_in_one_statement_at_commit(db: Database) -> None:
    inserts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO idempotency_keys"):
            inserts.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.uow() as uow:
            for n in range(5):
                idempotency.record_at_commit(uow, "staff:1|POST /r", f"k{n}", "h", 201, f"{n}")
            assert inserts == []  # nothing written before the commit
            uow.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(inserts) == 1
    for n in range(5):
        stored = idempotency.claim(db, "staff:1|POST /r", f"k{n}", "h")
        assert stored == idempotency.StoredResponse(201, f"{n}")


def test_a_key_that_already_has_a_row_stops_the_whole_commit(db: Database) -> None:
    with db.uow() as uow:
        idempotency.record_at_commit(uow, "s", "taken", "h", 200, "first")
        uow.commit()
    with pytest.raises(idempotency.KeyTaken) as caught, db.uow() as uow:
        uow.emit(DomainEvent("test.change", "thing", "1"))  # the business change beside it
        idempotency.record_at_commit(uow, "s", "fresh", "h", 200, "x")
        idempotency.record_at_commit(uow, "s", "taken", "h", 200, "second")
        uow.commit()
    assert caught.value.keys == [("s", "taken")]
    assert _count(db, outbox) == 0  # nothing of that transaction committed
    assert _count(db, idempotency_keys) == 1
    assert idempotency.claim(db, "s", "taken", "h") == idempotency.StoredResponse(200, "first")


def test_one_key_twice_in_one_transaction_is_refused_before_writing(db: Database) -> None:
    """ON CONFLICT DO NOTHING would keep the first row and report the key as written for
    both: only running the two apart can say which one owns it."""
    with pytest.raises(idempotency.KeyTaken), db.uow() as uow:
        idempotency.record_at_commit(uow, "s", "twice", "h", 201, "a")
        idempotency.record_at_commit(uow, "s", "twice", "h", 201, "b")
        uow.commit()
    assert _count(db, idempotency_keys) == 0
