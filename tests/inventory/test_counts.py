"""Cycle counts and inventory record accuracy on both backends: the use cases, the API, the
CLI and the stock page. After every test the books balance."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onestore.cli import main
from onestore.db.database import Database
from onestore.db.tables import outbox
from onestore.inventory import (
    availability,
    counts,
    counts_queries,
    holds,
    refs,
    reservations,
    service,
)
from onestore.inventory.counts import ReservedNotCovered
from onestore.kernel.clock import FrozenClock
from onestore.kernel.errors import Conflict, NotFound, ValidationFailed
from onestore.settings import Settings, get_settings

from .conftest import LOCATIONS, assert_books_balance, row_counts, run

BASE = "/api/v1/inventory"
Keys = Callable[[dict[str, str]], dict[str, str]]


@pytest.fixture
def inv(stock: Database) -> Iterator[Database]:
    yield stock
    assert_books_balance(stock)


def receive(db: Database, location: str, **quantities: int) -> None:
    for sku, quantity in quantities.items():
        run(db, service.receive, sku.replace("_", "-"), location, quantity)


def on_hand(db: Database, sku: str, location: str) -> tuple[int, int]:
    """(on hand, reserved) of one balance."""
    with db.uow(readonly=True) as uow:
        line = availability.availability(uow, [sku], locations=[location])[0].locations[0]
    return line.on_hand, line.reserved


def counted_task(db: Database, location: str, found: dict[str, int]) -> Any:
    """A task over ``found``'s SKUs with every count entered (status ``counted``)."""
    task = run(db, counts.create_task, location, list(found))
    return run(db, counts.enter_counts, task.id, list(found.items()))


def events(db: Database, event_type: str) -> int:
    with db.uow(readonly=True) as uow:
        query = select(func.count()).select_from(outbox).where(outbox.c.event_type == event_type)
        return int(uow.conn.execute(query).scalar_one())


def count_moves(db: Database, location: str) -> list[tuple[str, int, str | None]]:
    with db.uow(readonly=True) as uow:
        page = service.list_movements(uow, location=location)
    return [(m.sku, m.on_hand_delta, m.reference) for m in page.items if m.kind == "count_variance"]


# -- the life of a count --------------------------------------------------------------------------
def test_variances_up_down_and_zero_post_as_count_variance_movements(inv: Database) -> None:
    receive(inv, "ST-01", SKU_1=10, SKU_2=5, SKU_3=7)
    task = run(inv, counts.create_task, "ST-01", ["SKU-1", "SKU-2", "SKU-3"], "aisle 4", "clerk")
    assert (task.number, task.status, task.location, task.created_by) == (
        "CC-000001",
        "open",
        "ST-01",
        "clerk",
    )
    assert [(ln.sku, ln.expected, ln.counted) for ln in task.lines] == [
        ("SKU-1", None, None),
        ("SKU-2", None, None),
        ("SKU-3", None, None),
    ]
    partly = run(inv, counts.enter_counts, task.id, [("SKU-1", 12)])
    assert partly.status == "open" and partly.counted_lines == 1
    done = run(inv, counts.enter_counts, task.number, [("SKU-2", 3), ("SKU-3", 7)])
    assert done.status == "counted" and done.counted_at is not None
    assert [(ln.expected, ln.counted, ln.variance) for ln in done.lines] == [
        (10, 12, 2),
        (5, 3, -2),
        (7, 7, 0),
    ]
    assert done.variance_units == 4
    posted = run(inv, counts.post, task.id, actor="clerk")
    assert posted.status == "posted" and posted.posted_at is not None
    assert [on_hand(inv, s, "ST-01")[0] for s in ("SKU-1", "SKU-2", "SKU-3")] == [12, 3, 7]
    assert count_moves(inv, "ST-01") == [("SKU-1", 2, "CC-000001"), ("SKU-2", -2, "CC-000001")]
    assert events(inv, "inventory.count_created") == 1
    assert events(inv, "inventory.count_posted") == 1
    assert events(inv, "inventory.availability_changed") == 3 + 2  # receipts + two variances


