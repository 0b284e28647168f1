"""The unit of work: nothing sticks unless committed, and an exception undoes everything —
the business rows and the outbox rows written with them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onestore.auth import service as auth_service
from onestore.auth.model import Grant, Role
from onestore.auth.tables import staff_users
from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.kernel.events import DomainEvent


def _count(db: Database, table) -> int:
    with db.uow(readonly=True) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())


def _create_user(uow, name: str = "alice") -> str:
    user_id = auth_service.create_staff_user(
        uow,
        username=name,
        display_name=name.title(),
        password="correct horse battery",
        grants=[Grant(Role.CASHIER, None)],
    )
    uow.emit(DomainEvent("auth.staff_user_created", "staff_user", user_id))
    return user_id


def test_changes_without_commit_are_rolled_back(db: Database) -> None:
    with db.uow() as uow:
        _create_user(uow)
    assert _count(db, staff_users) == 0
    assert _count(db, outbox) == 0


def test_committed_changes_and_their_events_stay(db: Database) -> None:
    with db.uow() as uow:
        _create_user(uow)
        uow.commit()
    assert _count(db, staff_users) == 1
    assert _count(db, outbox) == 1


def test_an_exception_rolls_back_the_change_and_its_outbox_row(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.uow() as uow:
        _create_user(uow)
        raise Boom
    assert _count(db, staff_users) == 0
    assert _count(db, outbox) == 0


def test_explicit_rollback_discards_the_change(db: Database) -> None:
    with db.uow() as uow:
        _create_user(uow)
        uow.rollback()
    assert _count(db, staff_users) == 0


def test_after_commit_hooks_run_only_after_a_commit(db: Database) -> None:
    ran: list[str] = []
    with db.uow() as uow:
        uow.after_commit(lambda: ran.append("committed"))
        _create_user(uow, "bob")
        assert ran == []
        uow.commit()
        assert ran == []  # not before the block ends
    assert ran == ["committed"]
    with db.uow() as uow:
        uow.after_commit(lambda: ran.append("rolled back"))
        _create_user(uow, "carol")
    assert ran == ["committed"]


def test_events_committed_hook_runs_only_when_events_were_emitted(db: Database) -> None:
    calls: list[int] = []
    db.on_events_committed(lambda: calls.append(1))
    try:
        with db.uow() as uow:
            uow.commit()
        assert calls == []
        with db.uow() as uow:
            _create_user(uow)
            uow.commit()
        assert calls == [1]
        with db.uow() as uow:
            uow.emit(DomainEvent("x.y", "thing", "1"))
        assert calls == [1]
    finally:
        db.on_events_committed(None)


def test_connection_is_only_usable_inside_the_block(db: Database) -> None:
    uow = db.uow()
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.conn
    with uow:
        assert uow.conn is not None
        assert uow.now() == db.clock.now()
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.conn


def test_pg_a_unit_of_work_that_need_not_be_durable_does_not_wait_for_the_disk(
    db: Database,
) -> None:
    """Bookkeeping that may be lost and redone (settling events nobody listens to) commits
    with synchronous_commit off; everything else keeps waiting for the WAL flush."""
    if db.dialect != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    with db.uow() as uow:
        assert uow.conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    with db.uow(durable=False) as uow:
        assert uow.conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        uow.commit()
    with db.uow() as uow:  # SET LOCAL: the pooled connection does not keep it
        assert uow.conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
