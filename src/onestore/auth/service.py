"""Auth use cases: staff users, password login with lockout, API tokens, page sessions.

Secrets never touch the database in clear: passwords are Argon2id hashes, API tokens and
session ids are stored as SHA-256 digests (they are long random values, so a fast hash is
enough and lets us look them up by index).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Column, Table, and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from onestore.auth.model import Grant, Principal, PrincipalKind, Role, StaffUser
from onestore.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from onestore.auth.tables import (
    api_tokens,
    customer_accounts,
    role_assignments,
    staff_users,
    web_sessions,
)
from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import (
    Conflict,
    FieldError,
    NotAuthenticated,
    NotFound,
    OnestoreError,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from onestore.kernel.ids import new_id
from onestore.settings import Settings

T = TypeVar("T")

TOKEN_PREFIX = "ost_"  # noqa: S105 - a public prefix, not a secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 200:
        raise ValidationFailed.on("password", "must be at most 200 characters")


# -- staff users -----------------------------------------------------------------------------
def create_staff_user(
    uow: UnitOfWork,
    *,
    username: str,
    display_name: str,
    password: str,
    grants: list[Grant],
    user_id: str | None = None,
) -> str:
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise ValidationFailed.on("username", "use 1-64 letters, digits, '.', '-' or '_'")
    _check_password_strength(password)
    exists = uow.conn.execute(select(staff_users.c.id).where(staff_users.c.username == username))
    if exists.first() is not None:
        raise Conflict(f"username {username!r} is taken", errors=[])
    user_id = user_id or new_id()
    try:
        uow.conn.execute(
            staff_users.insert().values(
                id=user_id,
                username=username,
                display_name=display_name,
                password_hash=hash_password(password),
                is_active=True,
                failed_logins=0,
                created_at=uow.now(),
            )
        )
    except IntegrityError:  # a concurrent request took the name after our check (PostgreSQL)
        raise Conflict(f"username {username!r} is taken") from None
    seen: set[Grant] = set()
    for index, grant in enumerate(grants):
        if grant in seen:  # a repeated grant is one grant, not a unique-constraint error
            continue
        seen.add(grant)
        try:
            uow.conn.execute(
                role_assignments.insert().values(
                    id=new_id(),
                    user_id=user_id,
                    role=grant.role.value,
                    location_id=grant.location_id,
                )
            )
        except IntegrityError:  # the only constraint left to break: the location must exist
            raise ValidationFailed.on(
                f"grants.{index}.location_id", f"no location with id {grant.location_id!r}"
            ) from None
    return user_id


def list_staff(uow: UnitOfWork, scope: frozenset[str] | None) -> list[StaffUser]:
    """Staff users, or with a ``scope`` only those holding a grant at one of its locations."""
    query = select(staff_users).order_by(staff_users.c.username)
    if scope is not None:
        query = query.where(
            staff_users.c.id.in_(
                select(role_assignments.c.user_id).where(role_assignments.c.location_id.in_(scope))
            )
        )
    users = uow.conn.execute(query).all()
    grants: dict[str, list[Grant]] = {u.id: [] for u in users}
    if users:
        rows = uow.conn.execute(
            select(
                role_assignments.c.user_id, role_assignments.c.role, role_assignments.c.location_id
            )
            .where(role_assignments.c.user_id.in_(list(grants)))
            .order_by(role_assignments.c.role, role_assignments.c.location_id)
        )
        for row in rows:
            grants[row.user_id].append(Grant(Role(row.role), row.location_id))
    return [
        StaffUser(
            u.id, u.username, u.display_name, u.is_active, as_utc(u.created_at), tuple(grants[u.id])
        )
        for u in users
    ]


def get_staff_or_raise(uow: UnitOfWork, user_id: str) -> StaffUser:
    user = uow.conn.execute(select(staff_users).where(staff_users.c.id == user_id)).first()
    if user is None:
        raise NotFound(f"no staff user {user_id}")
    return StaffUser(
        user.id,
        user.username,
        user.display_name,
        user.is_active,
        as_utc(user.created_at),
        _grants_of(uow, user_id),
    )


def check_grantable(granter_scope: frozenset[str] | None, grants: list[Grant]) -> None:
    """A store-scoped user may grant store roles at their own stores only, never admin."""
    if granter_scope is None:
        return
    for i, grant in enumerate(grants):
        if grant.role is Role.ADMIN or grant.location_id not in granter_scope:
            raise PermissionDenied(
                f"grants.{i}: you may only grant store roles at your own locations",
                errors=[FieldError(f"grants.{i}.location_id", "outside your locations")],
            )


def _grants_of(uow: UnitOfWork, user_id: str) -> tuple[Grant, ...]:
    rows = uow.conn.execute(
        select(role_assignments.c.role, role_assignments.c.location_id)
        .where(role_assignments.c.user_id == user_id)
        .order_by(role_assignments.c.role, role_assignments.c.location_id)
    )
    return tuple(Grant(Role(r.role), r.location_id) for r in rows)


def staff_principal(uow: UnitOfWork, user_id: str) -> Principal | None:
    user = uow.conn.execute(
        select(staff_users.c.id, staff_users.c.display_name, staff_users.c.is_active).where(
            staff_users.c.id == user_id
        )
    ).first()
    if user is None or not user.is_active:
        return None
    return Principal(PrincipalKind.STAFF, user.id, user.display_name, _grants_of(uow, user_id))


@dataclass(frozen=True, slots=True)
class LoginResult:
    user_id: str


def _check_password(
    uow: UnitOfWork, settings: Settings, table: Table, row: Any, password: str
) -> str:
    """Verify ``password`` for an account row of ``table``, with lockout; returns the row id.

    Failures are counted by an ``UPDATE … SET failed_logins = failed_logins + 1 RETURNING`` so
    concurrent guesses each see their own count (the row lock serialises them) and cannot slip
    past the limit; the failure that reaches the limit locks the account. The caller must commit
    even when this raises, so the count sticks.
    """
    now = uow.now()
    if row is not None and row.locked_until is not None and as_utc(row.locked_until) > now:
        retry = int((as_utc(row.locked_until) - now).total_seconds()) + 1
        raise TooManyAttempts("account locked after repeated failed logins", retry_after=retry)
    ok = verify_password(row.password_hash if row is not None else None, password)
    if row is not None and ok and row.is_active:
        if row.failed_logins or row.locked_until is not None:
            uow.conn.execute(
                update(table).where(table.c.id == row.id).values(failed_logins=0, locked_until=None)
            )
        return str(row.id)
    if row is not None:
        failures = uow.conn.execute(
            update(table)
            .where(table.c.id == row.id)
            .values(failed_logins=table.c.failed_logins + 1)
            .returning(table.c.failed_logins)
        ).scalar_one()
        if failures >= settings.login_max_failures:
            uow.conn.execute(
                update(table)
                .where(table.c.id == row.id)
                .values(
                    failed_logins=0,
                    locked_until=now + timedelta(minutes=settings.login_lockout_minutes),
                )
            )
    raise NotAuthenticated("wrong username or password")


def sign_in(
    db: Database,
    authenticate: Callable[[UnitOfWork], LoginResult],
    then: Callable[[UnitOfWork, str], T],
) -> T:
    """Check credentials and, on success, run ``then`` (issue a token, start a session).

    One transaction for both, so a token or session exists only for a good password; a failed
    check still commits, because the failure count behind the lockout has to stick.
    """
    with db.uow() as uow:
        try:
            result = authenticate(uow)
        except OnestoreError:
            uow.commit()
            raise
        outcome = then(uow, result.user_id)
        uow.commit()
    return outcome


def authenticate_staff(
    uow: UnitOfWork, settings: Settings, username: str, password: str
) -> LoginResult:
    """Check a staff password (see :func:`_check_password` for the lockout rule)."""
    return _authenticate(uow, settings, staff_users.c.username, username, password)


def _authenticate(
    uow: UnitOfWork, settings: Settings, login: Column[str], value: str, password: str
) -> LoginResult:
    table = login.table
    row = uow.conn.execute(
        select(table)
        .where(login == value.strip().lower())
        .with_for_update()  # concurrent guesses must see each other's count (PostgreSQL)
    ).first()
    return LoginResult(user_id=_check_password(uow, settings, table, row, password))


# -- customers ---------------------------------------------------------------------------------
def create_customer_account(uow: UnitOfWork, *, email: str, password: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationFailed.on("email", "must be an email address")
    _check_password_strength(password)
    if uow.conn.execute(
        select(customer_accounts.c.id).where(customer_accounts.c.email == email)
    ).first():
        raise Conflict("an account with this email exists")
    account_id = new_id()
    uow.conn.execute(
        customer_accounts.insert().values(
            id=account_id,
            email=email,
            password_hash=hash_password(password),
            is_active=True,
            failed_logins=0,
            created_at=uow.now(),
        )
    )
    return account_id


def authenticate_customer(
    uow: UnitOfWork, settings: Settings, email: str, password: str
) -> LoginResult:
    """Check a shopper's password, with the same lockout rule as staff."""
    return _authenticate(uow, settings, customer_accounts.c.email, email, password)


