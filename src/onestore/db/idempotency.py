"""The idempotency-key store (IETF draft-ietf-httpapi-idempotency-key-header, Stripe's rules).

A key is scoped to caller + operation, so two callers can never read each other's stored
responses. The flow for one request:

1. ``claim`` in its own short transaction: insert the key as *in flight* (or find it).
   Same key, other body → :class:`IdempotencyKeyReused` (422); still in flight →
   :class:`IdempotencyInFlight` (409); completed → the stored response is replayed.
2. The business transaction runs and calls ``complete`` **in that same transaction**, so the
   stored response exists if and only if the business change committed.
3. If the business transaction fails with an expected error, the error response is stored
   (a retry gets the same answer); if it crashes, ``release`` frees the key: nothing
   committed, so running again is safe.

Requests whose work is nothing but database writes (stock moves) may skip step 1: ``record``
inserts the key as completed inside the business transaction, and only when a row for the key
already exists does the request fall back to ``claim``. One transaction instead of two on every
first attempt, which is nearly every request.

A claim whose worker died before finishing holds the key only until ``locked_until``; after
that the next retry may take it over — safe for the same reason as step 3. Each claim carries
a random token, and ``complete``/``release`` act only while the token is still theirs, so a
worker that was merely slow cannot commit after a takeover or free the new holder's key.
Keys are kept at least 24 h (``purge`` removes older ones; a reused key then runs anew).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from onestore.db.database import Database
from onestore.db.rows import insert_rows
from onestore.db.tables import idempotency_keys
from onestore.db.uow import UnitOfWork
from onestore.kernel.clock import as_utc
from onestore.kernel.errors import (
    IdempotencyInFlight,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
)

IN_FLIGHT = "in_flight"
COMPLETED = "completed"
LEASE = timedelta(minutes=5)
"""How long a claim is protected before a retry may take it over (a worker that died)."""
MAX_KEY_LENGTH = 255


def validate_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalid(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters")
    if not key.isascii() or not key.isprintable():
        raise IdempotencyKeyInvalid("Idempotency-Key must be printable ASCII characters")
    return key


def request_hash(payload: Any) -> str:
    """Hash of the canonical JSON of the request, so key order and spacing do not matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: str


@dataclass(frozen=True, slots=True)
class Claim:
    scope: str
    key: str
    token: str


def claim(db: Database, scope: str, key: str, digest: str) -> Claim | StoredResponse:
    """Take the key for this request, or return the response stored for it."""
    validate_key(key)
    now = db.clock.now()
    token = secrets.token_hex(16)
    with db.uow() as uow:
        row = _find(uow, scope, key)
        if row is None:
            try:
                uow.conn.execute(
                    idempotency_keys.insert().values(
                        scope=scope,
                        key=key,
                        request_hash=digest,
                        state=IN_FLIGHT,
                        claim_token=token,
                        created_at=now,
                        locked_until=now + LEASE,
                    )
                )
                uow.commit()
                return Claim(scope, key, token)
            except IntegrityError:
                uow.rollback()
        else:
            outcome = _decide(uow, row, digest, now)
            uow.commit()
            return outcome
    # Lost an insert race to a concurrent request with the same key: look again.
    with db.uow() as uow:
        row = _find(uow, scope, key)
        if row is None:  # pragma: no cover - the winner rolled back and released; retry once
            raise IdempotencyInFlight("a request with this key is in flight; retry shortly")
        outcome = _decide(uow, row, digest, now)
        uow.commit()
        return outcome


def _find(uow: UnitOfWork, scope: str, key: str) -> Any:
    return uow.conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
        )
    ).first()


def _decide(uow: UnitOfWork, row: Any, digest: str, now: datetime) -> Claim | StoredResponse:
    new_token = secrets.token_hex(16)
    if row.request_hash != digest:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request body")
    if row.state == COMPLETED:
        return StoredResponse(row.response_status, row.response_body)
    if as_utc(row.locked_until) > now:
        raise IdempotencyInFlight("a request with this Idempotency-Key is still in flight")
    # The earlier worker died mid-request (its transaction rolled back): take the key over.
    taken = uow.conn.execute(
        update(idempotency_keys)
        .where(
            and_(
                idempotency_keys.c.id == row.id,
                idempotency_keys.c.state == IN_FLIGHT,
                idempotency_keys.c.locked_until == row.locked_until,
            )
        )
        .values(locked_until=now + LEASE, claim_token=new_token)
    )
    if taken.rowcount != 1:
        raise IdempotencyInFlight("a request with this Idempotency-Key is still in flight")
    return Claim(row.scope, row.key, new_token)


