"""The reservation desk: where checkouts reserve and commit stock, many per transaction.

Every channel's checkout ends at the same few balances when a SKU is hot (a flash sale, a
launch). Each checkout in its own transaction queues on that row's lock and pays a transaction's
fixed cost — pool check-out, ``BEGIN``, the resolving query, the lapsed-hold check, ``COMMIT``
and its WAL flush — for one unit. The desk groups concurrent calls (:class:`GroupCommit`,
leader/follower, no timer): whatever arrived while the previous batch ran goes in the next one,
one transaction, a fixed handful of statements (:mod:`.holds` does the set-wise work), each
call still all-or-nothing and answered on its own. A lone call runs at once as a batch of one.

Reserves and commits wait in one queue: a checkout's two calls share batches, and a batch runs
its commits, then its reserves, in one transaction (one ``COMMIT`` and its WAL flush for both).

A call may bring a ``finish`` hook that runs in the batch's transaction once its outcome is
known — the API stores its idempotent answer there (all the batch's keys in one statement at
commit), so the key and the stock change commit together. If a hook or that statement raises
(a key was taken meanwhile, say), nothing of the batch commits and the batch runs again in
halves until the call to blame runs alone, where the error is its own. A reserve
without a client id gets its id here, before any attempt: if a commit's outcome is lost with the
connection and the call is run again, the retry finds its own row ("already exists") instead of
holding the stock twice.

One desk per :class:`Database` (per process): batches of one worker process do not wait for
another's — across processes the balance rows' conditional updates keep everything exact.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, cast

from onestore.db.contention import as_busy
from onestore.db.database import Database
from onestore.db.group_commit import GroupCommit
from onestore.db.uow import UnitOfWork
from onestore.inventory import holds, reservations
from onestore.inventory.holds import CommitRequest, HoldRequest, Outcome
from onestore.inventory.model import ReservationKind
from onestore.inventory.views import ReservationView
from onestore.kernel.errors import DatabaseBusy, OnestoreError
from onestore.kernel.ids import new_id

Finish = Callable[[UnitOfWork, Outcome], None]
"""Runs in the batch's transaction with the call's outcome, before the commit."""

MAX_BATCH = 64
"""Calls per transaction at most: bounds how long one batch holds a hot row."""


@dataclass(frozen=True, slots=True)
class ReserveCall:
    """A reserve as a client sends it: lines are (SKU, location code, quantity) triples."""

    lines: Sequence[tuple[str, str, Any]]
    kind: ReservationKind | str
    ttl: timedelta | None
    reservation_id: str | None = None
    channel: str | None = None
    reference: str | None = None
    owner: str | None = None
    finish: Finish | None = None


@dataclass(frozen=True, slots=True)
class CommitCall:
    reservation_id: str
    owner: str | None = None
    channel: str | None = None
    finish: Finish | None = None


DeskCall = ReserveCall | CommitCall


class ReservationDesk:
    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self.calls: GroupCommit[DeskCall, ReservationView] = GroupCommit(
            self._batch, max_batch=max_batch, shared=_busy
        )
        """One queue for reserves and commits: a checkout's two calls share the same
        batches, so one transaction (one ``COMMIT`` and its WAL flush) serves both kinds."""

    def reserve(self, call: ReserveCall) -> ReservationView:
        """Hold every line or none; raises the call's own error (409 insufficient stock…)."""
        return self.calls.submit(_with_id(call))

    async def reserve_async(self, call: ReserveCall) -> ReservationView:
        """:meth:`reserve` from an event loop (the API): waits without a thread of its own."""
        return await self.calls.submit_async(_with_id(call))

    def commit(self, call: CommitCall) -> ReservationView:
        """The order is placed: the call's soft hold becomes an order hold."""
        return self.calls.submit(call)

    async def commit_async(self, call: CommitCall) -> ReservationView:
        return await self.calls.submit_async(call)

    # -- one batch, one transaction ---------------------------------------------------------------
    def _batch(self, calls: Sequence[DeskCall]) -> list[Outcome]:
        """The batch's commits, then its reserves, in one transaction: existing reservation
        rows are locked before any balance, the order the sweeper, ``release`` and ``fulfil``
        keep too, so none of them can deadlock with a batch. (Reserves first locked the hot
        balance and then waited for a reservation the sweeper held — found by review.) A
        commit names a reservation an earlier call made: the client had its id."""
        reserves = [i for i, c in enumerate(calls) if isinstance(c, ReserveCall)]
        commits = [i for i, c in enumerate(calls) if isinstance(c, CommitCall)]

        def work(uow: UnitOfWork) -> list[Outcome]:
            outcomes: list[Outcome | None] = [None] * len(calls)
            if commits:
                requests = [
                    CommitRequest(c.reservation_id, c.owner, c.channel)
                    for c in (cast(CommitCall, calls[i]) for i in commits)
                ]
                for i, outcome in zip(commits, holds.commit_many(uow, requests), strict=True):
                    outcomes[i] = outcome
            if reserves:
                made = _reserve([cast(ReserveCall, calls[i]) for i in reserves], uow)
                for i, outcome in zip(reserves, made, strict=True):
                    outcomes[i] = outcome
            return [o for o in outcomes if o is not None]

        return self._in_one_transaction(calls, work)

    def _in_one_transaction(
        self,
        calls: Sequence[DeskCall],
        work: Callable[[UnitOfWork], list[Outcome]],
    ) -> list[Outcome]:
        """Run ``work`` and every call's ``finish`` in one transaction and commit. Raising
        means nothing committed (what :class:`GroupCommit` relies on to retry calls alone); an
        error after the commit (an after-commit hook) does not undo the outcomes."""
        outcomes: list[Outcome] | None = None
        try:
            with self._db.uow() as uow:
                answered = work(uow)
                for call, outcome in zip(calls, answered, strict=True):
                    if call.finish is not None:
                        call.finish(uow, outcome)
                uow.commit()
                outcomes = answered
        except Exception:
            if outcomes is None:
                raise
        assert outcomes is not None
        return outcomes


