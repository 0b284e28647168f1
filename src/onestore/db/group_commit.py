"""Group commit: concurrent callers' jobs run together, several per database transaction.

Why: on a hot row (the last units of a flash-sale SKU) every transaction waits for the one
before it to commit — its WAL flush and its round trips — and on a small machine each
transaction's fixed cost (pool check-out, ``BEGIN``, ``COMMIT``, the Python around every
statement) is most of the work. The prior-art measurements (``notes/prior-art-dom-pricing-peak``,
C3) say it plainly: queue in the application rather than in row locks. Here the queue drains
as batches: one transaction, a fixed handful of statements, for every job waiting.

How: leader/follower, no timer and no extra thread. A caller appends its job; if no batch is
running it becomes the leader and runs the queue (up to ``max_batch`` jobs) itself. Callers
that arrive meanwhile wait; when the batch ends the leader hands the lead to the oldest waiting
caller (whose job is then at the head of the queue) and returns its own result. A caller alone
runs a batch of one at once, so a quiet system pays nothing for the queue.

Callers on an event loop (the API's checkout routes) use :meth:`GroupCommit.submit_async`:
they wait on the loop, not on a thread of their own, and the batches run on an executor
thread that keeps leading while the next caller in line is also on a loop (a thread caller
next in line gets the lead as above). Why: with a thread per waiting request, a 2-core server
spent more time handing requests between threads and the GIL than running the batches.

The runner gets the jobs and returns one outcome per job, a result or an exception *for that
job* (say, not enough stock). If the runner itself raises — a deadlock, a lost connection, one
job's hook refusing — nothing of the batch committed (that is the runner's contract), and the
batch is run again in halves until the failing job runs alone, so one bad job cannot fail its
neighbours; a job that fails alone gets its own exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

J = TypeVar("J")
R = TypeVar("R")


@dataclass(eq=False)
class _Ticket(Generic[J, R]):
    job: J
    event: threading.Event | None = field(default_factory=threading.Event)
    """Set when a thread caller may go on (its outcome is in, or the lead is its)."""
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None
    """For a caller on an event loop: resolved (on its loop) when its outcome is in."""
    done: bool = False
    result: R | None = None
    error: BaseException | None = None

    def settle(self, outcome: object) -> None:
        if isinstance(outcome, BaseException):
            self.error = outcome
        else:
            self.result = outcome  # type: ignore[assignment]
        self.done = True

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()
        elif self.loop is not None and self.future is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                self.loop.call_soon_threadsafe(_resolve, self.future)

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


def _lead_on(loop: asyncio.AbstractEventLoop, lead: Callable[[], None]) -> None:
    loop.run_in_executor(None, lead)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a cancelled waiter (client gone) has nothing to resolve
        future.set_result(None)


class GroupCommit(Generic[J, R]):
    """Run jobs submitted from many threads in batches through ``runner``."""

    def __init__(
        self,
        runner: Callable[[Sequence[J]], Sequence[R | BaseException]],
        *,
        max_batch: int = 64,
        shared: Callable[[Exception], BaseException | None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._runner = runner
        self._shared = shared
        """Maps a batch's failure to the error each of its jobs gets when it is nobody's fault
        in particular (the database is busy: a lock timeout would only repeat in every half, so
        splitting would hold the queue for a timeout per rerun); None means split."""
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: deque[_Ticket[J, R]] = deque()
        self._busy = False
        self.batches = 0
        """How many batches ran (for tests and benchmarks)."""
        self.jobs = 0

    def submit(self, job: J) -> R:
        """Run ``job`` (in some batch) and return its result or raise its exception."""
        ticket: _Ticket[J, R] = _Ticket(job)
        assert ticket.event is not None
        if not self._enqueue(ticket):
            ticket.event.wait()
        if not ticket.done:  # the lead was handed to us; our job is at the head of the queue
            self._lead(borrowed=True)
        return ticket.outcome()

    async def submit_async(self, job: J) -> R:
        """:meth:`submit` for a caller on an event loop: waits without blocking the loop.

        If the caller is cancelled (the client went away), its job still runs with the batch
        it is in: a queued job is never taken back half-way."""
        loop = asyncio.get_running_loop()
        ticket: _Ticket[J, R] = _Ticket(job, event=None, loop=loop, future=loop.create_future())
        assert ticket.future is not None
        if self._enqueue(ticket):
            loop.run_in_executor(None, self._lead)
        await ticket.future  # cancelled with its caller; _resolve then finds it done
        return ticket.outcome()  # a loop caller is only ever woken with its outcome in

    def _enqueue(self, ticket: _Ticket[J, R]) -> bool:
        """Queue ``ticket``; True if no batch is running, so the caller must lead."""
        with self._lock:
            self._queue.append(ticket)
            leading = not self._busy
            self._busy = True
        return leading

    def _lead(self, *, borrowed: bool = False) -> None:
        """Run batches until the queue is empty or the lead passes on: at once to a thread
        caller next in line (it leads on its own thread); to a loop caller's executor only
        from a ``borrowed`` thread — a caller's own, whose answer is in — which must not serve
        the queue indefinitely. An executor thread leads on while loop callers are next."""
        while (successor := self._lead_one()) is not None:
            if (borrowed or successor.event is not None) and self._pass_lead(successor):
                return

    def _pass_lead(self, successor: _Ticket[J, R]) -> bool:
        """A thread caller takes the lead itself; a loop caller's loop lends an executor
        thread (never the caller: it may have been cancelled). False if that loop closed."""
        if successor.event is not None:
            successor.wake()
            return True
        if successor.loop is None:
            return False
        try:
            successor.loop.call_soon_threadsafe(_lead_on, successor.loop, self._lead)
        except RuntimeError:
            return False
        return True

    def _lead_one(self) -> _Ticket[J, R] | None:
        with self._lock:
            count = min(len(self._queue), self._max_batch)
            batch = [self._queue.popleft() for _ in range(count)]
        successor: _Ticket[J, R] | None = None
        interrupted = True
        try:
            self._run(batch)
            interrupted = False
        finally:
            with self._lock:
                self.batches += 1
                self.jobs += len(batch)
                for ticket in batch:
                    if not ticket.done:  # only if the runner broke its contract
                        ticket.settle(RuntimeError("the batch ended without an outcome"))
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._busy = False
            for ticket in batch:
                ticket.wake()
            if interrupted and successor is not None:
                self._pass_lead(successor)  # the lead must not be lost with this thread
        return successor

    def _run(self, batch: list[_Ticket[J, R]]) -> None:
        try:
            outcomes = self._runner([t.job for t in batch])
        except Exception as err:
            if len(batch) == 1:
                batch[0].settle(err)
                return
            if self._shared is not None and self._shared(err) is not None:
                for ticket in batch:  # one error each: tracebacks are per raise
                    ticket.settle(self._shared(err))
                return
            # Nothing committed. Split in halves until the failing job runs alone: one bad job
            # costs about 2·log2(n) transactions, not n, and every other job gets its answer.
            half = len(batch) // 2
            self._run(batch[:half])
            self._run(batch[half:])
            return
        if len(outcomes) != len(batch):
            raise RuntimeError(f"runner answered {len(outcomes)} outcomes for {len(batch)} jobs")
        for ticket, outcome in zip(batch, outcomes, strict=True):
            ticket.settle(outcome)
