"""Run a client-retryable write exactly once per ``Idempotency-Key``.

See ``onestore.db.idempotency`` for the rules. A replayed response carries
``Idempotent-Replayed: true`` and is byte-identical to the first one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from onestore.api.problems import PROBLEM_JSON, dumps, error_body
from onestore.auth.model import Principal
from onestore.db import idempotency
from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import IdempotencyInFlight, IdempotencyKeyMissing, OnestoreError

HEADER = "Idempotency-Key"

IDEMPOTENCY_KEY: dict[str, Any] = {
    "parameters": [
        {
            "name": HEADER,
            "in": "header",
            "required": True,
            "description": "1-255 printable ASCII characters. A retry with the same key gets the "
            "first response again (Idempotent-Replayed: true); the same key with another body "
            "is a 422; a retry while the first is still running is a 409. Kept at least 24 h.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
    ]
}
"""``openapi_extra`` for routes that go through :func:`run_idempotent`, so the schema (and the
docs page, and schemathesis) know the header is part of the request."""


def run_idempotent(
    request: Request,
    db: Database,
    principal: Principal,
    payload: Any,
    action: Callable[[UnitOfWork], tuple[int, Any]],
    *,
    one_transaction: bool = False,
    key: str | None = None,
) -> Response:
    """Claim the key, run ``action`` in a unit of work, store and return its response.

    The key is the request's ``Idempotency-Key`` header, or ``key`` when given (a page's form
    carries its key in a hidden field, chosen when the form was shown).

    ``action`` returns (status, body); it must not commit — this function commits after
    storing the response in the same transaction. With ``one_transaction`` (for actions that
    only write to the database, so running one twice and rolling one back is harmless) the
    key is stored with the change and no separate claim is taken, unless the key already has
    a row — then the usual claim decides.
    """
    key, scope, digest = _identify(request, principal, payload, key)
    if one_transaction:
        answer = _in_one_transaction(request, db, scope, key, digest, action)
        if answer is not None:
            return answer
    claimed = idempotency.claim(db, scope, key, digest)
    if isinstance(claimed, idempotency.StoredResponse):
        return _replay(claimed)
    try:
        with db.uow() as uow:
            status, body = action(uow)
            text = dumps(jsonable_encoder(body))
            if not idempotency.complete(uow, claimed, status, text):
                # Our lease ran out and a retry took the key over: it owns the outcome now.
                raise IdempotencyInFlight("a retry with this Idempotency-Key took over")
            uow.commit()
    except OnestoreError as err:
        if err.status >= 500:  # "busy, retry": the retry must run, not replay the 503
            idempotency.release(db, claimed)
            raise
        # The business change rolled back; remember the answer so a retry gets the same one.
        text = dumps(error_body(err, request.url.path))
        with db.uow() as uow:
            idempotency.complete(uow, claimed, err.status, text)
            uow.commit()
        raise
    except BaseException:
        idempotency.release(db, claimed)
        raise
    return Response(text, status_code=status, media_type="application/json")


def _replay(stored: idempotency.StoredResponse) -> Response:
    return Response(
        stored.body,
        status_code=stored.status,
        media_type=PROBLEM_JSON if stored.status >= 400 else "application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def _identify(
    request: Request, principal: Principal, payload: Any, key: str | None = None
) -> tuple[str, str, str]:
    """(key, scope, request digest): a key is the caller's, per operation."""
    key = key or request.headers.get(HEADER)
    if key is None:
        raise IdempotencyKeyMissing(f"send an {HEADER} header so this write can be retried safely")
    route = request.scope.get("route")
    operation = f"{request.method} {getattr(route, 'path', request.url.path)}"
    return (
        key,
        f"{principal.scope_key}|{operation}",
        idempotency.request_hash(jsonable_encoder(payload)),
    )


def _in_one_transaction(
    request: Request,
    db: Database,
    scope: str,
    key: str,
    digest: str,
    action: Callable[[UnitOfWork], tuple[int, Any]],
) -> Response | None:
    """The action and its stored response in one transaction; None when the key already had
    a row (nothing of this attempt committed: the caller falls back to the claim)."""
    idempotency.validate_key(key)
    try:
        with db.uow() as uow:
            status, body = action(uow)
            text = dumps(jsonable_encoder(body))
            if not idempotency.record(uow, scope, key, digest, status, text):
                return None  # leaving the unit of work uncommitted rolls the change back
            uow.commit()
    except OnestoreError as err:
        if err.status >= 500:  # "busy, retry": nothing stored, so the retry runs
            raise
        text = dumps(error_body(err, request.url.path))
        with db.uow() as uow:
            if not idempotency.record(uow, scope, key, digest, err.status, text):
                return None
            uow.commit()
        raise
    return Response(text, status_code=status, media_type="application/json")


Finish = Callable[[UnitOfWork, Any], None]


async def run_grouped(
    request: Request,
    db: Database,
    principal: Principal,
    payload: Any,
    submit: Callable[[Finish], Awaitable[Any]],
    render: Callable[[Any], Any],  # the outcome's JSON-ready body
    *,
    status: int = 200,
) -> Response:
    """:func:`run_idempotent` for work done by a group-commit desk (many requests per
    transaction), from the event loop. ``submit(finish)`` hands the work to the desk, which
    calls ``finish(uow, outcome)`` in the batch's own transaction once the outcome — a result
    (``render`` makes its JSON body) or the request's :class:`OnestoreError` — is known: the key
    is stored with the change, as with ``one_transaction``. If the key already has a row,
    nothing of this attempt commits and the usual claim decides (replay, 422, 409, or run with
    the claim, whose database calls go to a worker thread)."""
    key, scope, digest = _identify(request, principal, payload)
    idempotency.validate_key(key)
    answer: dict[str, str] = {}

    def text_of(outcome: Any) -> tuple[int, str]:
        if isinstance(outcome, OnestoreError):
            return outcome.status, dumps(error_body(outcome, request.url.path))
        return status, dumps(render(outcome))  # render's answer is JSON-ready

    def record(uow: UnitOfWork, outcome: Any) -> None:
        code, text = text_of(outcome)
        idempotency.record_at_commit(uow, scope, key, digest, code, text)
        answer["text"] = text

    try:
        await submit(record)
        return Response(answer["text"], status_code=status, media_type="application/json")
    except idempotency.KeyTaken:
        pass
    claimed = await run_in_threadpool(idempotency.claim, db, scope, key, digest)
    if isinstance(claimed, idempotency.StoredResponse):
        return _replay(claimed)

    def complete(uow: UnitOfWork, outcome: Any) -> None:
        code, text = text_of(outcome)
        if not idempotency.complete(uow, claimed, code, text):
            raise IdempotencyInFlight("a retry with this Idempotency-Key took over")
        answer["text"] = text

    try:
        await submit(complete)
    except OnestoreError as err:
        if err.status >= 500:
            await run_in_threadpool(idempotency.release, db, claimed)
        raise
    except asyncio.CancelledError:
        # The call stays queued at the desk and stores its answer when it runs (a desk never
        # takes a job back); a retry meanwhile gets 409 in flight, then the stored answer.
        raise
    except BaseException:
        await run_in_threadpool(idempotency.release, db, claimed)
        raise
    return Response(answer["text"], status_code=status, media_type="application/json")
