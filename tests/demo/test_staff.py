"""The demo staff list: every role is covered, usernames are stable, the list stays short."""

from __future__ import annotations

from onestore.auth.model import Role
from onestore.auth.passwords import MIN_PASSWORD_LENGTH
from onestore.demo import geography
from onestore.demo.staff import DEMO_PASSWORD, staff_plan


def test_every_role_has_a_user_and_every_store_a_cashier() -> None:
    plan = staff_plan(seed=7)
    assert {m.role for m in plan} == set(Role)
    cashiers = {m.store for m in plan if m.role is Role.CASHIER}
    assert cashiers == {s.code for s in geography.STORES}
    assert all(
        (m.store is None) == (m.role not in (Role.CASHIER, Role.STORE_MANAGER)) for m in plan
    )
    assert next(m for m in plan if m.role is Role.ADMIN).username == "admin"


def test_staff_list_is_short_unique_and_deterministic() -> None:
    plan = staff_plan(seed=7)
    assert len(plan) <= 60
    assert len({m.username for m in plan}) == len(plan)
    assert len({m.display_name for m in plan}) == len(plan)
    assert staff_plan(seed=7) == plan
    other = staff_plan(seed=8)
    assert [m.username for m in other] == [m.username for m in plan]
    assert [m.display_name for m in other] != [m.display_name for m in plan]


def test_demo_password_meets_the_password_rule() -> None:
    assert len(DEMO_PASSWORD) >= MIN_PASSWORD_LENGTH
