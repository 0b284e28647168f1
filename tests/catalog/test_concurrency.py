"""Concurrent writers, with real threads, each in its own unit of work, on every backend.

Each test also runs once against a deliberately naive path (``path="naive"``: the lock or the
version check taken out through the ``writes`` module, and the threads lined up so they all
read before any writes) and asserts that the check catches it — proof the test can fail.
That control runs on PostgreSQL only: on SQLite every write unit of work starts with
``BEGIN IMMEDIATE``, so writers are serialised whatever the code does and the naive path is
(correctly) safe there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import update

from onestore.catalog import model, queries, reference, service, taxonomy, writes
from onestore.catalog.importing import import_catalog
from onestore.catalog.schemas import ProductIn, VariantIn
from onestore.catalog.service import ProductChanges
from onestore.db.database import Database
from onestore.kernel.errors import Conflict, ValidationFailed

from .conftest import product, variant

THREADS = 8
GATE_SECONDS = 2.0
SQLITE_SKIP = (
    "SQLite write units of work BEGIN IMMEDIATE, which serialises writers whatever the code "
    "does: the naive path cannot race there"
)


class Gate:
    """Holds each arriving thread until ``parties`` have arrived (or a timeout), so the threads
    hit the racy step together instead of one after another."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.ready = threading.Condition()

    def wait(self) -> None:
        with self.ready:
            self.arrived += 1
            self.ready.notify_all()
            self.ready.wait_for(lambda: self.arrived >= self.parties, timeout=GATE_SECONDS)


@pytest.fixture(params=["locked", "naive"])
def path(request: pytest.FixtureRequest, backend: str) -> str:
    if request.param == "naive" and backend == "sqlite":
        pytest.skip(SQLITE_SKIP)
    return str(request.param)


@pytest.fixture
def gate(backend: str) -> Gate:
    # On SQLite writers queue on BEGIN IMMEDIATE, so at most one is ever at the gate.
    return Gate(THREADS if backend == "postgresql" else 1)


def in_threads(work: Callable[[int], str], n: int = THREADS) -> list[str]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(work, range(n)))


def expect(path: str, check: Callable[[], None]) -> None:
    """The invariant holds on the real path and is caught broken on the naive one."""
    if path == "locked":
        check()
    else:
        with pytest.raises(AssertionError):
            check()


@pytest.fixture
def shirt(reference: Database) -> Iterator[Database]:
    """Product P-1 (varies by size; variants S and M)."""
    with reference.uow() as uow:
        service.create_product(uow, ProductIn.model_validate(product("P-1")).to_draft())
        uow.commit()
    yield reference


