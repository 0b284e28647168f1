"""Group commit: callers' jobs share batches, and each caller gets its own outcome."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from onestore.db.group_commit import GroupCommit


class Refused(Exception):
    pass


def test_a_lone_call_runs_at_once_as_a_batch_of_one() -> None:
    seen: list[list[int]] = []

    def runner(jobs: Sequence[int]) -> list[int | BaseException]:
        seen.append(list(jobs))
        return [j * 2 for j in jobs]

    group: GroupCommit[int, int] = GroupCommit(runner)
    assert group.submit(21) == 42
    assert group.submit(5) == 10
    assert seen == [[21], [5]] and group.batches == 2


def test_callers_arriving_during_a_batch_share_the_next_one_and_get_their_own_answers() -> None:
    release = threading.Event()
    sizes: list[int] = []

    def runner(jobs: Sequence[int]) -> list[int | BaseException]:
        if not sizes:
            release.wait(5)  # the first batch is slow: everyone else queues behind it
        sizes.append(len(jobs))
        return [Refused(j) if j % 2 else j for j in jobs]

    group: GroupCommit[int, int] = GroupCommit(runner, max_batch=8)

    def call(j: int) -> object:
        try:
            return group.submit(j)
        except Refused as err:
            return err.args[0] * -1

    with ThreadPoolExecutor(17) as pool:
        first = pool.submit(call, 0)
        time.sleep(0.05)
        rest = [pool.submit(call, j) for j in range(1, 17)]
        time.sleep(0.1)
        release.set()
        answers = [first.result(5)] + [f.result(5) for f in rest]
    assert answers == [j if j % 2 == 0 else -j for j in range(17)]
    assert sizes[0] == 1 and max(sizes) == 8 and sum(sizes) == 17
    assert group.jobs == 17 and group.batches == len(sizes) < 17


def test_a_failing_batch_is_split_until_the_failing_job_runs_alone() -> None:
    release = threading.Event()
    runs: list[list[str]] = []

    def runner(jobs: Sequence[str]) -> list[str | BaseException]:
        if jobs == ["slow"]:
            release.wait(5)
        runs.append(list(jobs))
        if "bad" in jobs:
            raise Refused("bad job")
        return [j.upper() for j in jobs]

    group: GroupCommit[str, str] = GroupCommit(runner)

    def call(job: str) -> object:
        try:
            return group.submit(job)
        except Refused as err:
            return err

    with ThreadPoolExecutor(4) as pool:
        slow = pool.submit(call, "slow")
        time.sleep(0.05)
        queued = {j: pool.submit(call, j) for j in ("a", "bad", "c")}
        time.sleep(0.1)
        release.set()
        assert slow.result(5) == "SLOW"
        results = {j: f.result(5) for j, f in queued.items()}
    assert results["a"] == "A" and results["c"] == "C"
    assert isinstance(results["bad"], Refused)
    # Together first, then in halves until the bad job runs alone.
    assert runs[1:] == [["a", "bad", "c"], ["a"], ["bad", "c"], ["bad"], ["c"]]


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(lambda jobs: list(jobs), max_batch=0)


def test_a_failure_that_is_nobodys_fault_is_everyones_answer_without_reruns() -> None:
    """A busy database would time out again in every half: each job gets its own copy of the
    shared error at once, and the runner is not called again."""
    release = threading.Event()
    runs: list[list[str]] = []

    class Busy(Exception):
        pass

    def runner(jobs: Sequence[str]) -> list[str | BaseException]:
        if jobs == ["slow"]:
            release.wait(5)
            return ["SLOW"]
        runs.append(list(jobs))
        raise RuntimeError("lock timeout")

    group: GroupCommit[str, str] = GroupCommit(
        runner, shared=lambda err: Busy(str(err)) if "timeout" in str(err) else None
    )

    def call(job: str) -> object:
        try:
            return group.submit(job)
        except Busy as err:
            return err

    with ThreadPoolExecutor(4) as pool:
        slow = pool.submit(call, "slow")
        time.sleep(0.05)
        queued = [pool.submit(call, j) for j in ("a", "b", "c")]
        time.sleep(0.1)
        release.set()
        assert slow.result(5) == "SLOW"
        answers = [f.result(5) for f in queued]
    assert runs == [["a", "b", "c"]]
    assert all(isinstance(a, Busy) for a in answers)
    assert len({id(a) for a in answers}) == 3


# -- callers on an event loop ---------------------------------------------------------------------
def test_callers_on_an_event_loop_share_batches_without_a_thread_each() -> None:
    release = threading.Event()
    sizes: list[int] = []
    runner_threads: set[str] = set()

    def runner(jobs: Sequence[int]) -> list[int | BaseException]:
        runner_threads.add(threading.current_thread().name)
        if not sizes:
            release.wait(5)
        sizes.append(len(jobs))
        return [Refused(j) if j == 3 else j * 10 for j in jobs]

    group: GroupCommit[int, int] = GroupCommit(runner, max_batch=8)

    async def call(j: int) -> object:
        try:
            return await group.submit_async(j)
        except Refused as err:
            return err

    async def main() -> list[object]:
        first = asyncio.ensure_future(call(0))
        await asyncio.sleep(0.05)  # the first batch is running (and slow)
        rest = [asyncio.ensure_future(call(j)) for j in range(1, 12)]
        await asyncio.sleep(0.05)
        release.set()
        return list(await asyncio.gather(first, *rest))

    answers = asyncio.run(main())
    assert [a if isinstance(a, int) else "refused" for a in answers] == [
        0,
        10,
        20,
        "refused",
        40,
        50,
        60,
        70,
        80,
        90,
        100,
        110,
    ]
    assert sizes[0] == 1 and sum(sizes) == 12 and len(sizes) == 3  # 1, then 8, then 3
    assert threading.main_thread().name not in runner_threads  # the loop never ran a batch


def test_thread_and_loop_callers_mix_and_a_cancelled_waiter_does_not_stall_the_queue() -> None:
    release = threading.Event()
    ran: list[int] = []

    def runner(jobs: Sequence[int]) -> list[int | BaseException]:
        if not ran:
            release.wait(5)
        ran.extend(jobs)
        return [j + 1 for j in jobs]

    group: GroupCommit[int, int] = GroupCommit(runner)

    async def main() -> tuple[int, int, bool]:
        loop = asyncio.get_running_loop()
        first = loop.run_in_executor(None, group.submit, 1)  # a thread caller leads
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(group.submit_async(2))
        kept = asyncio.ensure_future(group.submit_async(3))
        await asyncio.sleep(0.05)
        gone.cancel()  # its client went away while it waited
        release.set()
        return await first, await kept, gone.cancelled()

    first, kept, cancelled = asyncio.run(main())
    assert (first, kept, cancelled) == (2, 4, True)
    assert sorted(ran) == [1, 2, 3]  # the cancelled caller's job still ran: never half-taken


class Interrupt(BaseException):
    """Something no runner may swallow (as KeyboardInterrupt would be)."""


def test_a_waiting_loop_caller_takes_the_lead_over_when_a_batch_is_interrupted() -> None:
    release = threading.Event()

    def runner(jobs: Sequence[str]) -> list[str | BaseException]:
        if jobs == ["first"]:
            release.wait(5)
            raise Interrupt
        return [j.upper() for j in jobs]

    group: GroupCommit[str, str] = GroupCommit(runner)

    async def main() -> tuple[object, str]:
        first = asyncio.ensure_future(group.submit_async("first"))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(group.submit_async("second"))
        await asyncio.sleep(0.05)
        release.set()
        try:
            await first
            outcome: object = "no error"
        except RuntimeError as err:
            outcome = err
        return outcome, await asyncio.wait_for(second, 5)

    outcome, second = asyncio.run(main())
    assert isinstance(outcome, RuntimeError)  # the interrupted batch ended without an outcome
    assert second == "SECOND"  # and the queue went on


def test_a_thread_caller_hands_the_lead_to_a_loop_instead_of_serving_it_indefinitely() -> None:
    """A thread caller that led a batch returns with its answer when loop callers are next:
    an executor thread of their loop serves them, not the caller's thread."""
    release = threading.Event()
    threads: dict[str, str] = {}

    def runner(jobs: Sequence[str]) -> list[str | BaseException]:
        for job in jobs:
            threads[job] = threading.current_thread().name
        if "thread" in jobs:
            release.wait(5)
        return [j.upper() for j in jobs]

    group: GroupCommit[str, str] = GroupCommit(runner)

    async def main() -> tuple[str, list[str]]:
        loop = asyncio.get_running_loop()
        caller = threading.Thread(target=lambda: answers.append(group.submit("thread")))
        answers: list[str] = []
        caller.start()
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(group.submit_async(f"loop{n}")) for n in range(3)]
        await asyncio.sleep(0.05)
        release.set()
        await loop.run_in_executor(None, caller.join, 5)
        return answers[0], list(await asyncio.gather(*waiting))

    mine, theirs = asyncio.run(main())
    assert (mine, theirs) == ("THREAD", ["LOOP0", "LOOP1", "LOOP2"])
    assert threads["loop0"] != threads["thread"]  # served by the loop's executor


def test_an_interrupted_batch_whose_next_caller_was_cancelled_does_not_stall_the_queue() -> None:
    """Found by review: the lead went to the next caller's future, which a cancelled caller
    never reads — every later caller waited forever. The lead now goes to a thread."""
    release = threading.Event()

    def runner(jobs: Sequence[str]) -> list[str | BaseException]:
        if jobs == ["boom"]:
            release.wait(5)
            raise Interrupt
        return [j.upper() for j in jobs]

    group: GroupCommit[str, str] = GroupCommit(runner)

    async def main() -> str:
        boom = asyncio.ensure_future(group.submit_async("boom"))
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(group.submit_async("gone"))
        later = asyncio.ensure_future(group.submit_async("later"))
        await asyncio.sleep(0.05)
        gone.cancel()
        await asyncio.sleep(0.01)
        release.set()
        with contextlib.suppress(RuntimeError):
            await boom
        return await asyncio.wait_for(later, 5)

    assert asyncio.run(main()) == "LATER"
