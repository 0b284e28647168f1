"""Use cases for how products are described: units, categories and attribute definitions.

Same shape as ``service``: take a unit of work, check, write, emit a ``catalog.*`` event; the
caller commits. A change that changes nothing writes nothing and emits nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from onestore.catalog import model, writes
from onestore.catalog.reference import (
    category_id_or_raise,
    category_parents,
    get_attribute_or_raise,
    get_category_or_raise,
    get_unit_or_raise,
)
from onestore.catalog.tables import attribute_definitions, categories, units
from onestore.catalog.views import AttributeView, CategoryView, UnitView
from onestore.catalog.writes import UNSET, Unset, insert_or_conflict, raise_if
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import FieldError, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id


# -- units ----------------------------------------------------------------------------------------
def create_unit(uow: UnitOfWork, *, code: str, name: str, decimals: int = 0) -> UnitView:
    writes.refuse_used_code(uow, units, code, "unit")
    raise_if(_decimals_errors(decimals))
    row = {"code": code, "name": name, "decimals": decimals}
    insert_or_conflict(uow, units.insert(), row, f"unit code {code!r} is already used")
    uow.emit(DomainEvent("catalog.unit_created", "unit", code, row))
    return UnitView(code, name, decimals)


def _decimals_errors(decimals: int) -> list[FieldError]:
    if not 0 <= decimals <= 4:
        return [FieldError("decimals", "must be between 0 and 4")]
    return []


def update_unit(
    uow: UnitOfWork, code: str, *, name: str | Unset = UNSET, decimals: int | Unset = UNSET
) -> UnitView:
    current = get_unit_or_raise(uow, code)
    values: dict[str, Any] = {}
    if not isinstance(name, Unset) and name != current.name:
        values["name"] = name
    if not isinstance(decimals, Unset) and decimals != current.decimals:
        raise_if(_decimals_errors(decimals))
        values["decimals"] = decimals
    if not values:
        return current
    uow.conn.execute(update(units).where(units.c.code == code).values(**values))
    uow.emit(DomainEvent("catalog.unit_updated", "unit", code, values))
    return get_unit_or_raise(uow, code)


# -- categories -----------------------------------------------------------------------------------
def _parent_id(uow: UnitOfWork, parent: str | None) -> str | None:
    return None if parent is None else category_id_or_raise(uow, parent, "parent")


def create_category(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    parent: str | None = None,
    category_id: str | None = None,
) -> CategoryView:
    """Create a category under ``parent`` (a code) or as a root; emits ``category_created``."""
    writes.refuse_used_code(uow, categories, code, "category")
    parent_id = _parent_id(uow, parent)
    category_id = category_id or new_id()
    insert_or_conflict(
        uow,
        categories.insert(),
        {
            "id": category_id,
            "code": code,
            "name": name,
            "parent_id": parent_id,
            "created_at": uow.now(),
        },
        f"category code {code!r} is already used",
    )
    uow.emit(
        DomainEvent(
            "catalog.category_created",
            "category",
            category_id,
            {"code": code, "name": name, "parent": parent},
        )
    )
    return CategoryView(category_id, code, name, parent)


def update_category(
    uow: UnitOfWork,
    ref: str,
    *,
    name: str | Unset = UNSET,
    parent: str | Unset | None = UNSET,
) -> CategoryView:
    """Rename or move a category; moving it below itself or its own descendant is refused.

    A move takes the category tree lock before reading the tree: two opposite moves checked
    at once would each find no loop and together make one."""
    if not isinstance(parent, Unset):
        writes.lock_category_tree(uow)
    current = get_category_or_raise(uow, ref)
    values: dict[str, Any] = {}
    if not isinstance(name, Unset) and name != current.name:
        values["name"] = name
    if not isinstance(parent, Unset) and parent != current.parent_code:
        parent_id = _parent_id(uow, parent)
        if model.creates_cycle(current.id, parent_id, category_parents(uow)):
            raise ValidationFailed.on(
                "parent", f"{parent!r} is {current.code!r} itself or below it; that makes a loop"
            )
        values["parent_id"] = parent_id
    if not values:
        return current
    uow.conn.execute(update(categories).where(categories.c.id == current.id).values(**values))
    payload = {k.removesuffix("_id"): v for k, v in values.items()}
    if "parent" in payload:
        payload["parent"] = parent
    uow.emit(
        DomainEvent(
            "catalog.category_updated", "category", current.id, {"code": current.code, **payload}
        )
    )
    return get_category_or_raise(uow, current.id)


# -- attribute definitions ------------------------------------------------------------------------
def create_attribute(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    value_type: str,
    choices: list[str] | None = None,
) -> AttributeView:
    writes.refuse_used_code(uow, attribute_definitions, code, "attribute")
    raise_if(model.definition_errors(value_type, choices))
    row = {
        "code": code,
        "name": name,
        "value_type": value_type,
        "choices": list(choices or []) if value_type == model.AttributeType.CHOICE else None,
    }
    insert_or_conflict(
        uow, attribute_definitions.insert(), row, f"attribute code {code!r} is already used"
    )
    uow.emit(DomainEvent("catalog.attribute_created", "attribute", code, row))
    return get_attribute_or_raise(uow, code)


def update_attribute(
    uow: UnitOfWork,
    code: str,
    *,
    name: str | Unset = UNSET,
    choices: list[str] | Unset | None = UNSET,
) -> AttributeView:
    """Rename an attribute or add choices. Choices cannot be removed (products may use them)
    and the value type cannot change (every stored value would have to be converted)."""
    current = get_attribute_or_raise(uow, code)
    values: dict[str, Any] = {}
    if not isinstance(name, Unset) and name != current.name:
        values["name"] = name
    if not isinstance(choices, Unset) and choices != current.choices:
        raise_if(model.definition_errors(current.value_type, choices))
        dropped = [c for c in current.choices if c not in (choices or [])]
        if dropped:
            raise ValidationFailed.on(
                "choices", f"choices can be added, not removed: keep {', '.join(dropped)}"
            )
        values["choices"] = list(choices or [])
    if not values:
        return current
    uow.conn.execute(
        update(attribute_definitions).where(attribute_definitions.c.code == code).values(**values)
    )
    uow.emit(DomainEvent("catalog.attribute_updated", "attribute", code, values))
    return get_attribute_or_raise(uow, code)
