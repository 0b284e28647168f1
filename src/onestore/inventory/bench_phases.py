"""The phase machinery of ``onestore bench inventory``: run an operation on N threads for a
while, count its outcomes and latencies, and print the table."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

from onestore.db.contention import as_busy
from onestore.inventory.bench_setup import BenchError
from onestore.kernel.errors import DatabaseBusy


# -- results --------------------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    ok: int = 0
    insufficient: int = 0
    busy: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str | None = None

    @property
    def tps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index] * 1000


Outcome = str  # "ok" | "insufficient"


def run_phase(
    name: str,
    seconds: float,
    concurrency: int,
    op: Callable[[int, random.Random, dict[str, Any]], Outcome],
    setup: Callable[[int], dict[str, Any]] | None = None,
    teardown: Callable[[dict[str, Any]], None] | None = None,
) -> Phase:
    """Run ``op`` in a loop on ``concurrency`` threads until ``seconds`` have passed."""
    phase = Phase(name)
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker(n: int) -> None:
        rng = random.Random(n)  # noqa: S311 - spreads load, guards nothing
        state = setup(n) if setup else {}
        counts: dict[str, int] = defaultdict(int)
        latencies: list[float] = []
        first_error: str | None = None
        try:
            start.wait()
            attempts = 0
            # Every thread completes at least one operation, however short the phase: a
            # phase on a busy machine then still measures something instead of nothing.
            while time.perf_counter() < deadline[0] or not latencies:
                attempts += 1
                if attempts > 1000 and not latencies:
                    raise BenchError("no operation succeeded in 1,000 attempts")
                began = time.perf_counter()
                try:
                    outcome = op(n, rng, state)
                except (DatabaseBusy, BenchBusy):
                    counts["busy"] += 1
                    continue
                except DBAPIError as err:
                    if as_busy(err) is None:
                        raise
                    counts["busy"] += 1
                    continue
                latencies.append(time.perf_counter() - began)
                counts[outcome] += 1
        except Exception as err:  # reported in the table; the phase fails if nothing succeeded
            counts["errors"] += 1
            first_error = f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"
        finally:
            if teardown:
                teardown(state)
        with lock:
            phase.ok += counts["ok"]
            phase.insufficient += counts["insufficient"]
            phase.busy += counts["busy"]
            phase.errors += counts["errors"]
            phase.latencies.extend(latencies)
            phase.first_error = phase.first_error or first_error

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began
    if phase.ok == 0:
        raise BenchError(f"bench phase {name}: nothing succeeded ({phase.first_error})")
    return phase


class BenchBusy(Exception):
    """An HTTP 503/429 (database busy): counted, retried."""


def print_table(echo: Callable[[str], None], phases: Sequence[Phase], basket: int) -> None:
    what = {
        "raw": "a. conditional UPDATE, 1 row, 1 stmt/txn",
        "service": "b. reserve+commit (desk), hot SKU",
        "http": "c. reserve+commit over HTTP, hot SKU",
        "floor": "c0. the same HTTP, routes doing nothing",
        "spread": "d. reserve+commit (desk), spread",
        "order": "b+ reserve+commit (desk)+fulfil, hot",
        "availability": "e. availability, 1 SKU x all locs, 1 thread",
        "basket": f"e. availability, {basket}-SKU basket, 1 thread",
        "availability_loaded": "e. availability, 1 SKU, all threads",
        "basket_loaded": f"e. availability, {basket}-SKU basket, all threads",
    }
    header = ("phase", "ops/s", "ok", "insuff.", "busy", "errors", "p50 ms", "p99 ms")
    rows = [
        (
            what[p.name],
            f"{p.tps:,.1f}",
            f"{p.ok:,}",
            f"{p.insufficient:,}",
            f"{p.busy:,}",
            f"{p.errors:,}",
            f"{p.percentile_ms(0.5):.2f}",
            f"{p.percentile_ms(0.99):.2f}",
        )
        for p in phases
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        echo("  ".join(cells))
    for p in phases:
        if p.first_error:
            echo(f"{p.name}: first error: {p.first_error}")