def customer_principal(uow: UnitOfWork, account_id: str) -> Principal | None:
    row = uow.conn.execute(
        select(customer_accounts.c.email, customer_accounts.c.is_active).where(
            customer_accounts.c.id == account_id
        )
    ).first()
    if row is None or not row.is_active:
        return None
    return Principal(PrincipalKind.CUSTOMER, account_id, row.email)


# -- API tokens --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: str
    token: str  # shown once; only its digest is stored


def issue_token(
    uow: UnitOfWork,
    principal_kind: PrincipalKind,
    principal_id: str,
    name: str,
    *,
    expires_at: datetime | None = None,
) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = new_id()
    uow.conn.execute(
        api_tokens.insert().values(
            id=token_id,
            principal_kind=principal_kind.value,
            principal_id=principal_id,
            name=name,
            token_hash=_digest(token),
            created_at=uow.now(),
            expires_at=expires_at,
        )
    )
    return IssuedToken(token_id, token)


def revoke_token(uow: UnitOfWork, principal: Principal, token_id: str) -> None:
    result = uow.conn.execute(
        update(api_tokens)
        .where(
            api_tokens.c.id == token_id,
            api_tokens.c.principal_id == principal.id,
            api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=uow.now())
    )
    if result.rowcount == 0:
        raise NotFound(f"no active token {token_id}")