def test_posting_applies_the_variance_so_a_sale_after_the_count_is_kept(inv: Database) -> None:
    receive(inv, "ST-01", SKU_1=10)
    task = counted_task(inv, "ST-01", {"SKU-1": 8})  # two units missing
    run(inv, service.record_sale, "SKU-1", "ST-01", 3)  # sold after counting, before posting
    run(inv, counts.post, task.id)
    assert on_hand(inv, "SKU-1", "ST-01") == (5, 0)  # 10 - 3 sold - 2 missing, not 8


def test_a_recount_overwrites_and_expected_is_the_books_at_entry(inv: Database) -> None:
    receive(inv, "ST-01", SKU_1=10)
    task = counted_task(inv, "ST-01", {"SKU-1": 8})
    run(inv, service.receive, "SKU-1", "ST-01", 4)
    again = run(inv, counts.enter_counts, task.id, [("SKU-1", 13)])
    assert (again.status, again.lines[0].expected, again.lines[0].variance) == ("counted", 14, -1)
    run(inv, counts.post, task.id)
    assert on_hand(inv, "SKU-1", "ST-01") == (13, 0)


def test_a_sku_never_stocked_here_can_be_found(inv: Database) -> None:
    task = counted_task(inv, "ST-02", {"SKU-5": 2})
    assert task.lines[0].expected == 0
    run(inv, counts.post, task.id)
    assert on_hand(inv, "SKU-5", "ST-02") == (2, 0)


def test_numbers_count_up_and_tasks_are_found_by_id_or_number(inv: Database) -> None:
    first = run(inv, counts.create_task, "ST-01", ["SKU-1"])
    second = run(inv, counts.create_task, "ST-02", ["SKU-1"])  # another location: allowed
    assert (first.number, second.number) == ("CC-000001", "CC-000002")
    with inv.uow(readonly=True) as uow:
        assert counts_queries.get_task_or_raise(uow, "CC-000002").id == second.id
        page = counts_queries.list_tasks(uow, location="ST-01")
        assert [(t.number, t.lines, t.counted_lines) for t in page.items] == [("CC-000001", 1, 0)]
        assert counts_queries.list_tasks(uow, status="posted").items == []
        with pytest.raises(NotFound):
            counts_queries.get_task_or_raise(uow, "CC-000009")


def test_without_skus_it_picks_stocked_skus_least_recently_counted_first(inv: Database) -> None:
    receive(inv, "ST-01", SKU_1=1, SKU_2=2, SKU_3=3)
    receive(inv, "ST-02", SKU_4=4)
    done = counted_task(inv, "ST-01", {"SKU-2": 2})
    run(inv, counts.post, done.id)
    task = run(inv, counts.create_task, "ST-01")
    assert sorted(ln.sku for ln in task.lines[:2]) == ["SKU-1", "SKU-3"]
    assert task.lines[2].sku == "SKU-2"  # counted before: last in the queue
    with pytest.raises(ValidationFailed) as err:  # all of them are on that open task now
        run(inv, counts.create_task, "ST-01")
    assert err.value.errors[0].field == "skus"


def test_a_sku_is_on_one_open_count_per_location(inv: Database) -> None:
    receive(inv, "ST-01", SKU_1=1, SKU_2=1)
    first = run(inv, counts.create_task, "ST-01", ["SKU-1"])
    with pytest.raises(Conflict) as err:
        run(inv, counts.create_task, "ST-01", ["SKU-2", "SKU-1"])
    assert err.value.errors[0].field == "skus.1"
    assert "CC-000001" in err.value.errors[0].reason
    picked = run(inv, counts.create_task, "ST-01")  # skips SKU-1
    assert [ln.sku for ln in picked.lines] == ["SKU-2"]
    run(inv, counts.cancel, first.id)
    assert run(inv, counts.create_task, "ST-01", ["SKU-1"]).status == "open"
    assert events(inv, "inventory.count_cancelled") == 1


# -- reserved coverage ----------------------------------------------------------------------------
def hold(db: Database, *lines: tuple[str, str, int], ttl: timedelta | None = None) -> Any:
    with db.uow() as uow:
        made = holds.reserve(
            uow,
            reservations.line_requests(uow, list(lines)),
            kind="soft",
            ttl=ttl or timedelta(minutes=15),
        )
        uow.commit()
    return made


