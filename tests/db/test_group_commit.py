"""Group commit: callers' jobs share batches, and each caller gets its own outcome."""

from __future__ import annotations

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
