"""Catalog use cases for products, variants and barcodes: one function per thing a user does.

Each takes a unit of work, checks the request against the model's rules and the current
state, writes, and appends a ``catalog.*`` event to the outbox in the same transaction; the
caller commits. Every problem found in one request is reported together, naming each field.
Reads live in ``onestore.catalog.queries``; write helpers shared with the other catalog use
cases in ``onestore.catalog.writes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from onestore.catalog import model, writes
from onestore.catalog.queries import (
    get_product_or_raise,
    get_variant_or_raise,
    product_id_of,
)
from onestore.catalog.reference import attribute_definitions_by_code, category_id_or_raise
from onestore.catalog.tables import barcodes, products, units, variants
from onestore.catalog.views import BarcodeView, ProductDetail, VariantView
from onestore.catalog.writes import UNSET, Unset, insert_or_conflict, raise_if
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id
from onestore.kernel.money import Money


def _category_id(uow: UnitOfWork, code: str | None, field: str) -> str | None:
    return None if code is None else category_id_or_raise(uow, code, field)


def _check_unit(uow: UnitOfWork, code: str, field: str) -> None:
    if uow.conn.execute(select(units.c.code).where(units.c.code == code)).first() is None:
        raise ValidationFailed.on(field, f"unknown unit {code!r}")


def _taken_skus(uow: UnitOfWork, skus: Iterable[str]) -> set[str]:
    wanted = sorted(set(skus))
    if not wanted:
        return set()
    rows = uow.conn.execute(select(variants.c.sku).where(variants.c.sku.in_(wanted)))
    return {r.sku for r in rows}


def _taken_gtins(uow: UnitOfWork, gtins: Iterable[str]) -> dict[str, str]:
    """gtin -> SKU of the variant that already carries it."""
    wanted = sorted(set(gtins))
    if not wanted:
        return {}
    rows = uow.conn.execute(
        select(barcodes.c.gtin, variants.c.sku)
        .join(variants, variants.c.id == barcodes.c.variant_id)
        .where(barcodes.c.gtin.in_(wanted))
    )
    return {r.gtin: r.sku for r in rows}


def _variant_row(
    product_id: str, draft: model.VariantDraft, uow: UnitOfWork, variant_id: str | None = None
) -> dict[str, Any]:
    now = uow.now()
    return {
        "id": variant_id or new_id(),
        "product_id": product_id,
        "sku": draft.sku,
        "size": draft.size or None,
        "colour": draft.colour or None,
        "style": draft.style or None,
        "list_price": draft.list_price.amount,
        "currency": draft.list_price.currency,
        "status": draft.status,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _barcode_rows(variant_id: str, codes: Iterable[str]) -> list[dict[str, Any]]:
    rows = []
    for raw in codes:
        parsed = model.parse_barcode(raw)
        rows.append(
            {
                "gtin": parsed.gtin,
                "code": parsed.code,
                "kind": parsed.kind.value,
                "variant_id": variant_id,
            }
        )
    return rows


def _price_json(price: Money) -> dict[str, str]:
    return price.as_json()


# -- products -------------------------------------------------------------------------------------
def create_product(
    uow: UnitOfWork, draft: model.ProductDraft, *, product_id: str | None = None
) -> ProductDetail:
    """Create a product with its variants and barcodes; emits ``catalog.product_created``.

    A code, SKU or barcode already in use is a 409 naming the field; rule breaks are a 422
    listing every bad field. Nothing is written unless everything is acceptable.
    """
    errors = model.draft_errors(draft)
    writes.refuse_used_code(uow, products, draft.code, "product")
    try:
        category_id = _category_id(uow, draft.category, "category")
    except ValidationFailed as err:
        errors += err.errors
        category_id = None
    try:
        _check_unit(uow, draft.unit, "unit")
    except ValidationFailed as err:
        errors += err.errors
    attributes, attr_errors = model.attribute_errors(
        draft.attributes, attribute_definitions_by_code(uow)
    )
    raise_if(errors + attr_errors)
    _refuse_taken(uow, draft.variants, prefix="variants")

    product_id = product_id or new_id()
    now = uow.now()
    insert_or_conflict(
        uow,
        products.insert(),
        {
            "id": product_id,
            "code": draft.code,
            "name": draft.name,
            "description": draft.description,
            "brand": draft.brand,
            "category_id": category_id,
            "unit_code": draft.unit,
            "dimensions": list(model.check_dimensions(draft.dimensions)),
            "attributes": attributes,
            "status": draft.status,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        },
        f"product code {draft.code!r} is already used",
    )
    _insert_variants(uow, product_id, draft.variants)
    uow.emit(
        DomainEvent(
            "catalog.product_created",
            "product",
            product_id,
            {"code": draft.code, "name": draft.name, "skus": [v.sku for v in draft.variants]},
        )
    )
    return get_product_or_raise(uow, product_id)


def _refuse_taken(uow: UnitOfWork, drafts: Iterable[model.VariantDraft], *, prefix: str) -> None:
    """SKUs and barcodes already in the database are a conflict (409), each one named."""
    drafts = list(drafts)
    used_skus = _taken_skus(uow, (v.sku for v in drafts))
    gtins = {
        (i, j): model.parse_barcode(raw).gtin
        for i, v in enumerate(drafts)
        for j, raw in enumerate(v.barcodes)
    }
    used_gtins = _taken_gtins(uow, gtins.values())
    conflicts = [
        FieldError(f"{prefix}.{i}.sku", f"SKU {v.sku!r} is already used")
        for i, v in enumerate(drafts)
        if v.sku in used_skus
    ] + [
        FieldError(f"{prefix}.{i}.barcodes.{j}", f"barcode {gtin} belongs to {used_gtins[gtin]}")
        for (i, j), gtin in gtins.items()
        if gtin in used_gtins
    ]
    if conflicts:
        raise Conflict(f"{conflicts[0].field}: {conflicts[0].reason}", errors=conflicts)


def _insert_variants(
    uow: UnitOfWork, product_id: str, drafts: Iterable[model.VariantDraft]
) -> list[str]:
    variant_rows, barcode_rows = [], []
    for draft in drafts:
        row = _variant_row(product_id, draft, uow)
        variant_rows.append(row)
        barcode_rows += _barcode_rows(row["id"], draft.barcodes)
    if variant_rows:
        insert_or_conflict(uow, variants.insert(), variant_rows, "a SKU is already used")
    if barcode_rows:
        insert_or_conflict(uow, barcodes.insert(), barcode_rows, "a barcode is already used")
    return [r["id"] for r in variant_rows]


@dataclass(frozen=True, slots=True)
class ProductChanges:
    """A PATCH: only the fields that are not :data:`UNSET` change."""

    name: str | Unset = UNSET
    description: str | Unset = UNSET
    brand: str | Unset | None = UNSET
    category: str | Unset | None = UNSET  # category code; None = uncategorised
    unit: str | Unset = UNSET
    status: str | Unset = UNSET
    attributes: dict[str, Any] | Unset = UNSET


def update_product(
    uow: UnitOfWork, ref: str, *, version: int, changes: ProductChanges
) -> ProductDetail:
    """Change product fields if ``version`` is still current (else 409: re-read and retry).

    A PATCH that changes nothing writes nothing and emits nothing, so it is safe to repeat.
    """
    current = get_product_or_raise(uow, ref)
    if current.version != version:
        raise Conflict(
            f"product {current.code} is at version {current.version}, not {version}; "
            "reload it and apply your change again",
            errors=[FieldError("version", f"stale: current version is {current.version}")],
        )
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name in ("name", "description", "brand", "status"):
        value = getattr(changes, name)
        if not isinstance(value, Unset) and value != getattr(current, name):
            values[name] = value
    if not isinstance(changes.category, Unset) and changes.category != current.category_code:
        try:
            values["category_id"] = _category_id(uow, changes.category, "category")
        except ValidationFailed as err:
            errors += err.errors
    if not isinstance(changes.unit, Unset) and changes.unit != current.unit:
        try:
            _check_unit(uow, changes.unit, "unit")
            values["unit_code"] = changes.unit
        except ValidationFailed as err:
            errors += err.errors
    if not isinstance(changes.attributes, Unset):
        attributes, attr_errors = model.attribute_errors(
            changes.attributes, attribute_definitions_by_code(uow)
        )
        errors += attr_errors
        if attributes != current.attributes:
            values["attributes"] = attributes
    raise_if(errors)
    if not values:
        return current
    if not writes.bump_version(uow, products, current.id, version, values):
        raise Conflict(f"product {current.code} was changed concurrently; reload and retry")
    changed = sorted(k.removesuffix("_id").removesuffix("_code") for k in values)
    uow.emit(
        DomainEvent(
            "catalog.product_updated",
            "product",
            current.id,
            {"code": current.code, "changed": changed, "version": version + 1},
        )
    )
    return get_product_or_raise(uow, current.id)


# -- variants -------------------------------------------------------------------------------------
def add_variant(uow: UnitOfWork, product_ref: str, draft: model.VariantDraft) -> VariantView:
    """Add a variant to a product; emits ``catalog.variant_created``.

    The product row is locked before its variants are read, so two requests adding the same
    combination queue and the second sees the first (the unique key cannot catch it: unused
    dimensions are NULL)."""
    product_id = product_id_of(uow, product_ref)
    if product_id is None:
        raise NotFound(f"no product with id or code {product_ref!r}")
    writes.lock_product(uow, product_id)
    product = get_product_or_raise(uow, product_id)
    errors = model.variant_dimension_errors(product.dimensions, draft.dimension_values)
    existing = [model.combination(_values(v)) for v in product.variants]
    errors += [
        FieldError(product.dimensions[0] if product.dimensions else "sku", e.reason)
        for e in model.combination_errors([draft.dimension_values], existing)
    ]
    for j, raw in enumerate(draft.barcodes):
        try:
            model.parse_barcode(raw, f"barcodes.{j}")
        except ValidationFailed as err:
            errors += err.errors
    raise_if(errors)
    try:
        _refuse_taken(uow, [draft], prefix="variants")
    except Conflict as err:
        raise Conflict(
            err.detail.removeprefix("variants.0."),
            errors=[FieldError(e.field.removeprefix("variants.0."), e.reason) for e in err.errors],
        ) from None
    (variant_id,) = _insert_variants(uow, product.id, [draft])
    uow.emit(
        DomainEvent(
            "catalog.variant_created",
            "variant",
            variant_id,
            {
                "product_id": product.id,
                "sku": draft.sku,
                "list_price": _price_json(draft.list_price),
            },
        )
    )
    return get_variant_or_raise(uow, variant_id).variant


def _values(view: VariantView) -> dict[str, str | None]:
    return {"size": view.size, "colour": view.colour, "style": view.style}


@dataclass(frozen=True, slots=True)
class VariantChanges:
    list_price: str | Unset = UNSET  # decimal string; currency below or the current one
    currency: str | Unset = UNSET
    status: str | Unset = UNSET


def update_variant(
    uow: UnitOfWork, sku: str, *, version: int, changes: VariantChanges
) -> VariantView:
    """Change a variant's price or status if ``version`` is current; emits
    ``catalog.variant_updated`` (with the old and new price when it changed).

    Locks the product row first, like every other writer of a product's variants, so the
    import and ``add_variant`` see this change rather than race it."""
    writes.lock_product(uow, get_variant_or_raise(uow, sku).product_id)
    hit = get_variant_or_raise(uow, sku)
    current = hit.variant
    if current.version != version:
        raise Conflict(
            f"variant {current.sku} is at version {current.version}, not {version}",
            errors=[FieldError("version", f"stale: current version is {current.version}")],
        )
    values: dict[str, Any] = {}
    payload: dict[str, Any] = {"sku": current.sku, "product_id": hit.product_id}
    if not isinstance(changes.list_price, Unset) or not isinstance(changes.currency, Unset):
        amount = (
            changes.list_price
            if not isinstance(changes.list_price, Unset)
            else f"{current.list_price.amount}"
        )
        currency = (
            changes.currency
            if not isinstance(changes.currency, Unset)
            else current.list_price.currency
        )
        price = model.parse_price(
            amount, currency, amount_field="list_price", currency_field="currency"
        )
        if price != current.list_price:
            values.update(list_price=price.amount, currency=price.currency)
            payload.update(old_price=_price_json(current.list_price), list_price=_price_json(price))
    if not isinstance(changes.status, Unset) and changes.status != current.status:
        values["status"] = changes.status
        payload["status"] = changes.status
    if not values:
        return current
    if not writes.bump_version(uow, variants, current.id, version, values):
        raise Conflict(f"variant {current.sku} was changed concurrently; reload and retry")
    uow.emit(DomainEvent("catalog.variant_updated", "variant", current.id, payload))
    return get_variant_or_raise(uow, current.id).variant


def discontinue_variant(uow: UnitOfWork, sku: str) -> VariantView:
    """Stop selling a variant (kept for history and returns). Repeating it changes nothing."""
    current = get_variant_or_raise(uow, sku).variant
    if current.status == "discontinued":
        return current
    return update_variant(
        uow, sku, version=current.version, changes=VariantChanges(status="discontinued")
    )


# -- barcodes -------------------------------------------------------------------------------------
def add_barcode(uow: UnitOfWork, sku: str, code: str) -> BarcodeView:
    """Attach a barcode to a variant; a code another variant carries is a 409."""
    variant = get_variant_or_raise(uow, sku).variant
    parsed = model.parse_barcode(code, field="code")
    owner = _taken_gtins(uow, [parsed.gtin]).get(parsed.gtin)
    if owner == variant.sku:
        return next(b for b in variant.barcodes if b.gtin == parsed.gtin)
    if owner is not None:
        raise Conflict(
            f"barcode {parsed.gtin} belongs to {owner}",
            errors=[FieldError("code", f"already on variant {owner}")],
        )
    row = _barcode_rows(variant.id, [parsed.code])
    insert_or_conflict(uow, barcodes.insert(), row, f"barcode {parsed.gtin} is already used")
    uow.emit(
        DomainEvent(
            "catalog.barcode_added",
            "variant",
            variant.id,
            {"sku": variant.sku, "gtin": parsed.gtin, "code": parsed.code},
        )
    )
    return BarcodeView(code=parsed.code, gtin=parsed.gtin, kind=parsed.kind.value)


def remove_barcode(uow: UnitOfWork, sku: str, code: str) -> None:
    """Detach a barcode (any of its forms) from a variant; 404 if the variant lacks it."""
    variant = get_variant_or_raise(uow, sku).variant
    gtin = model.parse_barcode(code, field="code").gtin
    done = uow.conn.execute(
        barcodes.delete().where(barcodes.c.gtin == gtin, barcodes.c.variant_id == variant.id)
    )
    if done.rowcount != 1:
        raise NotFound(f"variant {variant.sku} has no barcode {gtin}")
    uow.emit(
        DomainEvent(
            "catalog.barcode_removed", "variant", variant.id, {"sku": variant.sku, "gtin": gtin}
        )
    )
