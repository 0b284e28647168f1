"""What every inventory router shares: the store-scope check for stock writes and the
idempotent-write wrapper. One place, so a stock route cannot forget either rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response

from onestore.api.idempotency import Finish, run_grouped, run_idempotent
from onestore.api.security import get_db
from onestore.auth.model import Permission, Principal, permitted
from onestore.catalog.wire import to_json
from onestore.db.uow import UnitOfWork
from onestore.inventory import refs
from onestore.kernel.errors import PermissionDenied


def may_write_at(principal: Principal, location_id: str, where: str = "this location") -> None:
    """Stock at a store is that store's business: a store-scoped grant of ``inventory.write``
    counts only at its own store (an unscoped one everywhere). 403 otherwise."""
    if not permitted(principal, Permission.INVENTORY_WRITE, location_id):
        raise PermissionDenied(f"inventory.write is not granted at {where}")


def write_at(uow: UnitOfWork, principal: Principal, location: str) -> str:
    """Resolve a location code (422 if unknown) and check the caller may change stock there;
    returns the location id."""
    location_id = refs.location_ids(uow, [location], ["location"])[0]
    may_write_at(principal, location_id, location)
    return location_id


def idempotent(
    request: Request,
    principal: Principal,
    payload: Any,
    work: Callable[[UnitOfWork], Any],
    *,
    status: int = 200,
    writes_at: str | None = None,
    one_transaction: bool = True,
) -> Response:
    """Run ``work`` once per Idempotency-Key and answer ``status`` with its JSON; with
    ``writes_at`` only for a caller who may change stock at that location.

    Stock writes touch nothing but the database, so by default the key is stored in the same
    transaction as the change (``one_transaction``); long jobs may pass False to claim first."""

    def action(uow: UnitOfWork) -> tuple[int, Any]:
        if writes_at is not None:
            write_at(uow, principal, writes_at)
        return status, to_json(work(uow))

    return run_idempotent(
        request, get_db(request), principal, payload, action, one_transaction=one_transaction
    )


async def at_the_desk(
    request: Request,
    principal: Principal,
    payload: Any,
    submit: Callable[[Finish], Awaitable[Any]],
    *,
    status: int = 200,
) -> Response:
    """Like :func:`idempotent`, for calls the reservation desk runs many per transaction, from
    the event loop: ``submit(finish)`` hands the call (with ``finish``, which stores the key)
    to the desk and waits for its outcome."""
    db = get_db(request)
    return await run_grouped(request, db, principal, payload, submit, to_json, status=status)
