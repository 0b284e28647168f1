"""Manual price overrides at the till: a reason code, a limit per role, four eyes above it.

A cashier may cut a price by up to their role's limit (``pricing_override_limits``, defaults
below) with a reason code. A bigger cut needs a manager to approve it at the till with their
own credentials; the approver must be someone else and their role's limit must cover the cut.
Each override is recorded (who, from, to, why, approved by) and its id is what the basket line
carries (``"override": "<id>"``): the line is then priced at the override and no automatic
discount applies to it (the associate has set the price on purpose).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select

from onestore.auth import service as auth_service
from onestore.auth.model import Principal, PrincipalKind, Role
from onestore.db.database import Database
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import PermissionDenied
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id
from onestore.kernel.money import Money
from onestore.pricing import refs
from onestore.pricing import tables as t
from onestore.pricing.basket import BasketIn, BasketLineIn
from onestore.pricing.books import cache_for
from onestore.pricing.doc_fields import Problems, as_fields
from onestore.pricing.service import resolve

HUNDRED = Decimal(100)


class ReasonCode(StrEnum):
    DAMAGED = "damaged"
    PRICE_MATCH = "price_match"
    WRONG_LABEL = "wrong_label"
    CUSTOMER_SERVICE = "customer_service"
    MANAGER_DISCRETION = "manager_discretion"


DEFAULT_LIMITS: dict[Role, Decimal] = {
    Role.ADMIN: Decimal(100),
    Role.STORE_MANAGER: Decimal(50),
    Role.CASHIER: Decimal(10),
    Role.CUSTOMER_SERVICE: Decimal(10),
}
"""Largest cut below the price, in percent, per role, until ``pricing_override_limits`` says
otherwise; roles not listed may not override."""


@dataclass(frozen=True, slots=True)
class Override:
    id: str
    sku: str
    store: str | None
    from_price: Money
    to_price: Money
    cut_percent: Decimal
    reason: ReasonCode
    requested_by: str
    approved_by: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "sku": self.sku,
            "store": self.store,
            "from_price": self.from_price.as_json(),
            "to_price": self.to_price.as_json(),
            "cut_percent": str(self.cut_percent),
            "reason": self.reason.value,
            "requested_by": self.requested_by,
            "approved_by": self.approved_by,
        }


def cut_percent(from_price: Money, to_price: Money) -> Decimal:
    """How far below the price the override goes, in percent (0 for a price raised)."""
    if from_price.amount <= 0 or to_price >= from_price:
        return Decimal(0)
    return ((from_price.amount - to_price.amount) * HUNDRED / from_price.amount).quantize(
        Decimal("0.01")
    )


def limit_of(principal: Principal, limits: dict[str, Decimal], location_id: str) -> Decimal:
    """The largest cut ``principal`` may make alone at the store ``location_id``: the best of
    their roles granted everywhere or at that store (a grant at another store does not count)."""
    if principal.kind is not PrincipalKind.STAFF:
        return Decimal(-1)
    found = [
        limits.get(g.role.value, DEFAULT_LIMITS.get(g.role, Decimal(-1)))
        for g in principal.grants
        if g.location_id is None or g.location_id == location_id
    ]
    return max(found, default=Decimal(-1))


def _limits(uow: UnitOfWork) -> dict[str, Decimal]:
    rows = uow.conn.execute(select(t.override_limits))
    return {r.role: Decimal(r.max_percent) for r in rows}


def prepare_override(
    db: Database,
    *,
    requester: Principal,
    channel: str,
    store: str,
    sku: str,
    amount: Decimal,
    reason: ReasonCode,
    approve: Callable[[], Principal] | None = None,
) -> Override:
    """Check an override of ``sku``'s price at ``store``; ``approve`` signs a manager in.

    Writes nothing itself (``approve`` may, to count a failed sign-in). Raises 403 when the cut
    is over the requester's limit and no valid, different approver with a big enough limit was
    given; record the result with :func:`record_override`.
    """
    basket = BasketIn(channel=channel, lines=(BasketLineIn("1", sku, Decimal(1)),), store=store)
    with db.uow(readonly=True) as uow:
        book = cache_for(db).get(uow)
        ctx, lines = resolve(uow, book, basket)
        limits = _limits(uow)
        location_id = refs.store_or_raise(uow, store).id
    current = lines[0].unit_price
    price = Money.of(amount, ctx.currency, field="price")
    cut = cut_percent(current, price)
    mine = limit_of(requester, limits, location_id)
    if mine < 0:
        raise PermissionDenied("your role may not override prices")
    approver: Principal | None = None
    if cut > mine:
        if approve is None:
            raise _needs_approval(cut, mine)
        approver = approve()
        if approver.id == requester.id:
            raise PermissionDenied(
                "approver: the approver must be someone other than the requester"
            )
        if limit_of(approver, limits, location_id) < cut:
            raise PermissionDenied(f"approver: their limit does not cover a {cut}% cut")
    return Override(
        new_id(),
        sku,
        ctx.store,
        current,
        price,
        cut,
        reason,
        requester.id,
        approver.id if approver else None,
    )


def record_override(uow: UnitOfWork, override: Override) -> Override:
    """Store a prepared override (and its event) in the caller's transaction."""
    uow.conn.execute(
        insert(t.price_overrides).values(
            id=override.id,
            sku=override.sku,
            store=override.store,
            currency=override.to_price.currency,
            from_amount=override.from_price.amount,
            to_amount=override.to_price.amount,
            reason_code=override.reason.value,
            requested_by=override.requested_by,
            approved_by=override.approved_by,
            created_at=uow.now(),
        )
    )
    uow.emit(
        DomainEvent("pricing.price_overridden", "price_override", override.id, override.as_json())
    )
    return override


