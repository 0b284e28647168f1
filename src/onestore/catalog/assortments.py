"""Use cases for assortments: which products a set of channels offers, and when.

An assortment is a list of include/exclude lines on products or categories (a category line
covers its sub-categories), valid between two dates, assigned to channels. What a channel
offers on a day is resolved by :func:`onestore.catalog.model.resolve_assortments`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update

from onestore.catalog import model, writes
from onestore.catalog.reference import get_assortment_or_raise
from onestore.catalog.tables import (
    assortment_channels,
    assortment_lines,
    assortments,
    categories,
    channels,
    products,
)
from onestore.catalog.views import AssortmentView
from onestore.catalog.writes import UNSET, Unset, insert_or_conflict, raise_if
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import FieldError
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One line as a caller gives it: a product code or a category code."""

    product: str | None = None
    category: str | None = None
    exclude: bool = False


def _ids(uow: UnitOfWork, table: Any, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = uow.conn.execute(
        select(table.c.code, table.c.id).where(table.c.code.in_(sorted(set(codes))))
    )
    return {r.code: r.id for r in rows}


def _resolve(
    uow: UnitOfWork, channel_codes: Sequence[str], lines: Sequence[LineSpec]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Codes to ids, reporting every unknown code by its position."""
    channel_ids = _ids(uow, channels, channel_codes)
    product_ids = _ids(uow, products, [ln.product for ln in lines if ln.product])
    category_ids = _ids(uow, categories, [ln.category for ln in lines if ln.category])
    errors = [
        FieldError(f"channels.{i}", f"unknown channel {code!r}")
        for i, code in enumerate(channel_codes)
        if code not in channel_ids
    ]
    rows = []
    for i, line in enumerate(lines):
        if (line.product is None) == (line.category is None):
            errors.append(FieldError(f"lines.{i}", "give exactly one of product or category"))
        elif line.product is not None and line.product not in product_ids:
            errors.append(FieldError(f"lines.{i}.product", f"unknown product {line.product!r}"))
        elif line.category is not None and line.category not in category_ids:
            errors.append(FieldError(f"lines.{i}.category", f"unknown category {line.category!r}"))
        else:
            rows.append(
                {
                    "product_id": product_ids.get(line.product or ""),
                    "category_id": category_ids.get(line.category or ""),
                    "exclude": line.exclude,
                }
            )
    raise_if(errors)
    return [channel_ids[c] for c in dict.fromkeys(channel_codes)], rows


def _replace_channels(uow: UnitOfWork, assortment_id: str, channel_ids: list[str]) -> None:
    uow.conn.execute(
        delete(assortment_channels).where(assortment_channels.c.assortment_id == assortment_id)
    )
    if channel_ids:
        uow.conn.execute(
            assortment_channels.insert(),
            [{"assortment_id": assortment_id, "channel_id": cid} for cid in channel_ids],
        )


def _replace_lines(uow: UnitOfWork, assortment_id: str, rows: list[dict[str, Any]]) -> None:
    uow.conn.execute(
        delete(assortment_lines).where(assortment_lines.c.assortment_id == assortment_id)
    )
    if rows:
        uow.conn.execute(
            assortment_lines.insert(),
            [{"id": new_id(), "assortment_id": assortment_id, **row} for row in rows],
        )


def create_assortment(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
    channels: Sequence[str] = (),
    lines: Sequence[LineSpec] = (),
    assortment_id: str | None = None,
) -> AssortmentView:
    """Create an assortment with its channels and lines; emits ``assortment_created``."""
    writes.refuse_used_code(uow, assortments, code, "assortment")
    raise_if(model.date_range_errors(valid_from, valid_to))
    channel_ids, rows = _resolve(uow, list(channels), list(lines))
    assortment_id = assortment_id or new_id()
    insert_or_conflict(
        uow,
        assortments.insert(),
        {
            "id": assortment_id,
            "code": code,
            "name": name,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "created_at": uow.now(),
        },
        f"assortment code {code!r} is already used",
    )
    _replace_channels(uow, assortment_id, channel_ids)
    _replace_lines(uow, assortment_id, rows)
    uow.emit(
        DomainEvent(
            "catalog.assortment_created",
            "assortment",
            assortment_id,
            {"code": code, "channels": list(channels), "lines": len(rows)},
        )
    )
    return get_assortment_or_raise(uow, assortment_id)


def update_assortment(
    uow: UnitOfWork,
    ref: str,
    *,
    name: str | Unset = UNSET,
    valid_from: date | Unset | None = UNSET,
    valid_to: date | Unset | None = UNSET,
    channels: Sequence[str] | Unset = UNSET,
    lines: Sequence[LineSpec] | Unset = UNSET,
) -> AssortmentView:
    """Change an assortment; ``channels`` and ``lines`` each replace the whole list."""
    current = get_assortment_or_raise(uow, ref)
    values: dict[str, Any] = {}
    for key, value in (("name", name), ("valid_from", valid_from), ("valid_to", valid_to)):
        if not isinstance(value, Unset) and value != getattr(current, key):
            values[key] = value
    raise_if(
        model.date_range_errors(
            values.get("valid_from", current.valid_from), values.get("valid_to", current.valid_to)
        )
    )
    new_channels = current.channels if isinstance(channels, Unset) else list(channels)
    current_lines = [LineSpec(ln.product, ln.category, ln.exclude) for ln in current.lines]
    new_lines = current_lines if isinstance(lines, Unset) else list(lines)
    channel_ids, rows = _resolve(uow, new_channels, new_lines)
    changed = sorted(values)
    if sorted(set(new_channels)) != sorted(current.channels):
        _replace_channels(uow, current.id, channel_ids)
        changed.append("channels")
    if sorted(map(_line_key, new_lines)) != sorted(map(_line_key, current_lines)):
        _replace_lines(uow, current.id, rows)
        changed.append("lines")
    if values:
        uow.conn.execute(update(assortments).where(assortments.c.id == current.id).values(**values))
    if not changed:
        return current
    uow.emit(
        DomainEvent(
            "catalog.assortment_updated",
            "assortment",
            current.id,
            {"code": current.code, "changed": sorted(changed)},
        )
    )
    return get_assortment_or_raise(uow, current.id)


def _line_key(line: LineSpec) -> tuple[str, str, bool]:
    return (line.product or "", line.category or "", line.exclude)