def _reserve(calls: Sequence[ReserveCall], uow: UnitOfWork) -> list[Outcome]:
    """Each reserve call's outcome: resolve every call's lines in one query (a call naming an
    unknown SKU or location gets its 422), then hold the rest together."""
    outcomes: list[Outcome | None] = [None] * len(calls)
    requests: list[HoldRequest] = []
    placed: list[int] = []
    resolved = reservations.line_requests_many(uow, [c.lines for c in calls])
    for i, (call, lines) in enumerate(zip(calls, resolved, strict=True)):
        if isinstance(lines, OnestoreError):
            outcomes[i] = lines
            continue
        placed.append(i)
        requests.append(
            HoldRequest(
                lines,
                call.kind,
                call.ttl,
                call.reservation_id,
                call.channel,
                call.reference,
                call.owner,
            )
        )
    for i, outcome in zip(placed, holds.reserve_many(uow, requests), strict=True):
        outcomes[i] = outcome
    return [o for o in outcomes if o is not None]


def _with_id(call: ReserveCall) -> ReserveCall:
    return call if call.reservation_id is not None else replace(call, reservation_id=new_id())


def _busy(error: Exception) -> DatabaseBusy | None:
    """A busy database (lock or statement timeout, deadlock, serialization failure) fails the
    whole group with "busy, retry" (503 + Retry-After): nothing committed, and no call is to
    blame, so running the calls again in halves would only wait out the same timeout again."""
    if isinstance(error, DatabaseBusy):
        return DatabaseBusy(str(error), retry_after=error.retry_after)
    return as_busy(error)


_desks: weakref.WeakKeyDictionary[Database, ReservationDesk] = weakref.WeakKeyDictionary()
_desks_lock = threading.Lock()


def desk_for(db: Database) -> ReservationDesk:
    """The desk of ``db`` (created on first use): every caller of one database shares it."""
    with _desks_lock:
        desk = _desks.get(db)
        if desk is None:
            desk = _desks[db] = ReservationDesk(db)
        return desk
