"""The inventory API through FastAPI's TestClient: happy paths, permissions and bad input."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onestore.db.database import Database
from onestore.inventory import availability
from onestore.kernel.clock import FrozenClock
from onestore.kernel.ids import new_id

from .conftest import assert_books_balance, row_counts

BASE = "/api/v1/inventory"
Keys = Callable[[dict[str, str]], dict[str, str]]


@pytest.fixture
def api(stock: Database, client: TestClient, admin_headers: dict[str, str], keys: Keys) -> Any:
    """The client, with 20 x SKU-1 and 5 x SKU-2 received at DC-01 by an admin."""
    for sku, quantity in (("SKU-1", 20), ("SKU-2", 5)):
        body = {"sku": sku, "location": "DC-01", "quantity": quantity}
        assert client.post(f"{BASE}/receipts", json=body, headers=keys(admin_headers)).is_success
    yield client
    assert_books_balance(stock)


def reserve_body(*lines: tuple[str, str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "ttl_seconds": 900,
        "lines": [{"sku": s, "location": loc, "quantity": q} for s, loc, q in lines],
        **extra,
    }


def test_receipt_adjustment_and_ledger(
    api: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    body = {"sku": "SKU-1", "location": "DC-01", "quantity": -3, "reason_code": "shrink"}
    answer = api.post(f"{BASE}/adjustments", json=body, headers=keys(admin_headers))
    assert answer.status_code == 200, answer.text
    assert answer.json()["on_hand"] == 17
    page = api.get(f"{BASE}/movements", params={"sku": "SKU-1"}, headers=admin_headers).json()
    assert [(m["kind"], m["on_hand_delta"]) for m in page["items"]] == [
        ("receipt", 20),
        ("adjustment", -3),
    ]
    assert page["items"][1]["actor"].startswith("staff:")


def test_availability_for_skus_locations_and_channels(
    api: TestClient, admin_headers: dict[str, str]
) -> None:
    params: Any = [("sku", "SKU-1"), ("sku", "SKU-2"), ("location", "DC-01")]
    answer = api.get(f"{BASE}/availability", params=params, headers=admin_headers)
    assert [(a["sku"], a["available"]) for a in answer.json()] == [("SKU-1", 20), ("SKU-2", 5)]
    web = api.get(
        f"{BASE}/availability", params={"sku": "SKU-1", "channel": "WEB"}, headers=admin_headers
    ).json()
    assert [(b["location"], b["available"]) for b in web[0]["locations"]] == [
        ("DC-01", 20),
        ("ST-01", 0),
    ]
    missing = api.get(f"{BASE}/availability", params={"sku": "NOPE"}, headers=admin_headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "sku.0"


def test_a_reservation_lifecycle(
    api: TestClient, make_staff: Any, keys: Keys, clock: FrozenClock
) -> None:
    _, cashier = make_staff("cashier")
    rid = new_id()
    body = reserve_body(("SKU-1", "DC-01", 2), ("SKU-2", "DC-01", 1), id=rid, channel="WEB")
    headers = keys(cashier)
    made = api.post(f"{BASE}/reservations", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["id"] == rid and made.json()["status"] == "active"
    again = api.post(f"{BASE}/reservations", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == made.content
    other = api.post(
        f"{BASE}/reservations", json=reserve_body(("SKU-1", "DC-01", 9)), headers=headers
    )
    assert other.status_code == 422  # the same key with another body
    extended = api.post(
        f"{BASE}/reservations/{rid}/extend", json={"ttl_seconds": 60}, headers=keys(cashier)
    )
    assert extended.status_code == 200, extended.text
    committed = api.post(f"{BASE}/reservations/{rid}/commit", headers=keys(cashier))
    assert committed.status_code == 200, committed.text
    assert (committed.json()["kind"], committed.json()["status"]) == ("order", "active")
    assert committed.json()["expires_at"] is None
    fulfilled = api.post(f"{BASE}/reservations/{rid}/fulfil", headers=keys(cashier))
    assert fulfilled.json()["status"] == "fulfilled"
    released = api.post(f"{BASE}/reservations/{rid}/release", headers=keys(cashier))
    assert released.status_code == 409
    assert api.get(f"{BASE}/reservations/{rid}", headers=cashier).json()["status"] == "fulfilled"


def test_an_expired_hold_cannot_be_extended(
    api: TestClient, admin_headers: dict[str, str], keys: Keys, clock: FrozenClock
) -> None:
    made = api.post(
        f"{BASE}/reservations",
        json=reserve_body(("SKU-1", "DC-01", 2), ttl_seconds=60),
        headers=keys(admin_headers),
    ).json()
    clock.advance(__import__("datetime").timedelta(seconds=60))
    late = api.post(
        f"{BASE}/reservations/{made['id']}/extend",
        json={"ttl_seconds": 60},
        headers=keys(admin_headers),
    )
    assert late.status_code == 409 and "expired" in late.json()["detail"]


def test_reservations_of_another_caller_are_not_found(
    api: TestClient, make_staff: Any, keys: Keys
) -> None:
    _, alice = make_staff("cashier")
    _, bob = make_staff("cashier")
    _, manager = make_staff("store_manager")
    rid = api.post(
        f"{BASE}/reservations", json=reserve_body(("SKU-1", "DC-01", 1)), headers=keys(alice)
    ).json()["id"]
    assert api.get(f"{BASE}/reservations/{rid}", headers=bob).status_code == 404
    assert api.post(f"{BASE}/reservations/{rid}/release", headers=keys(bob)).status_code == 404
    assert api.get(f"{BASE}/reservations/{rid}", headers=manager).status_code == 200
    assert api.post(f"{BASE}/reservations/{rid}/release", headers=keys(alice)).status_code == 200


def test_permissions(api: TestClient, make_staff: Any, keys: Keys) -> None:
    _, cashier = make_staff("cashier")
    _, merchandiser = make_staff("merchandiser")
    receipt = {"sku": "SKU-1", "location": "DC-01", "quantity": 1}
    assert api.post(f"{BASE}/receipts", json=receipt, headers=keys(cashier)).status_code == 403
    hold = reserve_body(("SKU-1", "DC-01", 1))
    assert (
        api.post(f"{BASE}/reservations", json=hold, headers=keys(merchandiser)).status_code == 403
    )
    params = {"sku": "SKU-1"}
    assert api.get(f"{BASE}/availability", params=params, headers=merchandiser).status_code == 200
    assert api.get(f"{BASE}/availability", params=params).status_code == 401


@pytest.mark.parametrize(
    ("line", "field", "status"),
    [
        (("NOPE", "DC-01", 1), "lines.0.sku", 422),
        (("SKU-1", "NOPE", 1), "lines.0.location", 422),
        (("SKU-1", "DC-01", 0), "lines.0.quantity", 422),
        (("SKU-1", "DC-01", -2), "lines.0.quantity", 422),
        (("SKU-1", "DC-01", 1.5), "lines.0.quantity", 422),
        (("SKU-1", "DC-01", "3"), "lines.0.quantity", 422),
        (("SKU-1", "DC-01", True), "lines.0.quantity", 422),
        (("SKU-1", "DC-01", 10**7), "lines.0.quantity", 422),
        (("SKU-1", "DC-01", 21), "lines.0.quantity", 409),
    ],
)
def test_bad_reservations_change_nothing(
    api: TestClient,
    stock: Database,
    admin_headers: dict[str, str],
    keys: Keys,
    line: tuple[str, str, Any],
    field: str,
    status: int,
) -> None:
    before = row_counts(stock)
    answer = api.post(f"{BASE}/reservations", json=reserve_body(line), headers=keys(admin_headers))
    assert answer.status_code == status, answer.text
    assert answer.json()["errors"][0]["field"] == field
    after = row_counts(stock)
    before.pop("idempotency_keys"), after.pop("idempotency_keys")  # the 4xx is kept for replay
    assert after == before


@pytest.mark.parametrize(
    "path", ["/reservations/{rid}", "/reservations/{rid}/release", "/reservations/nope/commit"]
)
def test_unknown_reservation_ids_are_404(
    api: TestClient, admin_headers: dict[str, str], keys: Keys, path: str
) -> None:
    url = BASE + path.format(rid=new_id())
    if path.endswith("}"):
        answer = api.get(url, headers=admin_headers)
    else:
        answer = api.post(url, headers=keys(admin_headers))
    assert answer.status_code == 404


def test_bad_receipts_and_adjustments_name_the_field(
    api: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    cases = [
        ("receipts", {"sku": "SKU-1", "location": "DC-01", "quantity": 0}, "quantity"),
        ("receipts", {"sku": "SKU-1", "location": "DC-01", "quantity": 2.0}, "quantity"),
        ("receipts", {"sku": "NOPE", "location": "DC-01", "quantity": 1}, "sku"),
        (
            "adjustments",
            {"sku": "SKU-1", "location": "DC-01", "quantity": 0, "reason_code": "x"},
            "quantity",
        ),
        ("adjustments", {"sku": "SKU-1", "location": "DC-01", "quantity": -1}, "reason_code"),
        (
            "adjustments",
            {"sku": "SKU-1", "location": "DC-01", "quantity": -21, "reason_code": "x"},
            "quantity",
        ),
    ]
    for route, body, field in cases:
        answer = api.post(f"{BASE}/{route}", json=body, headers=keys(admin_headers))
        assert answer.status_code in (409, 422), (body, answer.text)
        assert answer.json()["errors"][0]["field"] == field, (body, answer.json())


def _location_id(db: Database, code: str) -> str:
    from onestore.inventory import refs

    with db.uow(readonly=True) as uow:
        return refs.location_ids(uow, [code], ["location"])[0]


def test_a_goods_receipt_is_all_lines_or_none(
    api: TestClient, stock: Database, admin_headers: dict[str, str], keys: Keys
) -> None:
    body = {
        "location": "ST-01",
        "reference": "ASN-77",
        "lines": [
            {"sku": "SKU-3", "quantity": 4},
            {"sku": "SKU-1", "quantity": 2},
            {"sku": "SKU-3", "quantity": 1},
        ],
    }
    headers = keys(admin_headers)
    answer = api.post(f"{BASE}/goods-receipts", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert [(c["sku"], c["on_hand"]) for c in answer.json()] == [("SKU-3", 5), ("SKU-1", 2)]
    again = api.post(f"{BASE}/goods-receipts", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    before = row_counts(stock)
    bad = {**body, "lines": [{"sku": "SKU-4", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]}
    refused = api.post(f"{BASE}/goods-receipts", json=bad, headers=keys(admin_headers))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lines.1.sku"
    after = row_counts(stock)
    before.pop("idempotency_keys"), after.pop("idempotency_keys")  # the 4xx is kept for replay
    assert after == before


def test_stock_changes_are_scoped_to_a_store_managers_store(
    api: TestClient, stock: Database, make_staff: Any, keys: Keys
) -> None:
    _, manager = make_staff("store_manager", _location_id(stock, "ST-01"))
    own = {"sku": "SKU-1", "location": "ST-01", "quantity": 3}
    assert api.post(f"{BASE}/receipts", json=own, headers=keys(manager)).status_code == 200
    before = row_counts(stock)
    for path, body in (
        ("/receipts", {**own, "location": "ST-02"}),
        ("/adjustments", {**own, "location": "ST-02", "quantity": -1, "reason_code": "shrink"}),
        ("/goods-receipts", {"location": "ST-02", "lines": [{"sku": "SKU-1", "quantity": 1}]}),
    ):
        answer = api.post(f"{BASE}{path}", json=body, headers=keys(manager))
        assert answer.status_code == 403, (path, answer.text)
    after = row_counts(stock)
    before.pop("idempotency_keys"), after.pop("idempotency_keys")
    assert after == before


def test_one_key_raced_from_many_threads_holds_stock_once(
    api: TestClient, stock: Database, admin_headers: dict[str, str]
) -> None:
    """The stock routes store the key in the stock change's own transaction: 12 threads sending
    one reserve with one key make one hold; every other answer is the same response replayed
    (or, on PostgreSQL while the first is still running, a 409 asking to retry)."""
    body = reserve_body(("SKU-1", "DC-01", 3))
    headers = {**admin_headers, "Idempotency-Key": "race-reserve"}
    start = threading.Barrier(12)
    answers: list[Any] = []
    lock = threading.Lock()

    def worker() -> None:
        client = TestClient(api.app, raise_server_exceptions=False)
        start.wait()
        answer = client.post(f"{BASE}/reservations", json=body, headers=headers)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    made = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(made) == 1, [(a.status_code, a.text[:80]) for a in answers]
    for answer in answers:
        if answer is not made[0]:
            assert answer.status_code in (201, 409), answer.text
            if answer.status_code == 201:
                assert answer.content == made[0].content
    with stock.uow(readonly=True) as uow:
        held = availability.availability(uow, ["SKU-1"], locations=["DC-01"])[0]
    assert held.locations[0].reserved == 3


def test_a_refusal_is_stored_with_its_key_and_replayed(
    api: TestClient, admin_headers: dict[str, str], keys: Keys
) -> None:
    headers = keys(admin_headers)
    body = reserve_body(("SKU-2", "DC-01", 6))  # only 5 received
    refused = api.post(f"{BASE}/reservations", json=body, headers=headers)
    assert refused.status_code == 409 and "insufficient" in refused.json()["type"]
    receipt = {"sku": "SKU-2", "location": "DC-01", "quantity": 5}
    assert api.post(f"{BASE}/receipts", json=receipt, headers=keys(admin_headers)).is_success
    again = api.post(f"{BASE}/reservations", json=body, headers=headers)
    assert again.status_code == 409 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == refused.content
    other = api.post(
        f"{BASE}/reservations", json=reserve_body(("SKU-2", "DC-01", 1)), headers=headers
    )
    assert other.status_code == 422


def test_a_store_manager_moves_only_their_own_reservations(
    api: TestClient, stock: Database, admin_headers: dict[str, str], make_staff: Any, keys: Keys
) -> None:
    """A store-scoped inventory.write grant covers stock at that store, not every hold in the
    network: another caller's reservation is not found for them."""
    made = api.post(
        f"{BASE}/reservations",
        json=reserve_body(("SKU-1", "DC-01", 2)),
        headers=keys(admin_headers),
    )
    rid = made.json()["id"]
    _, manager = make_staff("store_manager", _location_id(stock, "ST-01"))
    for action in ("release", "commit", "fulfil"):
        answer = api.post(f"{BASE}/reservations/{rid}/{action}", headers=keys(manager))
        assert answer.status_code == 404, (action, answer.text)
    assert api.get(f"{BASE}/reservations/{rid}", headers=manager).status_code == 404
    assert api.get(f"{BASE}/reservations/{rid}", headers=admin_headers).json()["status"] == "active"


