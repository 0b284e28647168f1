"""Passwords are Argon2id; ten failures lock an account for thirty minutes (PCI DSS 8.3.4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import extract_parameters
from sqlalchemy import select

from onestore.auth import service
from onestore.auth.model import Grant, Role
from onestore.auth.passwords import hash_password, verify_password
from onestore.auth.service import LoginResult
from onestore.auth.tables import staff_users
from onestore.db.database import Database
from onestore.kernel.clock import FrozenClock
from onestore.kernel.errors import Conflict, NotAuthenticated, TooManyAttempts, ValidationFailed

PASSWORD = "correct horse battery"


def test_hash_is_argon2id_with_strong_parameters() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    params = extract_parameters(hashed)
    assert params.memory_cost >= 19_456  # OWASP minimum for Argon2id (19 MiB)
    assert params.time_cost >= 2
    assert PASSWORD not in hashed
    assert hash_password(PASSWORD) != hashed  # salted


@pytest.fixture(scope="module")
def real_hash() -> str:
    return hash_password(PASSWORD)


@pytest.mark.parametrize(
    ("stored", "given", "ok"),
    [
        ("hash-of-password", PASSWORD, True),
        ("hash-of-password", PASSWORD + " ", False),
        ("hash-of-password", "", False),
        (None, PASSWORD, False),  # unknown user: still verified against a dummy, still refused
        ("not-a-hash", PASSWORD, False),
        ("$argon2id$v=19$m=65536,t=3,p=4$garbage", PASSWORD, False),
    ],
)
def test_verify(stored: str | None, given: str, ok: bool, real_hash: str) -> None:
    assert verify_password(real_hash if stored == "hash-of-password" else stored, given) is ok


def _user(db: Database, name: str = "alice", *, active: bool = True) -> str:
    with db.uow() as uow:
        user_id = service.create_staff_user(
            uow,
            username=name,
            display_name=name,
            password=PASSWORD,
            grants=[Grant(Role.CASHIER, None)],
        )
        if not active:
            uow.conn.execute(
                staff_users.update().where(staff_users.c.id == user_id).values(is_active=False)
            )
        uow.commit()
    return user_id


def _login(db: Database, password: str, name: str = "alice") -> LoginResult:
    """What the API does: commit even when the attempt fails, so the failure counter sticks."""
    with db.uow() as uow:
        try:
            return service.authenticate_staff(uow, db.settings, name, password)
        finally:
            uow.commit()


def test_stored_hash_is_argon2id(db: Database) -> None:
    user_id = _user(db)
    with db.uow(readonly=True) as uow:
        stored = uow.conn.execute(
            select(staff_users.c.password_hash).where(staff_users.c.id == user_id)
        ).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_right_password_signs_in_wrong_one_does_not(db: Database) -> None:
    user_id = _user(db)
    assert _login(db, PASSWORD).user_id == user_id
    assert _login(db, PASSWORD, name="  ALICE ").user_id == user_id  # usernames are case-free
    with pytest.raises(NotAuthenticated):
        _login(db, "wrong password")
    with pytest.raises(NotAuthenticated):
        _login(db, PASSWORD, name="nobody")


def test_inactive_user_cannot_sign_in(db: Database) -> None:
    _user(db, active=False)
    with pytest.raises(NotAuthenticated):
        _login(db, PASSWORD)


def test_ten_failures_lock_the_account_for_thirty_minutes(db: Database, clock: FrozenClock) -> None:
    """One walk through the whole rule (Argon2 is slow on purpose, so one walk, not five)."""
    _user(db, "alice")
    _user(db, "bob")
    for _ in range(9):
        with pytest.raises(NotAuthenticated):
            _login(db, "wrong password")
    assert _login(db, PASSWORD)  # 9 failures: not locked, and a success resets the count
    for _ in range(9):
        with pytest.raises(NotAuthenticated):  # without the reset, the first would lock
            _login(db, "wrong password")
    with pytest.raises(NotAuthenticated):
        _login(db, "wrong password")  # the 10th failure since the last success locks
    # Locked: even the right password is refused, with a Retry-After of 30 minutes.
    with pytest.raises(TooManyAttempts) as caught:
        _login(db, PASSWORD)
    assert 29 * 60 < caught.value.retry_after <= 30 * 60 + 1
    assert _login(db, PASSWORD, name="bob")  # one account's failures never lock another
    clock.advance(timedelta(minutes=29, seconds=59))
    with pytest.raises(TooManyAttempts) as caught:
        _login(db, PASSWORD)
    assert caught.value.retry_after <= 2
    clock.advance(timedelta(seconds=1))
    # After the lock the count starts again from zero: one failure does not re-lock.
    with pytest.raises(NotAuthenticated):
        _login(db, "wrong password")
    assert _login(db, PASSWORD)


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("", PASSWORD, "username"),
        ("al ice", PASSWORD, "username"),
        ("x" * 65, PASSWORD, "username"),
        ("alice", "short", "password"),
        ("alice", "p" * 201, "password"),
    ],
)
def test_create_staff_user_validates(
    db: Database, username: str, password: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught, db.uow() as uow:
        service.create_staff_user(
            uow,
            username=username,
            display_name="A",
            password=password,
            grants=[Grant(Role.CASHIER, None)],
        )
    assert caught.value.errors[0].field == field


def test_usernames_are_unique_ignoring_case(db: Database) -> None:
    _user(db, "alice")
    with pytest.raises(Conflict):
        _user(db, "ALICE")


def test_concurrent_guesses_cannot_slip_past_the_limit(db: Database) -> None:
    """30 wrong guesses at once: exactly 10 are judged, the rest meet the lock (R49)."""
    import threading

    _user(db)
    start = threading.Barrier(30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess() -> None:
        start.wait()
        try:
            _login(db, "wrong password")
            result = "signed in"
        except NotAuthenticated:
            result = "refused"
        except TooManyAttempts:
            result = "locked"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["locked"] * 20 + ["refused"] * 10
    with pytest.raises(TooManyAttempts):
        _login(db, PASSWORD)