def test_a_shortfall_under_reserved_units_is_a_409_and_changes_nothing(inv: Database) -> None:
    receive(inv, "ST-01", SKU_1=5, SKU_2=5)
    held = hold(inv, ("SKU-1", "ST-01", 4))
    task = counted_task(inv, "ST-01", {"SKU-1": 2, "SKU-2": 6})
    before = row_counts(inv)
    with pytest.raises(ReservedNotCovered) as err:
        run(inv, counts.post, task.id)
    assert err.value.status == 409
    assert err.value.errors[0].field == "lines.0.counted"
    assert "SKU-1" in err.value.detail and "4 are reserved" in err.value.detail
    assert row_counts(inv) == before
    assert on_hand(inv, "SKU-1", "ST-01") == (5, 4) and on_hand(inv, "SKU-2", "ST-01") == (5, 0)
    with inv.uow(readonly=True) as uow:
        assert counts_queries.get_task_or_raise(uow, task.id).status == "counted"
    run(inv, reservations.release, held.id)  # the store resolves the promise, then posts
    run(inv, counts.post, task.id)
    assert on_hand(inv, "SKU-1", "ST-01") == (2, 0) and on_hand(inv, "SKU-2", "ST-01") == (6, 0)


def test_lapsed_soft_holds_are_freed_before_a_shortfall_is_refused(
    inv: Database, clock: FrozenClock
) -> None:
    receive(inv, "ST-01", SKU_1=5)
    receive(inv, "DC-01", SKU_1=3)
    held = hold(inv, ("SKU-1", "ST-01", 4), ("SKU-1", "DC-01", 1), ttl=timedelta(minutes=5))
    task = counted_task(inv, "ST-01", {"SKU-1": 2})
    clock.advance(timedelta(minutes=6))
    run(inv, counts.post, task.id)
    assert on_hand(inv, "SKU-1", "ST-01") == (2, 0)
    assert on_hand(inv, "SKU-1", "DC-01") == (3, 0)  # its line elsewhere is given back too
    with inv.uow(readonly=True) as uow:
        assert reservations.get_reservation_or_raise(uow, held.id).status == "expired"


