"""A claim taken over after its lease belongs to the new holder alone."""

from __future__ import annotations

from datetime import timedelta

from onestore.db import idempotency
from onestore.db.database import Database
from onestore.kernel.clock import FrozenClock


def test_a_slow_first_worker_can_neither_complete_nor_release_after_a_takeover(
    db: Database, clock: FrozenClock
) -> None:
    first = idempotency.claim(db, "staff:1|POST /x", "key-1", "hash")
    assert isinstance(first, idempotency.Claim)
    clock.advance(idempotency.LEASE + timedelta(seconds=1))
    second = idempotency.claim(db, "staff:1|POST /x", "key-1", "hash")
    assert isinstance(second, idempotency.Claim)
    assert second.token != first.token

    idempotency.release(db, first)  # the slow worker crashes: must not free the new claim
    with db.uow() as uow:
        assert idempotency.complete(uow, first, 201, '{"who":"first"}') is False
        uow.rollback()
    with db.uow() as uow:
        assert idempotency.complete(uow, second, 201, '{"who":"second"}') is True
        uow.commit()

    replay = idempotency.claim(db, "staff:1|POST /x", "key-1", "hash")
    assert replay == idempotency.StoredResponse(201, '{"who":"second"}')


def test_an_unexpired_claim_is_not_taken_over(db: Database, clock: FrozenClock) -> None:
    idempotency.claim(db, "s", "k", "h")
    clock.advance(idempotency.LEASE - timedelta(seconds=1))
    try:
        idempotency.claim(db, "s", "k", "h")
    except idempotency.IdempotencyInFlight:
        pass
    else:
        raise AssertionError("a live claim was taken over")
