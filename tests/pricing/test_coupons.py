"""Coupons: checked when priced, counted exactly once when redeemed, even under a race.

The race tests also run the deliberately naive read-then-write redemption (``coupons._NAIVE``)
and assert the same checks catch it — proof they can fail. That control runs on PostgreSQL
only: SQLite write units of work ``BEGIN IMMEDIATE``, so writers are serialised whatever the
code does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from onestore.db.database import Database
from onestore.kernel.errors import Conflict, ValidationFailed
from onestore.pricing import coupons
from onestore.pricing import tables as t
from onestore.pricing.basket import parse_basket
from onestore.pricing.service import price_basket
from onestore.settings import Settings

from .conftest import load_discounts

WELCOME = {
    "code": "WELCOME",
    "name": "Welcome 15%",
    "kind": "simple",
    "concurrency": "compounded",
    "coupon_required": True,
    "method": "percent",
    "value": "15",
}
DAY = date(2026, 11, 26)
THREADS = 24


def _coupon(db: Database, **limits: object) -> None:
    load_discounts(db, WELCOME, coupons=[{"code": "hello15", "discount": "WELCOME", **limits}])


def redeem(
    db: Database, order: str, customer: str | None = None, code: str = "HELLO15"
) -> list[str]:
    with db.uow() as uow:
        done = coupons.redeem(uow, [code], order_ref=order, customer=customer, day=DAY)
        uow.commit()
    return done


def test_a_coupon_unlocks_its_discount_case_blind(shop: Database) -> None:
    _coupon(shop)
    lines = [{"sku": "TEE-S", "quantity": 1}]
    without = price_basket(shop, parse_basket({"channel": "WEB", "lines": lines}))
    assert without.total.amount == 20
    assert without.lines[0].considered[0].reason == "needs its coupon code"
    with_code = price_basket(
        shop, parse_basket({"channel": "WEB", "lines": lines, "coupons": ["Hello15"]})
    )
    assert with_code.total.amount == 17


def test_single_use_counts_once_per_order_and_refuses_the_next(shop: Database) -> None:
    _coupon(shop, max_uses=1)
    assert redeem(shop, "ORDER-1") == ["HELLO15"]
    assert redeem(shop, "ORDER-1") == []  # the same order retried: not counted again
    with pytest.raises(ValidationFailed, match="coupon HELLO15: has already been used"):
        redeem(shop, "ORDER-2")
    with pytest.raises(ValidationFailed) as caught:
        price_basket(
            shop,
            parse_basket(
                {
                    "channel": "WEB",
                    "coupons": ["x", "hello15"],
                    "lines": [{"sku": "TEE-S", "quantity": 1}],
                }
            ),
        )
    assert [(e.field, e.reason) for e in caught.value.errors] == [
        ("coupons[0]", "coupon X: unknown code"),
        ("coupons[1]", "coupon HELLO15: has already been used"),
    ]
    with shop.uow() as uow:
        assert coupons.release(uow, "ORDER-1") == ["HELLO15"]
        uow.commit()
    assert redeem(shop, "ORDER-3") == ["HELLO15"]  # a cancelled order gave its use back


def test_per_customer_limit_and_dates(shop: Database) -> None:
    _coupon(shop, max_uses_per_customer=1, valid_to="2026-11-30")
    redeem(shop, "O-1", customer="C-1")
    redeem(shop, "O-2", customer="C-2")
    with pytest.raises(ValidationFailed, match="this customer has used it 1 time"):
        redeem(shop, "O-3", customer="C-1")
    with pytest.raises(ValidationFailed, match="the sale needs a customer"):
        redeem(shop, "O-4")
    with shop.uow() as uow, pytest.raises(ValidationFailed, match="expired on 2026-11-30"):
        coupons.check(uow, ["HELLO15"], customer="C-9", day=date(2026, 12, 1))


@pytest.fixture
def wide(shop: Database, db_url: str) -> Iterator[Database]:
    settings = Settings(database_url=db_url, db_pool_size=THREADS, sqlite_busy_timeout_ms=60_000)
    database = Database(settings=settings, clock=shop.clock)
    yield database
    database.dispose()


@pytest.fixture(params=["conditional", "naive"])
def path(request: pytest.FixtureRequest, backend: str, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "naive":
        if backend == "sqlite":
            pytest.skip("SQLite serialises writers: the naive path cannot race there")
        monkeypatch.setattr(coupons, "_NAIVE", True)
    return str(request.param)


def _race(
    db: Database, attempts: list[tuple[str, str | None]], code: str = "HELLO15"
) -> Counter[str]:
    def one(attempt: tuple[str, str | None]) -> str:
        order, customer = attempt
        try:
            redeem(db, order, customer, code)
            return "ok"
        except (Conflict, ValidationFailed):
            return "refused"
        except Exception as err:
            return "refused" if "busy" in str(err).lower() else f"error: {err}"

    with ThreadPoolExecutor(THREADS) as pool:
        return Counter(pool.map(one, attempts))


def _counts(db: Database, code: str = "HELLO15") -> tuple[int, int]:
    with db.uow(readonly=True) as uow:
        uses = uow.conn.execute(
            select(t.coupons.c.uses).where(t.coupons.c.code == code)
        ).scalar_one()
        rows = uow.conn.execute(
            select(func.count())
            .select_from(t.coupon_redemptions)
            .where(t.coupon_redemptions.c.coupon_code == code)
        ).scalar_one()
    return int(uses), int(rows)


def _expect(path: str, check: object) -> None:
    if path == "conditional":
        check()  # type: ignore[operator]
    else:
        with pytest.raises(AssertionError):
            for _ in range(5):  # a race may need a few tries to show
                check()  # type: ignore[operator]


def test_the_last_uses_go_to_exactly_as_many_orders(wide: Database, path: str) -> None:
    tries = iter(range(1000))

    def check() -> None:  # each try races for a fresh coupon, so a try that shows no race
        code = f"LAST{next(tries)}"  # leaves nothing for the next one to trip over
        load_discounts(
            wide, WELCOME, coupons=[{"code": code, "discount": "WELCOME", "max_uses": 10}]
        )
        outcome = _race(wide, [(f"ORDER-{n}", None) for n in range(120)], code)
        uses, rows = _counts(wide, code)
        assert not [k for k in outcome if k.startswith("error")], outcome
        assert outcome["ok"] == rows == uses == 10, (outcome, uses, rows)

    _expect(path, check)


def test_one_customer_racing_their_own_limit_gets_one_use(wide: Database, path: str) -> None:
    _coupon(wide, max_uses_per_customer=1)
    runs = iter(range(1000))

    def check() -> None:
        customer = f"C-{next(runs)}"
        outcome = _race(wide, [(f"O-{customer}-{n}", customer) for n in range(THREADS * 2)])
        assert outcome["ok"] == 1, outcome

    _expect(path, check)


def test_coupons_read_with_the_basket_are_judged_as_when_read_alone(shop: Database) -> None:
    """The service reads a basket's coupons in the same statement as its SKUs (a JSON column,
    ``coupons.coupons_column``); every state of a coupon must come out of it as from its row."""
    load_discounts(
        shop,
        WELCOME,
        coupons=[
            {"code": "OK", "discount": "WELCOME", "max_uses": 5, "max_uses_per_customer": 2},
            {"code": "LATER", "discount": "WELCOME", "valid_from": "2026-12-01"},
            {"code": "GONE", "discount": "WELCOME", "valid_to": "2026-11-25"},
            {"code": "OFF", "discount": "WELCOME", "active": False},
            {"code": "ONCE", "discount": "WELCOME", "max_uses": 1},
        ],
    )
    redeem(shop, "ORDER-1", code="ONCE")
    lines = [{"sku": "TEE-S", "quantity": 1}]
    at = "2026-11-26T12:00:00"
    for code in ("OK", "LATER", "GONE", "OFF", "ONCE", "NOSUCH"):
        try:
            with shop.uow(readonly=True) as uow:
                alone: object = coupons.check(uow, [code], customer=None, day=DAY)
        except ValidationFailed as exc:
            alone = [e.reason for e in exc.errors]
        basket = parse_basket({"channel": "WEB", "lines": lines, "coupons": [code], "at": at})
        try:
            priced: object = price_basket(shop, basket).lines[0].discounts[0].code
        except ValidationFailed as exc:
            priced = [e.reason for e in exc.errors]
        assert (alone, priced) in (({code: "WELCOME"}, "WELCOME"), (priced, priced)), code
    with shop.uow(readonly=True) as uow:
        column = coupons.coupons_column(uow.conn.dialect.name)
        value = uow.conn.execute(select(column), {"coupon_codes": ["OK", "LATER"]}).scalar()
    read = {c.code: c for c in coupons.from_column(value)}
    assert read["OK"] == coupons.Coupon("OK", "WELCOME", 5, 2, 0, None, None, True)
    assert read["LATER"].valid_from == date(2026, 12, 1)
