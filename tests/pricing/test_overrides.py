"""Manual price overrides: reason code, per-role limit, a different manager above it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from onestore.auth import service as auth_service
from onestore.auth.model import Principal
from onestore.db.database import Database
from onestore.kernel.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from onestore.pricing.basket import parse_basket
from onestore.pricing.overrides import ReasonCode, request_override
from onestore.pricing.service import price_basket

from .conftest import load_discounts

PASSWORD = "correct horse battery"


@pytest.fixture
def staff(shop: Database, make_staff) -> Callable[[str], Principal]:  # type: ignore[no-untyped-def]
    def principal(role: str) -> Principal:
        user_id, _ = make_staff(role)
        with shop.uow(readonly=True) as uow:
            found = auth_service.staff_principal(uow, user_id)
        assert found is not None
        return found

    return principal


def sign_in(
    db: Database, principal: Principal, password: str = PASSWORD
) -> Callable[[], Principal]:
    with db.uow(readonly=True) as uow:
        username = auth_service.get_staff_or_raise(uow, principal.id).username

    def approve() -> Principal:
        """The manager types their username and password at the till."""

        def check(uow):  # type: ignore[no-untyped-def]
            return auth_service.authenticate_staff(uow, db.settings, username, password)

        def who(uow, user_id):  # type: ignore[no-untyped-def]
            return auth_service.staff_principal(uow, user_id)

        return auth_service.sign_in(db, check, who)

    return approve


def override(db: Database, who: Principal, price: str, approve=None):  # type: ignore[no-untyped-def]
    return request_override(
        db,
        requester=who,
        channel="POS-S1",
        store="S1",
        sku="SHIRT-1",
        amount=Decimal(price),
        reason=ReasonCode.DAMAGED,
        approve=approve,
    )


def test_a_cashier_cuts_within_their_limit_and_the_line_takes_the_price(
    shop: Database, staff: Callable[[str], Principal]
) -> None:
    load_discounts(
        shop,
        {
            "code": "TOPS10",
            "name": "Tops",
            "kind": "simple",
            "concurrency": "best_price",
            "items": {"categories": ["tops"]},
            "method": "percent",
            "value": "10",
        },
    )
    cashier = staff("cashier")
    done = override(shop, cashier, "36.00")  # 40.00 → 36.00 is 10 %, the cashier's limit
    assert (done.cut_percent, done.approved_by) == (Decimal("10.00"), None)
    basket = {
        "channel": "POS-S1",
        "store": "S1",
        "lines": [{"sku": "SHIRT-1", "quantity": 2, "override": done.id}],
    }
    priced = price_basket(shop, parse_basket(basket))
    line = priced.lines[0]
    assert (line.unit_price.amount, line.price_source, line.discounts) == (
        Decimal("36.00"),
        "manual override (damaged)",
        (),
    )
    assert priced.total.amount == Decimal("72.00")  # no TOPS10 on top of a manual price
    wrong = dict(basket, lines=[{"sku": "TEE-S", "quantity": 1, "override": done.id}])
    with pytest.raises(ValidationFailed, match=r"lines\[0\].override: no such override"):
        price_basket(shop, parse_basket(wrong))


def test_over_the_limit_needs_a_different_manager(
    shop: Database, staff: Callable[[str], Principal]
) -> None:
    cashier, other_cashier, manager = staff("cashier"), staff("cashier"), staff("store_manager")
    with pytest.raises(PermissionDenied, match=r"a 25\.00% cut is over your limit of 10%"):
        override(shop, cashier, "30.00")
    with pytest.raises(PermissionDenied, match="approver: their limit does not cover"):
        override(shop, cashier, "30.00", sign_in(shop, other_cashier))
    with pytest.raises(NotAuthenticated):
        override(shop, cashier, "30.00", sign_in(shop, manager, "wrong password!!"))
    with pytest.raises(PermissionDenied, match="approver: the approver must be someone other"):
        override(shop, manager, "10.00", sign_in(shop, manager))  # 75 % is over 50 %: self
    done = override(shop, cashier, "30.00", sign_in(shop, manager))
    assert (done.cut_percent, done.approved_by) == (Decimal("25.00"), manager.id)
    with pytest.raises(PermissionDenied, match="your role may not override prices"):
        override(shop, staff("finance"), "39.00")