# -- wrong status and bad input -------------------------------------------------------------------
def test_transitions_in_the_wrong_status_are_409(inv: Database) -> None:
    receive(inv, "ST-01", SKU_1=3)
    task = run(inv, counts.create_task, "ST-01", ["SKU-1", "SKU-2"])
    with pytest.raises(Conflict, match="it is open"):
        run(inv, counts.post, task.id)
    run(inv, counts.enter_counts, task.id, [("SKU-1", 3), ("SKU-2", 0)])
    run(inv, counts.post, task.id)
    for call in (
        lambda uow: counts.post(uow, task.id),
        lambda uow: counts.cancel(uow, task.id),
        lambda uow: counts.enter_counts(uow, task.id, [("SKU-1", 1)]),
    ):
        with pytest.raises(Conflict, match="it is posted"):
            run(inv, call)
    other = run(inv, counts.create_task, "ST-01", ["SKU-1"])
    run(inv, counts.cancel, other.id)
    with pytest.raises(Conflict, match="it is cancelled"):
        run(inv, counts.enter_counts, other.id, [("SKU-1", 1)])
    assert count_moves(inv, "ST-01") == []  # every line matched: nothing moved


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda uow, t: counts.create_task(uow, "NOPE", ["SKU-1"]), "location"),
        (lambda uow, t: counts.create_task(uow, "ST-01", ["SKU-1", "NOPE"]), "skus.1"),
        (lambda uow, t: counts.create_task(uow, "ST-01", []), "skus"),
        (lambda uow, t: counts.create_task(uow, "ST-02"), "skus"),  # nothing stocked there
        (lambda uow, t: counts.create_task(uow, "ST-01", ["SKU-2"], "x" * 101), "reference"),
        (lambda uow, t: counts.enter_counts(uow, t, [("NOPE", 1)]), "counts.0.sku"),
        (lambda uow, t: counts.enter_counts(uow, t, [("SKU-1", 1), ("SKU-3", 1)]), "counts.1.sku"),
        (lambda uow, t: counts.enter_counts(uow, t, [("SKU-1", 1), ("SKU-1", 2)]), "counts.1.sku"),
        (lambda uow, t: counts.enter_counts(uow, t, [("SKU-1", -1)]), "counts.0.counted"),
        (lambda uow, t: counts.enter_counts(uow, t, [("SKU-1", 2.5)]), "counts.0.counted"),
        (lambda uow, t: counts.enter_counts(uow, t, [("SKU-1", 10**9)]), "counts.0.counted"),
        (lambda uow, t: counts.enter_counts(uow, t, [("SKU-1", True)]), "counts.0.counted"),
        (lambda uow, t: counts.enter_counts(uow, t, [("SKU-1", "3")]), "counts.0.counted"),
        (lambda uow, t: counts.enter_counts(uow, t, []), "counts"),
        (lambda uow, t: counts.accuracy(uow, "NOPE"), "location"),
        (lambda uow, t: counts.accuracy(uow, None, None, Decimal("100.5")), "tolerance_percent"),
        (lambda uow, t: counts.accuracy(uow, None, None, Decimal("0.001")), "tolerance_percent"),
        (lambda uow, t: counts.accuracy(uow, None, None, Decimal("NaN")), "tolerance_percent"),
        (lambda uow, t: counts.accuracy(uow, tolerance_units=-1), "tolerance_units"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    inv: Database, call: Any, field: str
) -> None:
    receive(inv, "ST-01", SKU_1=3)
    task = run(inv, counts.create_task, "ST-01", ["SKU-1", "SKU-2"])
    before = row_counts(inv)
    with pytest.raises(ValidationFailed) as err:
        run(inv, call, task.id)
    assert err.value.status == 422
    assert err.value.errors[0].field == field, err.value.errors
    assert row_counts(inv) == before


def test_an_unknown_task_is_404(inv: Database) -> None:
    for call in (counts.post, counts.cancel):
        with pytest.raises(NotFound):
            run(inv, call, "01ARZ3NDEKTSV4RRFFQ69G5FAV")


# -- inventory record accuracy --------------------------------------------------------------------
def post_counted(db: Database, location: str, books: dict[str, int], found: dict[str, int]) -> None:
    """Receive ``books`` (on top of what is there), count ``found`` and post."""
    receive(db, location, **{k.replace("-", "_"): v for k, v in books.items() if v})
    run(db, counts.post, counted_task(db, location, found).id)


def test_accuracy_counts_lines_within_the_tolerance(inv: Database) -> None:
    post_counted(
        inv,
        "ST-01",
        {"SKU-1": 10, "SKU-2": 100, "SKU-3": 5, "SKU-4": 0},
        {"SKU-1": 10, "SKU-2": 98, "SKU-3": 6, "SKU-4": 0},
    )
    run(inv, counts.create_task, "ST-01", ["SKU-5"])  # open tasks do not count

    def ira(**tolerance: Any) -> Any:
        with inv.uow(readonly=True) as uow:
            percent = tolerance.pop("percent", 0)
            return counts.accuracy(uow, None, None, percent, **tolerance).locations

    [exact] = ira()
    assert (exact.location, exact.counts, exact.lines, exact.accurate_lines) == ("ST-01", 1, 4, 2)
    assert (exact.absolute_variance, exact.ira_percent) == (3, Decimal("50.0"))
    assert exact.below_target and exact.flag == "below 95% breaks unified commerce"
    assert ira(percent=Decimal(2))[0].accurate_lines == 3  # 2 of 100 is within 2 %
    assert ira(tolerance_units=1)[0].accurate_lines == 3  # 1 of 5 is within 1 unit
    both = ira(percent=2, tolerance_units=1)[0]
    assert (both.accurate_lines, both.ira_percent, both.below_target, both.flag) == (
        4,
        Decimal("100.0"),
        False,
        None,
    )