def record(uow: UnitOfWork, scope: str, key: str, digest: str, status: int, body: str) -> bool:
    """The one-transaction flow, for requests whose work is only database writes: store the key
    as completed, with its response, in the business transaction itself — no separate claim.

    False when the key already has a row (a retry, or a concurrent duplicate that committed
    first: PostgreSQL makes this insert wait for it): the caller must then roll back and let
    :func:`claim` decide (replay, 422 for another body, 409 while in flight). Either way
    exactly one business change commits per key, because the key row and the change commit
    together or not at all.
    """
    validate_key(key)
    row = _completed(uow, scope, key, digest, status, body, secrets.token_hex(16))
    try:
        uow.conn.execute(idempotency_keys.insert(), row)
    except IntegrityError:
        return False
    return True


def _completed(
    uow: UnitOfWork, scope: str, key: str, digest: str, status: int, body: str, token: str
) -> dict[str, Any]:
    """A key row stored as completed, with its response, now."""
    now = uow.now()
    return {
        "scope": scope,
        "key": key,
        "request_hash": digest,
        "state": COMPLETED,
        "claim_token": token,
        "created_at": now,
        "locked_until": now,
        "response_status": status,
        "response_body": body,
        "completed_at": now,
    }


class KeyTaken(Exception):
    """:func:`record_at_commit`: a key already had a row, so the transaction did not commit;
    the request behind it must fall back to :func:`claim`."""

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(keys)} idempotency key(s) already stored")
        self.keys = keys


def record_at_commit(
    uow: UnitOfWork, scope: str, key: str, digest: str, status: int, body: str
) -> None:
    """:func:`record` for units of work that serve many requests at once (the reservation
    desk's batches): every key recorded this way is written in one round trip just before the
    commit (``ON CONFLICT DO NOTHING``), instead of one per request. If any key already had a
    row, :class:`KeyTaken` is raised there and nothing commits — the caller runs its requests
    again apart, so the request that owns the key learns it alone."""
    validate_key(key)
    pending = _pending.get(uow)
    if pending is None:
        pending = _pending[uow] = _Recorded(secrets.token_hex(16))
        uow.before_commit(lambda: _pending.pop(uow).insert(uow))
    # One claim token per transaction: it tells this transaction's rows apart.
    pending.rows.append(_completed(uow, scope, key, digest, status, body, pending.token))


@dataclass
class _Recorded:
    token: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def insert(self, uow: UnitOfWork) -> None:
        """One ``INSERT … ON CONFLICT DO NOTHING`` for every row (:func:`insert_rows`); the
        row count says whether every key was new, and only when one was not are the rows that
        are not ours looked up (by the transaction's claim token)."""
        rows = sorted(self.rows, key=lambda r: (r["scope"], r["key"]))  # one lock order
        ids = [(r["scope"], r["key"]) for r in rows]
        twice = [a for a, b in itertools.pairwise(ids) if a == b]
        if twice:  # one key sent twice at once: only running them apart says who holds it
            raise KeyTaken(twice)
        written = insert_rows(uow.conn, idempotency_keys, rows, skip_conflicts=True)
        if written is not None and written.rowcount == len(rows):
            return
        stored = uow.conn.execute(
            select(idempotency_keys.c.scope, idempotency_keys.c.key).where(
                tuple_(idempotency_keys.c.scope, idempotency_keys.c.key).in_(ids),
                idempotency_keys.c.claim_token != self.token,
            )
        )
        raise KeyTaken(sorted((r.scope, r.key) for r in stored))


_pending: weakref.WeakKeyDictionary[UnitOfWork, _Recorded] = weakref.WeakKeyDictionary()


def complete(uow: UnitOfWork, claimed: Claim, status: int, body: str) -> bool:
    """Store the response in the caller's (business) transaction, if the claim is still ours.

    False means another request took the key over after our lease ran out: the caller must
    then roll back its business change, so exactly one of the two ever commits.
    """
    result = uow.conn.execute(
        update(idempotency_keys)
        .where(
            idempotency_keys.c.scope == claimed.scope,
            idempotency_keys.c.key == claimed.key,
            idempotency_keys.c.claim_token == claimed.token,
            idempotency_keys.c.state == IN_FLIGHT,
        )
        .values(
            state=COMPLETED,
            response_status=status,
            response_body=body,
            completed_at=uow.now(),
        )
    )
    return result.rowcount == 1


def release(db: Database, claimed: Claim) -> None:
    """Forget an in-flight claim whose request failed without committing anything."""
    with db.uow() as uow:
        uow.conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.scope == claimed.scope,
                idempotency_keys.c.key == claimed.key,
                idempotency_keys.c.claim_token == claimed.token,
                idempotency_keys.c.state == IN_FLIGHT,
            )
        )
        uow.commit()


def purge(db: Database, retention: timedelta) -> int:
    """Delete keys older than ``retention`` (never less than 24 h). Returns how many."""
    if retention < timedelta(hours=24):
        raise ValueError("idempotency keys must be kept at least 24 hours")
    cutoff = db.clock.now() - retention
    with db.uow() as uow:
        result = uow.conn.execute(
            # "<=": a key exactly ``retention`` old has been kept long enough (Stripe: >= 24 h).
            delete(idempotency_keys).where(idempotency_keys.c.created_at <= cutoff)
        )
        uow.commit()
        return int(result.rowcount)
