"""The demo retailer's staff: one or more users for every role, all with the demo password.

Head-office roles get one memorable username each (``admin``, ``merchandiser``…); store
roles are named after their store (``cashier.s001``). Users are created through the auth
service, so their passwords are real Argon2id hashes; at 0.1–0.3 s per hash the list is
kept short (about 40 users) rather than growing with the scale.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from onestore.auth.model import Grant, Role
from onestore.auth.service import create_staff_user
from onestore.db.uow import UnitOfWork
from onestore.demo import geography
from onestore.demo import wordlists as w

DEMO_PASSWORD = "onestore-demo"  # noqa: S105 - published demo credential, printed on purpose
MANAGED_STORES = 10
"""Stores (the first ten) that get their own store manager; every store gets a cashier."""

_HEAD_OFFICE: tuple[tuple[str, Role], ...] = (
    ("admin", Role.ADMIN),
    ("merchandiser", Role.MERCHANDISER),
    ("merchandiser2", Role.MERCHANDISER),
    ("service", Role.CUSTOMER_SERVICE),
    ("service2", Role.CUSTOMER_SERVICE),
    ("finance", Role.FINANCE),
)


@dataclass(frozen=True, slots=True)
class StaffMember:
    username: str
    display_name: str
    role: Role
    store: str | None  # location code the role is limited to; None = every location


def staff_plan(seed: int) -> list[StaffMember]:
    """Who works at the demo retailer. Names depend on the seed; usernames never do."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo names, not secrets
    names = [f"{first} {last}" for first in w.FIRST_NAMES for last in w.LAST_NAMES]
    rng.shuffle(names)
    picks = iter(names)
    plan = [StaffMember(user, next(picks), role, None) for user, role in _HEAD_OFFICE]
    for index, store in enumerate(geography.STORES):
        suffix = store.code.lower()
        if index < MANAGED_STORES:
            plan.append(
                StaffMember(f"manager.{suffix}", next(picks), Role.STORE_MANAGER, store.code)
            )
        plan.append(StaffMember(f"cashier.{suffix}", next(picks), Role.CASHIER, store.code))
    return plan


def create_staff(
    uow: UnitOfWork,
    plan: list[StaffMember],
    location_ids: Mapping[str, str],
    on_created: Callable[[int], None] | None = None,
) -> int:
    """Create every planned user in ``uow``; ``location_ids`` maps location code to id."""
    for done, member in enumerate(plan, start=1):
        location_id = location_ids[member.store] if member.store else None
        create_staff_user(
            uow,
            username=member.username,
            display_name=member.display_name,
            password=DEMO_PASSWORD,
            grants=[Grant(member.role, location_id)],
        )
        if on_created is not None:
            on_created(done)
    return len(plan)