_STAFF = PrincipalKind.STAFF.value
_CUSTOMER = PrincipalKind.CUSTOMER.value
_TOKEN_PRINCIPAL = (
    select(
        api_tokens.c.principal_kind,
        api_tokens.c.principal_id,
        api_tokens.c.revoked_at,
        api_tokens.c.expires_at,
        staff_users.c.display_name,
        staff_users.c.is_active.label("staff_active"),
        customer_accounts.c.email,
        customer_accounts.c.is_active.label("customer_active"),
        role_assignments.c.role,
        role_assignments.c.location_id,
    )
    .select_from(
        api_tokens.outerjoin(
            staff_users,
            and_(
                api_tokens.c.principal_kind == _STAFF, staff_users.c.id == api_tokens.c.principal_id
            ),
        )
        .outerjoin(
            customer_accounts,
            and_(
                api_tokens.c.principal_kind == _CUSTOMER,
                customer_accounts.c.id == api_tokens.c.principal_id,
            ),
        )
        .outerjoin(
            role_assignments,
            and_(
                api_tokens.c.principal_kind == _STAFF,
                role_assignments.c.user_id == api_tokens.c.principal_id,
            ),
        )
    )
    .where(api_tokens.c.token_hash == bindparam("digest"))
    .order_by(role_assignments.c.role, role_assignments.c.location_id)
)
"""Token, its staff user or customer account, and the staff grants: one query, because every
API request asks it (three queries before: a fifth of a reserve's server time)."""


