"""The one policy decision, ``permitted``, table-driven: roles, store scope, customers."""

from __future__ import annotations

import re

import pytest

from onestore.auth.model import (
    CUSTOMER_PERMISSIONS,
    ROLE_PERMISSIONS,
    Grant,
    Permission,
    Principal,
    PrincipalKind,
    Role,
    permitted,
)
from onestore.auth.tables import role_assignments

P = Permission
S1, S2 = "STORE1", "STORE2"


def staff(*grants: tuple[Role, str | None]) -> Principal:
    return Principal(PrincipalKind.STAFF, "U1", "Staff", tuple(Grant(r, loc) for r, loc in grants))


CUSTOMER = Principal(PrincipalKind.CUSTOMER, "C1", "shopper@example.com")
# A customer account that somehow carries grants must still get only customer permissions.
CUSTOMER_WITH_GRANT = Principal(
    PrincipalKind.CUSTOMER, "C2", "x@example.com", (Grant(Role.ADMIN, None),)
)

CASES = [
    # (principal, permission, location, expected)
    (staff((Role.ADMIN, None)), P.USERS_MANAGE, None, True),
    (staff((Role.ADMIN, None)), P.USERS_MANAGE, S2, True),
    (staff((Role.ADMIN, S1)), P.USERS_MANAGE, S1, True),
    (staff((Role.ADMIN, S1)), P.USERS_MANAGE, S2, False),
    (staff((Role.CASHIER, S1)), P.CATALOG_READ, None, True),
    (staff((Role.CASHIER, S1)), P.CATALOG_READ, S1, True),
    (staff((Role.CASHIER, S1)), P.CATALOG_READ, S2, False),
    (staff((Role.CASHIER, S1)), P.CATALOG_WRITE, None, False),
    (staff((Role.CASHIER, S1)), P.CATALOG_WRITE, S1, False),
    (staff((Role.CASHIER, S1)), P.USERS_MANAGE, S1, False),
    (staff((Role.CASHIER, S1)), P.USERS_READ, None, False),
    (staff((Role.CASHIER, S1)), P.EVENTS_READ, None, False),
    (staff((Role.CASHIER, S1)), P.BACKOFFICE_ACCESS, None, True),
    (staff((Role.CASHIER, S1)), P.TOKENS_MANAGE_OWN, None, True),
    (staff((Role.STORE_MANAGER, S1)), P.USERS_READ, S1, True),
    (staff((Role.STORE_MANAGER, S1)), P.USERS_READ, S2, False),
    (staff((Role.STORE_MANAGER, S1)), P.USERS_MANAGE, S1, False),
    (staff((Role.MERCHANDISER, None)), P.CATALOG_WRITE, S2, True),
    (staff((Role.MERCHANDISER, None)), P.CATALOG_IMPORT, None, True),
    (staff((Role.MERCHANDISER, None)), P.USERS_READ, None, False),
    (staff((Role.FINANCE, None)), P.EVENTS_READ, None, True),
    (staff((Role.FINANCE, None)), P.CATALOG_WRITE, None, False),
    (staff((Role.CUSTOMER_SERVICE, None)), P.CATALOG_WRITE, None, False),
    # Two grants: each permission only where the grant that carries it applies.
    (staff((Role.CASHIER, S1), (Role.STORE_MANAGER, S2)), P.USERS_READ, S1, False),
    (staff((Role.CASHIER, S1), (Role.STORE_MANAGER, S2)), P.USERS_READ, S2, True),
    (staff((Role.CASHIER, S1), (Role.STORE_MANAGER, S2)), P.CATALOG_READ, S1, True),
    (staff(), P.CATALOG_READ, None, False),
    (staff(), P.TOKENS_MANAGE_OWN, None, False),
    (CUSTOMER, P.TOKENS_MANAGE_OWN, None, True),
    (CUSTOMER, P.CATALOG_READ, None, False),
    (CUSTOMER, P.BACKOFFICE_ACCESS, None, False),
    (CUSTOMER_WITH_GRANT, P.USERS_MANAGE, None, False),
]


@pytest.mark.parametrize(("principal", "permission", "location", "expected"), CASES)
def test_permitted(
    principal: Principal, permission: Permission, location: str | None, expected: bool
) -> None:
    assert permitted(principal, permission, location) is expected


def test_every_role_has_a_bundle_and_admin_has_everything() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    for role, bundle in ROLE_PERMISSIONS.items():
        if role is not Role.ADMIN:
            assert Permission.USERS_MANAGE not in bundle, role
    assert Permission.BACKOFFICE_ACCESS not in CUSTOMER_PERMISSIONS


def test_database_check_constraint_knows_exactly_the_roles_in_code() -> None:
    """A role added in code but not in the CHECK constraint would fail at insert time."""
    [check] = [c for c in role_assignments.constraints if "role_known" in str(c.name)]
    in_db = set(re.findall(r"'([a-z_]+)'", str(check.sqltext)))
    assert in_db == {r.value for r in Role}


def test_scope_key_separates_staff_and_customers() -> None:
    assert staff((Role.ADMIN, None)).scope_key == "staff:U1"
    assert CUSTOMER.scope_key == "customer:C1"