def test_accuracy_per_location_and_window(inv: Database, clock: FrozenClock) -> None:
    post_counted(inv, "ST-01", {"SKU-1": 4}, {"SKU-1": 3})
    clock.advance(timedelta(days=100))
    found = {f"SKU-{i}": 1 for i in range(1, 6)}
    post_counted(inv, "ST-02", found, {**found, "SKU-5": 0})
    since = clock.now() - timedelta(days=90)
    with inv.uow(readonly=True) as uow:
        everything = counts.accuracy(uow).locations
        recent = counts.accuracy(uow, since=since).locations
        quiet = counts.accuracy(uow, "ST-01", since).locations
    assert [(a.location, a.lines, a.accurate_lines, a.ira_percent) for a in everything] == [
        ("ST-01", 1, 0, Decimal("0.0")),
        ("ST-02", 5, 4, Decimal("80.0")),
    ]
    assert [a.location for a in recent] == ["ST-02"]
    assert [(a.location, a.lines, a.ira_percent, a.below_target) for a in quiet] == [
        ("ST-01", 0, None, False)
    ]


def test_ira_rounds_down_so_the_flag_and_the_figure_agree() -> None:
    assert counts.ira_percent(2, 3) == Decimal("66.6")
    assert counts.ira_percent(1899, 2000) == Decimal("94.9")  # 94.95 is below 95
    assert counts.ira_percent(19, 20) == Decimal("95.0")
    assert counts.ira_percent(0, 0) is None


# -- concurrency ----------------------------------------------------------------------------------
THREADS = 16


@pytest.fixture
def wide(inv: Database, db_url: str) -> Iterator[Database]:
    """The same database through a pool wide enough for every thread to be in flight at once."""
    settings = Settings(database_url=db_url, db_pool_size=THREADS, sqlite_busy_timeout_ms=60_000)
    database = Database(settings=settings, clock=inv.clock)
    yield database
    database.dispose()