def test_concurrent_patches_with_one_version_one_wins(
    shirt: Database, path: str, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writes.bump_version

    def gated(uow: Any, table: Any, row_id: str, version: int, values: Any) -> bool:
        gate.wait()  # everyone has read version 1
        if path == "locked":
            return real(uow, table, row_id, version, values)
        uow.conn.execute(  # naive: read-then-write, the version not re-checked
            update(table).where(table.c.id == row_id).values(**values, version=version + 1)
        )
        return True

    monkeypatch.setattr(writes, "bump_version", gated)

    def patch(i: int) -> str:
        try:
            with shirt.uow() as uow:
                changes = ProductChanges(name=f"Shirt {i}")
                service.update_product(uow, "P-1", version=1, changes=changes)
                uow.commit()
            return "ok"
        except Conflict:
            return "conflict"

    results = in_threads(patch)

    def check() -> None:
        assert results.count("ok") == 1 and results.count("conflict") == THREADS - 1, results

    expect(path, check)
    with shirt.uow(readonly=True) as uow:
        assert queries.get_product_or_raise(uow, "P-1").version == 2


def test_concurrent_add_variant_with_one_combination_adds_one(
    shirt: Database, path: str, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_lock, real_read = writes.lock_product, service.get_product_or_raise

    def lock(uow: Any, product_id: str) -> None:
        if path == "locked":
            gate.wait()
            real_lock(uow, product_id)

    def read(uow: Any, ref: str) -> Any:
        found = real_read(uow, ref)
        if path == "naive":
            gate.wait()  # everyone has seen "size L is free"
        return found

    monkeypatch.setattr(writes, "lock_product", lock)
    monkeypatch.setattr(service, "get_product_or_raise", read)

    def add(i: int) -> str:
        draft = VariantIn.model_validate(variant(f"P-1-L{i}", size="L")).to_draft()
        try:
            with shirt.uow() as uow:
                service.add_variant(uow, "P-1", draft)
                uow.commit()
            return "ok"
        except ValidationFailed as err:
            assert "already used" in err.errors[0].reason
            return "refused"

    results = in_threads(add)

    def check() -> None:
        assert results.count("ok") == 1, results
        with shirt.uow(readonly=True) as uow:
            sizes = [v.size for v in queries.get_product_or_raise(uow, "P-1").variants]
        assert sorted(sizes) == ["L", "M", "S"], sizes

    expect(path, check)


def test_concurrent_opposite_category_moves_never_make_a_loop(
    reference: Database, path: str, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with reference.uow() as uow:
        taxonomy.create_category(uow, code="a", name="A")
        taxonomy.create_category(uow, code="b", name="B")
        uow.commit()
    real_lock, real_parents = writes.lock_category_tree, taxonomy.category_parents

    def lock(uow: Any) -> None:
        if path == "locked":
            gate.wait()
            real_lock(uow)

    def parents(uow: Any) -> dict[str, str | None]:
        tree = real_parents(uow)
        if path == "naive":
            gate.wait()  # both directions have read a tree without a loop
        return tree

    monkeypatch.setattr(writes, "lock_category_tree", lock)
    monkeypatch.setattr(taxonomy, "category_parents", parents)

    def move(i: int) -> str:
        code, parent = ("a", "b") if i % 2 else ("b", "a")
        try:
            with reference.uow() as uow:
                taxonomy.update_category(uow, code, parent=parent)
                uow.commit()
            return "moved"
        except ValidationFailed:
            return "refused"

    results = in_threads(move)

    def check() -> None:
        with reference.uow(readonly=True) as uow:
            tree = reference_parents(uow)
        assert not model.categories_in_cycles(tree), results

    expect(path, check)


def reference_parents(uow: Any) -> dict[str, str | None]:
    return reference.category_parents(uow)


def test_import_concurrent_with_patches_never_loses_a_patch(
    reference: Database, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import loads, then patches are attempted before it writes: each patch either lands
    after the import (it is the final value) or is refused as a conflict — never silently
    overwritten by the import's stale snapshot."""
    codes = [f"Q-{i}" for i in range(THREADS)]
    with reference.uow() as uow:
        for code in codes:
            body = product(code, variants=[], description="as created")
            service.create_product(uow, ProductIn.model_validate(body).to_draft())
        uow.commit()
    if path == "naive":
        monkeypatch.setattr(writes, "lock_rows", lambda uow, table, ids: None)
    loaded = threading.Event()
    finished = threading.Semaphore(0)
    document = {
        "format": "onestore.catalog/1",
        "products": [
            {"code": code, "name": "Linen shirt", "unit": "ea", "description": "imported"}
            for code in codes
        ],
    }

    def between_load_and_write(_done: int, _total: int) -> None:
        if loaded.is_set():
            return
        loaded.set()
        deadline = time.monotonic() + 0.5  # let the patches commit (or block on the lock)
        for _ in codes:
            if not finished.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break

    def run_import() -> None:
        with reference.uow() as uow:
            import_catalog(uow, document, progress=between_load_and_write)
            uow.commit()

    results: dict[str, str] = {}

    def patch(i: int) -> str:
        loaded.wait(5)
        try:
            with reference.uow() as uow:
                changes = ProductChanges(description=f"patched {i}")
                service.update_product(uow, codes[i], version=1, changes=changes)
                uow.commit()
            results[codes[i]] = "ok"
        except Conflict:
            results[codes[i]] = "conflict"
        finally:
            finished.release()
        return results[codes[i]]

    importer = threading.Thread(target=run_import)
    importer.start()
    in_threads(patch)
    importer.join()

    def check() -> None:
        with reference.uow(readonly=True) as uow:
            for i, code in enumerate(codes):
                description = queries.get_product_or_raise(uow, code).description
                lost = results[code] == "ok" and description != f"patched {i}"
                assert not lost, f"{code}: patch reported ok, import overwrote it: {description}"

    expect(path, check)
