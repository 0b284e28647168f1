"""Roles, permissions and the one policy decision every route uses.

A permission is a string ``<area>.<action>``. Roles are fixed bundles of permissions; a role
assignment may be limited to one store (``location_id``), in which case a permission that is
checked against a location only holds there. Pure rules: no database, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MERCHANDISER = "merchandiser"
    STORE_MANAGER = "store_manager"
    CASHIER = "cashier"
    CUSTOMER_SERVICE = "customer_service"
    FINANCE = "finance"


class Permission(StrEnum):
    BACKOFFICE_ACCESS = "backoffice.access"
    CATALOG_READ = "catalog.read"
    CATALOG_WRITE = "catalog.write"
    CATALOG_IMPORT = "catalog.import"
    LOCATIONS_WRITE = "locations.write"
    CHANNELS_WRITE = "channels.write"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    TOKENS_MANAGE_OWN = "tokens.manage_own"
    EVENTS_READ = "events.read"
    INVENTORY_READ = "inventory.read"
    INVENTORY_WRITE = "inventory.write"
    INVENTORY_RESERVE = "inventory.reserve"
    PRICING_QUOTE = "pricing.quote"  # price a basket (carts, tills): customers too
    PRICING_READ = "pricing.read"  # read price groups, discounts, coupons: staff only
    PRICING_WRITE = "pricing.write"
    PRICE_OVERRIDE = "pricing.override"  # set a line's price at the till (limits per role)


_STAFF_BASE = frozenset(
    {
        Permission.BACKOFFICE_ACCESS,
        Permission.CATALOG_READ,
        Permission.TOKENS_MANAGE_OWN,
        Permission.PRICING_QUOTE,
        Permission.PRICING_READ,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MERCHANDISER: _STAFF_BASE
    | {
        Permission.CATALOG_WRITE,
        Permission.CATALOG_IMPORT,
        Permission.CHANNELS_WRITE,
        Permission.INVENTORY_READ,
        Permission.PRICING_WRITE,
    },
    Role.STORE_MANAGER: _STAFF_BASE
    | {
        Permission.USERS_READ,
        Permission.INVENTORY_READ,
        Permission.INVENTORY_WRITE,
        Permission.INVENTORY_RESERVE,
        Permission.PRICE_OVERRIDE,
    },
    Role.CASHIER: _STAFF_BASE
    | {Permission.INVENTORY_READ, Permission.INVENTORY_RESERVE, Permission.PRICE_OVERRIDE},
    Role.CUSTOMER_SERVICE: _STAFF_BASE
    | {Permission.INVENTORY_READ, Permission.INVENTORY_RESERVE, Permission.PRICE_OVERRIDE},
    Role.FINANCE: _STAFF_BASE | {Permission.EVENTS_READ, Permission.INVENTORY_READ},
}

# A shopper's cart prices baskets (pricing.quote); reading discount definitions and coupon
# codes (pricing.read) is staff business: a coupon code is a secret until it is handed out.
CUSTOMER_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.TOKENS_MANAGE_OWN, Permission.PRICING_QUOTE}
)


class PrincipalKind(StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    location_id: str | None  # None = all locations


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    kind: PrincipalKind
    id: str
    name: str
    grants: tuple[Grant, ...] = field(default=())

    @property
    def scope_key(self) -> str:
        """Stable identity used to scope idempotency keys and audit rows."""
        return f"{self.kind.value}:{self.id}"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants)


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A staff user as shown to those who manage staff (never with the password hash)."""

    id: str
    username: str
    display_name: str
    is_active: bool
    created_at: datetime
    grants: tuple[Grant, ...]


def permitted(principal: Principal, permission: Permission, location_id: str | None = None) -> bool:
    """Does ``principal`` hold ``permission`` (at ``location_id``, when one is given)?

    A store-scoped grant counts for a location-free check (a cashier may read the catalog)
    but for a location check only at its own store; an unscoped grant counts everywhere.
    """
    if principal.kind is PrincipalKind.CUSTOMER:
        return permission in CUSTOMER_PERMISSIONS
    for grant in principal.grants:
        if permission not in ROLE_PERMISSIONS[grant.role]:
            continue
        if location_id is None or grant.location_id is None or grant.location_id == location_id:
            return True
    return False


def scope_of(principal: Principal, permission: Permission) -> frozenset[str] | None:
    """Where ``principal`` holds ``permission``: None means everywhere, else these locations.

    Use it to filter lists ("a store manager sees the staff of their store") and to stop a
    store-scoped user from granting more than they hold.
    """
    if principal.kind is PrincipalKind.CUSTOMER:
        return frozenset()
    locations: set[str] = set()
    for grant in principal.grants:
        if permission not in ROLE_PERMISSIONS[grant.role]:
            continue
        if grant.location_id is None:
            return None
        locations.add(grant.location_id)
    return frozenset(locations)