def token_principal(uow: UnitOfWork, token: str) -> tuple[Principal, datetime | None] | None:
    """The token's principal and the token's expiry (None: it does not expire), or None if
    the token is unknown, revoked, expired or its user or account is inactive."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    rows = list(uow.conn.execute(_TOKEN_PRINCIPAL, {"digest": _digest(token)}))
    if not rows:
        return None
    row = rows[0]
    if row.revoked_at is not None:
        return None
    expires_at = None if row.expires_at is None else as_utc(row.expires_at)
    if expires_at is not None and expires_at <= uow.now():
        return None
    if row.principal_kind == _STAFF:
        if not row.staff_active:  # None: the user is gone
            return None
        grants = tuple(Grant(Role(r.role), r.location_id) for r in rows if r.role is not None)
        staff = Principal(PrincipalKind.STAFF, row.principal_id, row.display_name, grants)
        return staff, expires_at
    if not row.customer_active:
        return None
    return Principal(PrincipalKind.CUSTOMER, row.principal_id, row.email), expires_at


# -- page sessions -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PageSession:
    session_id: str  # the cookie value; only its digest is stored
    user_id: str
    csrf_token: str


def start_session(uow: UnitOfWork, user_id: str) -> PageSession:
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = uow.now()
    uow.conn.execute(
        web_sessions.insert().values(
            id_hash=_digest(session_id),
            user_id=user_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    return PageSession(session_id, user_id, csrf)


TOUCH_INTERVAL = timedelta(seconds=60)
"""``last_seen_at`` is rewritten at most this often, so page views are reads, not writes.

Idle time is measured from a ``last_seen_at`` that may lag by up to this much, so a session
can end up to a minute *before* the idle limit, never after it."""


def find_session(
    uow: UnitOfWork, settings: Settings, session_id: str
) -> tuple[PageSession, bool] | None:
    """The live session for a cookie and whether it is due a touch; expired or ended gives None.

    Read-only, so resolving a page request never waits for SQLite's write lock.
    """
    if not session_id or len(session_id) > 100:
        return None
    row = uow.conn.execute(
        select(web_sessions).where(web_sessions.c.id_hash == _digest(session_id))
    ).first()
    if row is None or row.ended_at is not None:
        return None
    now = uow.now()
    idle = now - as_utc(row.last_seen_at)
    age = now - as_utc(row.created_at)
    if idle > timedelta(minutes=settings.session_idle_minutes) or age > timedelta(
        hours=settings.session_max_hours
    ):
        return None
    return PageSession(session_id, row.user_id, row.csrf_token), idle >= TOUCH_INTERVAL


def touch_session(uow: UnitOfWork, session_id: str) -> None:
    """Record activity on a session (see :data:`TOUCH_INTERVAL`)."""
    uow.conn.execute(
        update(web_sessions)
        .where(web_sessions.c.id_hash == _digest(session_id))
        .values(last_seen_at=uow.now())
    )


def resume_session(uow: UnitOfWork, settings: Settings, session_id: str) -> PageSession | None:
    """Find the live session for a cookie and record the activity when due (write unit of work)."""
    found = find_session(uow, settings, session_id)
    if found is None:
        return None
    session, due = found
    if due:
        touch_session(uow, session_id)
    return session


def end_session(uow: UnitOfWork, session_id: str) -> None:
    uow.conn.execute(
        update(web_sessions)
        .where(web_sessions.c.id_hash == _digest(session_id), web_sessions.c.ended_at.is_(None))
        .values(ended_at=uow.now())
    )