def approval(db: Database, approver: tuple[str, str] | None) -> Callable[[], Principal] | None:
    """What signs the approving manager in, from their (username, password) typed at the
    till: the same checks and lockout as the sign-in page; ``None`` without an approver."""
    if approver is None:
        return None
    username, password = approver

    def check(uow: UnitOfWork) -> auth_service.LoginResult:
        return auth_service.authenticate_staff(uow, db.settings, username, password)

    def who(uow: UnitOfWork, user_id: str) -> Principal:
        found = auth_service.staff_principal(uow, user_id)
        if found is None:  # pragma: no cover - a just-authenticated user exists
            raise PermissionDenied("approver: unknown staff user")
        return found

    def approve() -> Principal:
        return auth_service.sign_in(db, check, who)

    return approve


def prepare_request(db: Database, requester: Principal, fields: OverrideIn) -> Override:
    """:func:`prepare_override` for a parsed request (the API's body, the till's form)."""
    return prepare_override(
        db,
        requester=requester,
        channel=fields.channel,
        store=fields.store,
        sku=fields.sku,
        amount=fields.price,
        reason=fields.reason,
        approve=approval(db, fields.approver),
    )


def stored_request(document: dict[str, Any], fields: OverrideIn) -> dict[str, Any]:
    """The request as kept beside its idempotency key: the approver's name, never the
    password."""
    payload = {k: v for k, v in document.items() if k != "approver"}
    payload["approver"] = fields.approver[0] if fields.approver else None
    return payload


def request_override(db: Database, **request: Any) -> Override:
    """:func:`prepare_override` then :func:`record_override` in its own transaction."""
    override = prepare_override(db, **request)
    with db.uow() as uow:
        record_override(uow, override)
        uow.commit()
    return override


def _needs_approval(cut: Decimal, mine: Decimal) -> PermissionDenied:
    return PermissionDenied(
        f"a {cut}% cut is over your limit of {mine}%: a manager must approve it"
    )


@dataclass(frozen=True, slots=True)
class OverrideIn:
    channel: str
    store: str
    sku: str
    price: Decimal
    reason: ReasonCode
    approver: tuple[str, str] | None  # (username, password)


def parse_override(doc: object) -> OverrideIn:
    """The override request body, every problem named (see the API route's description)."""
    problems = Problems()
    fields = as_fields(doc, "", problems)
    if fields is None:
        problems.raise_if_any()
        raise AssertionError("unreachable")  # pragma: no cover
    fields.check_keys(("channel", "store", "sku", "price", "reason", "approver"))
    channel = fields.code("channel")
    store = fields.code("store")  # an override is made at a till, in one store
    sku = fields.code("sku")
    price = fields.amount("price", None, positive=False)
    reason = fields.choice("reason", ReasonCode)
    approver: tuple[str, str] | None = None
    child = fields.child("approver")
    if child is not None:
        child.check_keys(("username", "password"))
        username = child.text("username", max_length=64)
        password = child.raw.get("password")
        if not isinstance(password, str) or not password:
            child.error("password", "is required")
        elif username is not None:
            approver = (username, password)
    problems.raise_if_any()
    assert channel is not None and store is not None and sku is not None
    assert price is not None and reason is not None
    return OverrideIn(channel, store, sku, price, reason, approver)
