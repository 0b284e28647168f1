"""Reads of the catalog's reference data: units, categories, attributes, locations, channels
and assortments.

These tables hold tens to a few thousand rows, so lists return every row (ordered by code) and
callers page them; each list costs a fixed number of queries, never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Column, Select, case, or_, select

from onestore.catalog import model
from onestore.catalog.tables import (
    assortment_channels,
    assortment_lines,
    assortments,
    attribute_definitions,
    categories,
    channel_locations,
    channels,
    locations,
    products,
    units,
)
from onestore.catalog.views import (
    AssortmentLineView,
    AssortmentView,
    AttributeView,
    CategoryView,
    ChannelView,
    LocationView,
    UnitView,
)
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import NotFound, ValidationFailed


def by_id_or_code(
    query: Select[Any], id_column: Column[Any], code_column: Column[Any], ref: str
) -> Select[Any]:
    """Narrow ``query`` to the row whose id is ``ref`` or, failing that, whose code is.

    A code may equal another row's id (codes are free text that can look like a ULID), so
    the id match is preferred by the query itself rather than left to row order."""
    return (
        query.where(or_(id_column == ref, code_column == ref))
        .order_by(case((id_column == ref, 0), else_=1))
        .limit(1)
    )


# -- units and attributes -------------------------------------------------------------------------
def list_units(uow: UnitOfWork) -> list[UnitView]:
    rows = uow.conn.execute(select(units).order_by(units.c.code))
    return [UnitView(r.code, r.name, r.decimals) for r in rows]


def get_unit_or_raise(uow: UnitOfWork, code: str) -> UnitView:
    row = uow.conn.execute(select(units).where(units.c.code == code)).first()
    if row is None:
        raise NotFound(f"no unit {code!r}")
    return UnitView(row.code, row.name, row.decimals)


def list_attributes(uow: UnitOfWork) -> list[AttributeView]:
    rows = uow.conn.execute(select(attribute_definitions).order_by(attribute_definitions.c.code))
    return [AttributeView(r.code, r.name, r.value_type, list(r.choices or [])) for r in rows]


def attribute_definitions_by_code(uow: UnitOfWork) -> dict[str, model.AttributeDefinition]:
    """Every attribute definition, for checking product attribute values."""
    return {r.code: model.definition_of(r) for r in uow.conn.execute(select(attribute_definitions))}


def get_attribute_or_raise(uow: UnitOfWork, code: str) -> AttributeView:
    row = uow.conn.execute(
        select(attribute_definitions).where(attribute_definitions.c.code == code)
    ).first()
    if row is None:
        raise NotFound(f"no attribute {code!r}")
    return AttributeView(row.code, row.name, row.value_type, list(row.choices or []))


# -- categories -----------------------------------------------------------------------------------
def category_parents(uow: UnitOfWork) -> dict[str, str | None]:
    """id -> parent id for the whole tree, in one query."""
    rows = uow.conn.execute(select(categories.c.id, categories.c.parent_id))
    return {r.id: r.parent_id for r in rows}


def category_id_or_raise(uow: UnitOfWork, code: str, field: str) -> str:
    """The id of category ``code``; an unknown one is a 422 on ``field``."""
    found = uow.conn.execute(select(categories.c.id).where(categories.c.code == code)).first()
    if found is None:
        raise ValidationFailed.on(field, f"unknown category {code!r}")
    return str(found.id)


def list_categories(uow: UnitOfWork, *, parent: str | None = None) -> list[CategoryView]:
    """All categories by code, or only the direct children of category ``parent`` (a code)."""
    parent_table = categories.alias("parent")
    query = (
        select(categories, parent_table.c.code.label("parent_code"))
        .select_from(
            categories.outerjoin(parent_table, parent_table.c.id == categories.c.parent_id)
        )
        .order_by(categories.c.code)
    )
    if parent is not None:
        query = query.where(parent_table.c.code == parent)
    return [CategoryView(r.id, r.code, r.name, r.parent_code) for r in uow.conn.execute(query)]


def get_category(uow: UnitOfWork, ref: str) -> CategoryView | None:
    """A category by id or code."""
    parent_table = categories.alias("parent")
    query = select(categories, parent_table.c.code.label("parent_code")).select_from(
        categories.outerjoin(parent_table, parent_table.c.id == categories.c.parent_id)
    )
    row = uow.conn.execute(by_id_or_code(query, categories.c.id, categories.c.code, ref)).first()
    return None if row is None else CategoryView(row.id, row.code, row.name, row.parent_code)


def get_category_or_raise(uow: UnitOfWork, ref: str) -> CategoryView:
    found = get_category(uow, ref)
    if found is None:
        raise NotFound(f"no category with id or code {ref!r}")
    return found


# -- locations and channels -----------------------------------------------------------------------
def _location_view(r: Any) -> LocationView:
    return LocationView(
        id=r.id,
        code=r.code,
        name=r.name,
        kind=r.kind,
        latitude=float(r.latitude),
        longitude=float(r.longitude),
        street=r.street,
        city=r.city,
        postcode=r.postcode,
        region=r.region,
        country=r.country,
        timezone=r.timezone,
        is_active=bool(r.is_active),
    )


def list_locations(uow: UnitOfWork, *, kind: str | None = None) -> list[LocationView]:
    query = select(locations).order_by(locations.c.code)
    if kind is not None:
        query = query.where(locations.c.kind == kind)
    return [_location_view(r) for r in uow.conn.execute(query)]


def get_location(uow: UnitOfWork, ref: str) -> LocationView | None:
    """A location by id or code."""
    row = uow.conn.execute(
        by_id_or_code(select(locations), locations.c.id, locations.c.code, ref)
    ).first()
    return None if row is None else _location_view(row)


def get_location_or_raise(uow: UnitOfWork, ref: str) -> LocationView:
    found = get_location(uow, ref)
    if found is None:
        raise NotFound(f"no location with id or code {ref!r}")
    return found


def _channel_views(uow: UnitOfWork, rows: list[Any]) -> list[ChannelView]:
    serving: dict[str, list[str]] = defaultdict(list)
    if rows:
        for r in uow.conn.execute(
            select(channel_locations.c.channel_id, locations.c.code)
            .join(locations, locations.c.id == channel_locations.c.location_id)
            .where(channel_locations.c.channel_id.in_([r.id for r in rows]))
            .order_by(locations.c.code)
        ):
            serving[r.channel_id].append(r.code)
    return [
        ChannelView(
            id=r.id,
            code=r.code,
            name=r.name,
            kind=r.kind,
            currency=r.currency,
            location=r.location_code,
            prices_include_tax=bool(r.prices_include_tax),
            is_active=bool(r.is_active),
            locations=serving[r.id],
        )
        for r in rows
    ]


def _channel_query() -> Any:
    return select(channels, locations.c.code.label("location_code")).select_from(
        channels.outerjoin(locations, locations.c.id == channels.c.location_id)
    )


def list_channels(uow: UnitOfWork, *, kind: str | None = None) -> list[ChannelView]:
    """Channels by code, each with the codes of the locations that serve it."""
    query = _channel_query().order_by(channels.c.code)
    if kind is not None:
        query = query.where(channels.c.kind == kind)
    return _channel_views(uow, list(uow.conn.execute(query)))


def get_channel(uow: UnitOfWork, ref: str) -> ChannelView | None:
    """A channel by id or code."""
    rows = list(
        uow.conn.execute(by_id_or_code(_channel_query(), channels.c.id, channels.c.code, ref))
    )
    views = _channel_views(uow, rows)
    return views[0] if views else None


def get_channel_or_raise(uow: UnitOfWork, ref: str) -> ChannelView:
    found = get_channel(uow, ref)
    if found is None:
        raise NotFound(f"no channel with id or code {ref!r}")
    return found


# -- assortments ----------------------------------------------------------------------------------
def channel_assortment_rules(uow: UnitOfWork, channel_id: str) -> list[model.AssortmentRule]:
    """Every assortment assigned to a channel, with its lines (two queries)."""
    heads = uow.conn.execute(
        select(assortments.c.id, assortments.c.valid_from, assortments.c.valid_to)
        .join(assortment_channels, assortment_channels.c.assortment_id == assortments.c.id)
        .where(assortment_channels.c.channel_id == channel_id)
        .order_by(assortments.c.code)
    ).all()
    lines: dict[str, list[model.AssortmentLine]] = defaultdict(list)
    if heads:
        for row in uow.conn.execute(
            select(assortment_lines).where(
                assortment_lines.c.assortment_id.in_([h.id for h in heads])
            )
        ):
            lines[row.assortment_id].append(
                model.AssortmentLine(row.product_id, row.category_id, bool(row.exclude))
            )
    return [model.AssortmentRule(h.id, h.valid_from, h.valid_to, tuple(lines[h.id])) for h in heads]


def _assortment_views(uow: UnitOfWork, rows: list[Any]) -> list[AssortmentView]:
    ids = [r.id for r in rows]
    channel_codes: dict[str, list[str]] = defaultdict(list)
    lines: dict[str, list[AssortmentLineView]] = defaultdict(list)
    if ids:
        for r in uow.conn.execute(
            select(assortment_channels.c.assortment_id, channels.c.code)
            .join(channels, channels.c.id == assortment_channels.c.channel_id)
            .where(assortment_channels.c.assortment_id.in_(ids))
            .order_by(channels.c.code)
        ):
            channel_codes[r.assortment_id].append(r.code)
        for line in uow.conn.execute(
            select(
                assortment_lines.c.assortment_id,
                assortment_lines.c.exclude,
                products.c.code.label("product_code"),
                categories.c.code.label("category_code"),
            )
            .select_from(
                assortment_lines.outerjoin(
                    products, products.c.id == assortment_lines.c.product_id
                ).outerjoin(categories, categories.c.id == assortment_lines.c.category_id)
            )
            .where(assortment_lines.c.assortment_id.in_(ids))
            .order_by(assortment_lines.c.id)
        ):
            lines[line.assortment_id].append(
                AssortmentLineView(line.product_code, line.category_code, bool(line.exclude))
            )
    return [
        AssortmentView(
            id=r.id,
            code=r.code,
            name=r.name,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            channels=channel_codes[r.id],
            lines=lines[r.id],
        )
        for r in rows
    ]


def list_assortments(uow: UnitOfWork) -> list[AssortmentView]:
    rows = list(uow.conn.execute(select(assortments).order_by(assortments.c.code)))
    return _assortment_views(uow, rows)


def get_assortment(uow: UnitOfWork, ref: str) -> AssortmentView | None:
    """An assortment by id or code."""
    rows = list(
        uow.conn.execute(
            by_id_or_code(select(assortments), assortments.c.id, assortments.c.code, ref)
        )
    )
    views = _assortment_views(uow, rows)
    return views[0] if views else None


def get_assortment_or_raise(uow: UnitOfWork, ref: str) -> AssortmentView:
    found = get_assortment(uow, ref)
    if found is None:
        raise NotFound(f"no assortment with id or code {ref!r}")
    return found