def race(db: Database, calls: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each call in its own unit of work on its own thread; the results or the errors."""
    start = threading.Barrier(len(calls))

    def one(call: Callable[[Any], Any]) -> Any:
        start.wait()
        try:
            return run(db, call)
        except (Conflict, ValidationFailed) as err:
            return err

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def test_racing_creators_get_distinct_numbers_and_one_task_per_sku(wide: Database) -> None:
    combos = [(sku, loc) for sku in ("SKU-1", "SKU-2", "SKU-3", "SKU-4") for loc in LOCATIONS]
    made = race(
        wide, [lambda uow, s=s, loc=loc: counts.create_task(uow, loc, [s]) for s, loc in combos]
    )
    assert sorted(t.number for t in made) == [counts.format_number(n) for n in range(1, 13)]
    receive(wide, "ST-01", SKU_5=1)  # an existing balance: only the row lock orders them
    same = race(wide, [lambda uow: counts.create_task(uow, "ST-01", ["SKU-5"])] * THREADS)
    assert sum(1 for r in same if isinstance(r, counts_queries.CountTaskView)) == 1
    assert all(
        isinstance(r, Conflict) for r in same if not isinstance(r, counts_queries.CountTaskView)
    )


def test_racing_posts_correct_the_books_once(wide: Database) -> None:
    receive(wide, "ST-01", SKU_1=10)
    task = counted_task(wide, "ST-01", {"SKU-1": 7})
    results = race(wide, [lambda uow: counts.post(uow, task.id)] * THREADS)
    assert sum(1 for r in results if isinstance(r, counts_queries.CountTaskView)) == 1
    assert on_hand(wide, "SKU-1", "ST-01") == (7, 0)
    assert count_moves(wide, "ST-01") == [("SKU-1", -3, "CC-000001")]


# -- API ------------------------------------------------------------------------------------------
@pytest.fixture
def api(inv: Database, client: TestClient) -> TestClient:
    receive(inv, "ST-01", SKU_1=10, SKU_2=4)
    return client


def location_id(db: Database, code: str) -> str:
    with db.uow(readonly=True) as uow:
        return refs.location_ids(uow, [code], ["location"])[0]


def test_api_count_lifecycle_with_idempotent_replay(
    api: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    headers = keys(admin_headers)
    body = {"location": "ST-01", "skus": ["SKU-1", "SKU-2"], "reference": "aisle 1"}
    made = api.post(f"{BASE}/counts", json=body, headers=headers)
    assert made.status_code == 201, made.text
    again = api.post(f"{BASE}/counts", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == made.content
    task = made.json()
    assert (task["number"], task["status"]) == ("CC-000001", "open")
    url = f"{BASE}/counts/{task['number']}"
    entries = {"counts": [{"sku": "SKU-1", "counted": 9}, {"sku": "SKU-2", "counted": 4}]}
    entered = api.post(f"{url}/entries", json=entries, headers=keys(admin_headers))
    assert entered.status_code == 200, entered.text
    assert [ln["variance"] for ln in entered.json()["lines"]] == [-1, 0]
    post_headers = keys(admin_headers)
    posted = api.post(f"{url}/post", headers=post_headers)
    assert posted.json()["status"] == "posted"
    replay = api.post(f"{url}/post", headers=post_headers)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == posted.content
    assert api.post(f"{url}/post", headers=keys(admin_headers)).status_code == 409
    movements = api.get(f"{BASE}/movements", params={"location": "ST-01"}, headers=admin_headers)
    assert [m["on_hand_delta"] for m in movements.json()["items"]].count(-1) == 1
    listed = api.get(f"{BASE}/counts", params={"status": "posted"}, headers=admin_headers).json()
    assert [t["number"] for t in listed["items"]] == ["CC-000001"]
    report = api.get(f"{BASE}/accuracy", params={"location": "ST-01"}, headers=admin_headers)
    assert report.status_code == 200, report.text
    [st01] = report.json()["locations"]
    assert (st01["lines"], st01["accurate_lines"], st01["ira_percent"]) == (2, 1, "50.0")
    assert st01["below_target"] is True


def test_api_writes_need_inventory_write_at_the_task_location(
    api: TestClient, inv: Database, make_staff: Any, keys: Keys
) -> None:
    _, here = make_staff("store_manager", location_id(inv, "ST-01"))
    _, elsewhere = make_staff("store_manager", location_id(inv, "ST-02"))
    _, cashier = make_staff("cashier")
    _, merchandiser = make_staff("merchandiser")
    body = {"location": "ST-01", "skus": ["SKU-1"]}
    assert api.post(f"{BASE}/counts", json=body, headers=keys(elsewhere)).status_code == 403
    assert api.post(f"{BASE}/counts", json=body, headers=keys(cashier)).status_code == 403
    made = api.post(f"{BASE}/counts", json=body, headers=keys(here))
    assert made.status_code == 201, made.text
    url = f"{BASE}/counts/{made.json()['id']}"
    entries = {"counts": [{"sku": "SKU-1", "counted": 10}]}
    denied = api.post(f"{url}/entries", json=entries, headers=keys(elsewhere))
    assert denied.status_code == 403 and "location" in denied.json()["detail"]
    assert api.post(f"{url}/entries", json=entries, headers=keys(here)).status_code == 200
    assert api.post(f"{url}/post", headers=keys(elsewhere)).status_code == 403
    assert api.post(f"{url}/cancel", headers=keys(elsewhere)).status_code == 403
    assert api.post(f"{url}/post", headers=keys(here)).status_code == 200
    for reader in (merchandiser, elsewhere, cashier):
        assert api.get(url, headers=reader).status_code == 200
        assert api.get(f"{BASE}/accuracy", headers=reader).status_code == 200
    assert api.get(f"{BASE}/accuracy").status_code == 401


@pytest.mark.parametrize(
    ("counted", "field"),
    [(-1, "counts.0.counted"), (1.5, "counts.0.counted"), ("3", "counts.0.counted"),
     (True, "counts.0.counted"), (10**7, "counts.0.counted")],
)  # fmt: skip
def test_api_bad_counts_are_422_and_change_nothing(
    api: TestClient,
    inv: Database,
    admin_headers: dict[str, str],
    keys: Keys,
    counted: Any,
    field: str,
) -> None:
    made = api.post(
        f"{BASE}/counts", json={"location": "ST-01"}, headers=keys(admin_headers)
    ).json()
    before = row_counts(inv)
    answer = api.post(
        f"{BASE}/counts/{made['id']}/entries",
        json={"counts": [{"sku": "SKU-1", "counted": counted}]},
        headers=keys(admin_headers),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field
    after = row_counts(inv)
    before.pop("idempotency_keys"), after.pop("idempotency_keys")  # the 4xx is kept for replay
    assert after == before


def test_api_reserved_shortfall_is_a_problem_naming_the_line(
    api: TestClient, inv: Database, admin_headers: dict[str, str], keys: Keys
) -> None:
    hold(inv, ("SKU-2", "ST-01", 3))
    task = counted_task(inv, "ST-01", {"SKU-1": 10, "SKU-2": 1})
    answer = api.post(f"{BASE}/counts/{task.id}/post", headers=keys(admin_headers))
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["type"].endswith("reserved-not-covered")
    assert problem["errors"][0]["field"] == "lines.1.counted"
    assert on_hand(inv, "SKU-2", "ST-01") == (4, 3)


def test_the_stock_page_shows_the_location_ira(
    api: TestClient, inv: Database, admin_headers: dict[str, str]
) -> None:
    page = api.get("/backoffice/locations/ST-01/stock", headers=admin_headers)
    assert page.status_code == 200 and "no posted cycle counts yet" in page.text
    run(inv, counts.post, counted_task(inv, "ST-01", {"SKU-1": 10, "SKU-2": 3}).id)
    page = api.get("/backoffice/locations/ST-01/stock", headers=admin_headers)
    assert "<strong>50.0 %</strong>" in page.text and "Below 95% breaks unified" in page.text
    assert "<script" not in page.text.split("<main", 1)[-1].split("</main>", 1)[0]
    run(inv, counts.post, counted_task(inv, "ST-02", {"SKU-3": 0}).id)
    other = api.get("/backoffice/locations/ST-02/stock", headers=admin_headers)
    assert "<strong>100.0 %</strong>" in other.text and "On target" in other.text


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_prints_accuracy_per_location(
    inv: Database, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    post_counted(inv, "ST-01", {"SKU-1": 2, "SKU-2": 2}, {"SKU-1": 2, "SKU-2": 1})
    post_counted(inv, "ST-02", {"SKU-1": 2}, {"SKU-1": 2})
    monkeypatch.setenv("ONESTORE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        # The test clock stands at 2026-01-01; the command reads the system clock.
        main(["inventory", "accuracy", "--days", "3650"])
        table = capsys.readouterr().out.splitlines()
        assert table[1].split() == [
            "location", "IRA", "%", "counts", "lines", "accurate", "|variance|", "flag"
        ]  # fmt: skip
        assert table[2].split()[:6] == ["ST-01", "50.0", "1", "2", "1", "1"]
        assert table[2].endswith("below 95% breaks unified commerce")
        assert table[3].split() == ["ST-02", "100.0", "1", "1", "1", "0", "ok"]
        main(["inventory", "accuracy", "--location", "DC-01", "--days", "3650"])
        assert capsys.readouterr().out.splitlines()[2].split()[:2] == ["DC-01", "—"]
        with pytest.raises(SystemExit) as done:
            main(["inventory", "accuracy", "--location", "NOPE"])
        assert done.value.code == 2
        assert capsys.readouterr().err.strip() == "error: location: no location 'NOPE'"
    finally:
        get_settings.cache_clear()


def test_every_short_line_is_named_not_only_the_first(inv: Database) -> None:
    """Posting goes on past the first short line and names every one, so the store sees all
    the promises to resolve at once; still nothing changes."""
    receive(inv, "ST-01", SKU_1=5, SKU_2=5, SKU_3=5)
    hold(inv, ("SKU-1", "ST-01", 4), ("SKU-3", "ST-01", 3))
    task = counted_task(inv, "ST-01", {"SKU-1": 2, "SKU-2": 1, "SKU-3": 0})
    before = row_counts(inv)
    with pytest.raises(ReservedNotCovered) as err:
        run(inv, counts.post, task.id)
    assert [e.field for e in err.value.errors] == ["lines.0.counted", "lines.2.counted"]
    assert row_counts(inv) == before