def test_a_busy_answer_is_not_stored_so_the_retry_runs(
    api: TestClient, admin_headers: dict[str, str], keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onestore.inventory import holds
    from onestore.kernel.errors import DatabaseBusy

    real = holds.reserve_many
    calls = []

    def busy_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseBusy("the database is busy; retry")
        return real(*args, **kwargs)

    monkeypatch.setattr(holds, "reserve_many", busy_once)
    headers = keys(admin_headers)
    body = reserve_body(("SKU-1", "DC-01", 1))
    first = api.post(f"{BASE}/reservations", json=body, headers=headers)
    assert first.status_code == 503
    retry = api.post(f"{BASE}/reservations", json=body, headers=headers)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers


def test_a_receipt_past_the_stock_ceiling_is_a_409_and_changes_nothing(
    api: TestClient, stock: Database, admin_headers: dict[str, str], keys: Keys
) -> None:
    """Before the ceiling, PostgreSQL overflowed its 32-bit column and answered 500."""
    from sqlalchemy import update

    from onestore.inventory import balances, refs
    from onestore.inventory.model import MAX_ON_HAND, MAX_QUANTITY, MovementKind
    from onestore.inventory.tables import balances as balance_table

    with stock.uow() as uow:  # a (test-only) shortcut to a balance near the ceiling, books kept
        key = (refs.variant_ids(uow, ["SKU-2"], ["sku"])[0], _location_id(stock, "DC-01"))
        near = MAX_ON_HAND - 5 - 10
        uow.conn.execute(
            update(balance_table)
            .where(balances.where_key(key))
            .values(on_hand=balance_table.c.on_hand + near)
        )
        balances.record(uow, key, MovementKind.RECEIPT, near)
        uow.commit()
    body = {"sku": "SKU-2", "location": "DC-01", "quantity": MAX_QUANTITY}
    for _ in range(2):  # twice: the answer is stable and nothing was half-done
        answer = api.post(f"{BASE}/receipts", json=body, headers=keys(admin_headers))
        assert answer.status_code == 409, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith("stock-ceiling")
        assert answer.json()["errors"][0]["field"] == "quantity"
    body["quantity"] = 10
    answer = api.post(f"{BASE}/receipts", json=body, headers=keys(admin_headers))
    assert answer.status_code == 200 and answer.json()["on_hand"] == MAX_ON_HAND
