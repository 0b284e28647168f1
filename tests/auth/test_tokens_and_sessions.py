"""API tokens (issue, use, revoke, expire) and back-office sessions (15 min idle, 12 h max)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from onestore.auth import service
from onestore.auth.model import Grant, PrincipalKind, Role
from onestore.auth.tables import api_tokens, staff_users, web_sessions
from onestore.db.database import Database
from onestore.kernel.clock import FrozenClock
from onestore.kernel.errors import NotFound


def _user(db: Database, name: str = "alice", role: Role = Role.CASHIER) -> str:
    with db.uow() as uow:
        user_id = service.create_staff_user(
            uow,
            username=name,
            display_name=name.title(),
            password="correct horse battery",
            grants=[Grant(role, None)],
        )
        uow.commit()
    return user_id


def _issue(db: Database, user_id: str, **kwargs) -> service.IssuedToken:
    with db.uow() as uow:
        issued = service.issue_token(uow, PrincipalKind.STAFF, user_id, "test", **kwargs)
        uow.commit()
    return issued


def _who(db: Database, token: str):
    with db.uow(readonly=True) as uow:
        found = service.token_principal(uow, token)
    return None if found is None else found[0]


# -- tokens -------------------------------------------------------------------------------------
def test_issued_token_identifies_its_user(db: Database) -> None:
    user_id = _user(db, role=Role.STORE_MANAGER)
    issued = _issue(db, user_id)
    principal = _who(db, issued.token)
    assert principal is not None
    assert (principal.kind, principal.id, principal.name) == (PrincipalKind.STAFF, user_id, "Alice")
    assert principal.roles == {Role.STORE_MANAGER}


def test_only_the_digest_of_a_token_is_stored(db: Database) -> None:
    issued = _issue(db, _user(db))
    with db.uow(readonly=True) as uow:
        row = uow.conn.execute(select(api_tokens).where(api_tokens.c.id == issued.id)).one()
    assert issued.token not in {str(v) for v in row}
    assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()


@pytest.mark.parametrize(
    "bad", ["", "ost_", "ost_not-a-real-token", "Bearer x", "x" * 300, "ost_" + "a" * 300]
)
def test_unknown_tokens_identify_nobody(db: Database, bad: str) -> None:
    _issue(db, _user(db))
    assert _who(db, bad) is None


def test_revoked_token_is_refused(db: Database) -> None:
    user_id = _user(db)
    issued = _issue(db, user_id)
    principal = _who(db, issued.token)
    assert principal is not None
    with db.uow() as uow:
        service.revoke_token(uow, principal, issued.id)
        uow.commit()
    assert _who(db, issued.token) is None
    with pytest.raises(NotFound), db.uow() as uow:  # revoking twice: nothing left to revoke
        service.revoke_token(uow, principal, issued.id)


def test_nobody_can_revoke_someone_elses_token(db: Database) -> None:
    alice_token = _issue(db, _user(db, "alice"))
    mallory = _who(db, _issue(db, _user(db, "mallory", Role.ADMIN)).token)
    assert mallory is not None
    with pytest.raises(NotFound), db.uow() as uow:
        service.revoke_token(uow, mallory, alice_token.id)
    assert _who(db, alice_token.token) is not None


def test_token_expires_at_its_expiry_time(db: Database, clock: FrozenClock) -> None:
    issued = _issue(db, _user(db), expires_at=clock.now() + timedelta(hours=1))
    clock.advance(timedelta(minutes=59, seconds=59))
    assert _who(db, issued.token) is not None
    clock.advance(timedelta(seconds=1))
    assert _who(db, issued.token) is None


def test_token_of_a_deactivated_user_is_refused(db: Database) -> None:
    user_id = _user(db)
    issued = _issue(db, user_id)
    with db.uow() as uow:
        uow.conn.execute(
            staff_users.update().where(staff_users.c.id == user_id).values(is_active=False)
        )
        uow.commit()
    assert _who(db, issued.token) is None


def test_customer_token_identifies_a_customer(db: Database) -> None:
    with db.uow() as uow:
        account = service.create_customer_account(
            uow, email="Shopper@Example.com", password="correct horse battery"
        )
        issued = service.issue_token(uow, PrincipalKind.CUSTOMER, account, "storefront")
        uow.commit()
    principal = _who(db, issued.token)
    assert principal is not None
    assert (principal.kind, principal.id, principal.name) == (
        PrincipalKind.CUSTOMER,
        account,
        "shopper@example.com",
    )
    assert principal.grants == ()


# -- page sessions ------------------------------------------------------------------------------
def _start(db: Database, user_id: str) -> service.PageSession:
    with db.uow() as uow:
        session = service.start_session(uow, user_id)
        uow.commit()
    return session


def _resume(db: Database, session_id: str) -> service.PageSession | None:
    with db.uow() as uow:
        session = service.resume_session(uow, db.settings, session_id)
        uow.commit()
    return session


def test_session_resumes_with_its_csrf_token(db: Database) -> None:
    user_id = _user(db)
    started = _start(db, user_id)
    resumed = _resume(db, started.session_id)
    assert resumed == started
    assert len(started.csrf_token) >= 32
    with db.uow(readonly=True) as uow:
        stored = uow.conn.execute(select(web_sessions.c.id_hash)).scalar_one()
    assert stored != started.session_id  # only the digest is kept


def test_session_ends_after_fifteen_idle_minutes(db: Database, clock: FrozenClock) -> None:
    session = _start(db, _user(db))
    clock.advance(timedelta(minutes=15))
    assert _resume(db, session.session_id) is not None  # exactly 15 min idle: still alive
    clock.advance(timedelta(minutes=15, seconds=1))
    assert _resume(db, session.session_id) is None


def test_activity_keeps_a_session_alive_but_not_past_twelve_hours(
    db: Database, clock: FrozenClock
) -> None:
    session = _start(db, _user(db))
    for _ in range(12 * 4):  # every 15 minutes for 12 hours
        clock.advance(timedelta(minutes=15))
        assert _resume(db, session.session_id) is not None
    clock.advance(timedelta(seconds=1))
    assert _resume(db, session.session_id) is None


def test_ended_session_is_refused(db: Database) -> None:
    session = _start(db, _user(db))
    with db.uow() as uow:
        service.end_session(uow, session.session_id)
        uow.commit()
    assert _resume(db, session.session_id) is None


@pytest.mark.parametrize("bad", ["", "nope", "x" * 101])
def test_unknown_session_ids_are_refused(db: Database, bad: str) -> None:
    _start(db, _user(db))
    assert _resume(db, bad) is None
