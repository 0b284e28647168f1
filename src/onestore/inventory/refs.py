"""Turn the SKUs and location codes people type into catalog ids, in bulk.

Inventory reads catalog rows here and nowhere else, and never writes them. One query per kind
of reference whatever the number of lines, so a 50-line basket costs two look-ups, not 100.
A reference may be the row's id or its code (SKU / location code), as everywhere in the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, Table, bindparam, literal, or_, select, union_all

from onestore.catalog.reference import category_parents, get_channel_or_raise
from onestore.catalog.tables import (
    categories,
    channels,
    locations,
    products,
    variants,
)
from onestore.catalog.tables import channel_locations as channel_location_table
from onestore.db.uow import UnitOfWork
from onestore.inventory.tables import reservation_lines, reservations
from onestore.kernel.errors import FieldError, ValidationFailed


def _lookup_statement(table: Table, code_column: str) -> Select[Any]:
    """Built once: hot paths (every reservation) only bind the refs and hit the compiled cache."""
    wanted: BindParameter[Any] = bindparam("refs", expanding=True)
    return select(table.c.id, table.c[code_column].label("code")).where(
        or_(table.c.id.in_(wanted), table.c[code_column].in_(wanted))
    )


_LOOKUPS = {
    (table.name, column): _lookup_statement(table, column)
    for table, column in (
        (variants, "sku"),
        (locations, "code"),
        (categories, "code"),
        (channels, "code"),
    )
}


_VARIANT_REFS: BindParameter[Any] = bindparam("variant_refs", expanding=True)
_LOCATION_REFS: BindParameter[Any] = bindparam("location_refs", expanding=True)
_BOTH = union_all(
    select(literal("v").label("kind"), variants.c.id, variants.c.sku.label("code")).where(
        or_(variants.c.id.in_(_VARIANT_REFS), variants.c.sku.in_(_VARIANT_REFS))
    ),
    select(literal("l").label("kind"), locations.c.id, locations.c.code.label("code")).where(
        or_(locations.c.id.in_(_LOCATION_REFS), locations.c.code.in_(_LOCATION_REFS))
    ),
)


def _index(rows: Sequence[Any]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for row in rows:
        found.setdefault(row.code, (row.id, row.code))
    for row_id, code in list(found.values()):
        found[row_id] = (row_id, code)  # an id match wins over a code that looks like an id
    return found


def stock_lines(
    uow: UnitOfWork,
    skus: Sequence[str],
    sku_fields: Sequence[str],
    codes: Sequence[str],
    code_fields: Sequence[str],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Resolve the SKUs and the location codes of stock lines in ONE round trip: (id, code)
    per SKU and per location. Every unknown reference is reported, each on its own field."""
    rows = list(
        uow.conn.execute(
            _BOTH, {"variant_refs": sorted(set(skus)), "location_refs": sorted(set(codes))}
        )
    )
    found_variants = _index([r for r in rows if r.kind == "v"])
    found_locations = _index([r for r in rows if r.kind == "l"])
    errors = [
        FieldError(field, f"no {noun} {ref!r}")
        for refs, fields, found, noun in (
            (skus, sku_fields, found_variants, "SKU"),
            (codes, code_fields, found_locations, "location"),
        )
        for ref, field in zip(refs, fields, strict=True)
        if ref not in found
    ]
    if errors:
        errors.sort(key=lambda e: _field_order(e.field))
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    return [found_variants[s] for s in skus], [found_locations[c] for c in codes]


_WITH_ALL_LOCATIONS = union_all(
    select(literal("v").label("kind"), variants.c.id, variants.c.sku.label("code")).where(
        or_(variants.c.id.in_(_VARIANT_REFS), variants.c.sku.in_(_VARIANT_REFS))
    ),
    select(literal("l").label("kind"), locations.c.id, locations.c.code.label("code")),
)


def variants_and_every_location(
    uow: UnitOfWork, skus: Sequence[str], fields: Sequence[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(id, SKU) per SKU and (id, code) of every location, by code, in one round trip (the
    "where is this SKU" question every lookup screen asks)."""
    rows = list(uow.conn.execute(_WITH_ALL_LOCATIONS, {"variant_refs": sorted(set(skus))}))
    found = _index([r for r in rows if r.kind == "v"])
    errors = [
        FieldError(field, f"no SKU {ref!r}")
        for ref, field in zip(skus, fields, strict=True)
        if ref not in found
    ]
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    every = sorted(((r.id, r.code) for r in rows if r.kind == "l"), key=lambda loc: loc[1])
    return [found[s] for s in skus], every


def _field_order(field: str) -> tuple[Any, ...]:
    """``lines.2.sku`` before ``lines.10.location``: errors in request order."""
    return tuple(int(p) if p.isdigit() else p for p in field.split("."))


def _lookup(
    uow: UnitOfWork, table: Table, code_column: str, refs: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """ref -> (id, code) for every ref that is an id or a code of ``table``."""
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    return _index(list(uow.conn.execute(_LOOKUPS[(table.name, code_column)], {"refs": wanted})))


def known_variant_ids(uow: UnitOfWork, skus: Sequence[str]) -> dict[str, str]:
    """SKU -> variant id for the SKUs that exist (unknown ones are simply absent)."""
    found = _lookup(uow, variants, "sku", skus)
    return {code: found[code][0] for code in skus if code in found}


def known_location_ids(uow: UnitOfWork, codes: Sequence[str]) -> dict[str, str]:
    """Location code -> id for the codes that exist (unknown ones are simply absent)."""
    found = _lookup(uow, locations, "code", codes)
    return {code: found[code][0] for code in codes if code in found}


def variant_ids(uow: UnitOfWork, skus: Sequence[str], fields: Sequence[str]) -> list[str]:
    """The variant id of each SKU (or id); an unknown one is a 422 naming its field."""
    return [hit[0] for hit in _resolve(uow, variants, "sku", skus, fields, "SKU")]


def variants_of(
    uow: UnitOfWork, skus: Sequence[str], fields: Sequence[str]
) -> list[tuple[str, str]]:
    """(variant id, SKU) of each SKU (or id): the id to store and the code to show."""
    return _resolve(uow, variants, "sku", skus, fields, "SKU")


def location_ids(uow: UnitOfWork, codes: Sequence[str], fields: Sequence[str]) -> list[str]:
    """The location id of each code (or id); an unknown one is a 422 naming its field."""
    return [hit[0] for hit in _resolve(uow, locations, "code", codes, fields, "location")]


def locations_of(
    uow: UnitOfWork, codes: Sequence[str], fields: Sequence[str]
) -> list[tuple[str, str]]:
    """(location id, code) of each code (or id)."""
    return _resolve(uow, locations, "code", codes, fields, "location")


def _resolve(
    uow: UnitOfWork,
    table: Table,
    code_column: str,
    refs: Sequence[str],
    fields: Sequence[str],
    noun: str,
) -> list[tuple[str, str]]:
    found = _lookup(uow, table, code_column, refs)
    errors = [
        FieldError(field, f"no {noun} {ref!r}")
        for ref, field in zip(refs, fields, strict=True)
        if ref not in found
    ]
    if errors:
        raise ValidationFailed(f"{errors[0].field}: {errors[0].reason}", errors=errors)
    return [found[ref] for ref in refs]


_SKUS_BY_ID = select(variants.c.id, variants.c.sku).where(
    variants.c.id.in_(bindparam("ids", expanding=True))
)
_CODES_BY_ID = select(locations.c.id, locations.c.code).where(
    locations.c.id.in_(bindparam("ids", expanding=True))
)
_ALL_LOCATIONS = select(locations.c.id, locations.c.code).order_by(locations.c.code)
_LINES_WITH_CODES = (
    select(
        reservation_lines.c.reservation_id,
        reservation_lines.c.variant_id,
        reservation_lines.c.location_id,
        reservation_lines.c.quantity,
        reservation_lines.c.line_no,
        variants.c.sku,
        locations.c.code.label("location"),
    )
    .join(variants, variants.c.id == reservation_lines.c.variant_id)
    .join(locations, locations.c.id == reservation_lines.c.location_id)
    .where(reservation_lines.c.reservation_id.in_(bindparam("ids", expanding=True)))
    .order_by(reservation_lines.c.reservation_id, reservation_lines.c.line_no)
)


_LOCKED_WITH_LINES = (
    select(
        reservations,
        reservation_lines.c.line_no,
        reservation_lines.c.variant_id,
        reservation_lines.c.location_id,
        reservation_lines.c.quantity.label("line_quantity"),
        variants.c.sku,
        locations.c.code.label("location"),
    )
    .select_from(
        # Flat outer joins, not reservations ⟕ (lines ⋈ variants ⋈ locations): SQLite
        # materialises a parenthesised join whole — every line ever written (122 ms).
        reservations.outerjoin(
            reservation_lines, reservation_lines.c.reservation_id == reservations.c.id
        )
        .outerjoin(variants, variants.c.id == reservation_lines.c.variant_id)
        .outerjoin(locations, locations.c.id == reservation_lines.c.location_id)
    )
    .where(reservations.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(reservations.c.id, reservation_lines.c.line_no)
    .with_for_update(of=reservations)
)


@dataclass(frozen=True, slots=True)
class CodedLine:
    """A reservation line as events (ids) and answers (codes) both need it."""

    variant_id: str
    location_id: str
    sku: str
    location: str
    quantity: int


def locked_reservations_with_lines(
    uow: UnitOfWork, reservation_ids: Sequence[str]
) -> dict[str, tuple[Any, list[CodedLine]]]:
    """Reservations by id with their lines (SKU and location codes), the reservation rows
    locked in id order (``FOR UPDATE OF`` the reservations only — never the catalog's rows):
    one round trip where a lock and a look-up of the lines took two."""
    found: dict[str, tuple[Any, list[CodedLine]]] = {}
    if not reservation_ids:
        return found
    for row in uow.conn.execute(_LOCKED_WITH_LINES, {"ids": sorted(set(reservation_ids))}):
        _, lines = found.setdefault(row.id, (row, []))
        if row.line_no is not None:
            lines.append(
                CodedLine(row.variant_id, row.location_id, row.sku, row.location, row.line_quantity)
            )
    return found


def skus_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, str]:
    """Variant id -> SKU, for showing ids stored in inventory rows."""
    if not ids:
        return {}
    rows = uow.conn.execute(_SKUS_BY_ID, {"ids": sorted(set(ids))})
    return {row.id: row.sku for row in rows}


def location_codes_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = uow.conn.execute(_CODES_BY_ID, {"ids": sorted(set(ids))})
    return {row.id: row.code for row in rows}


def all_location_ids(uow: UnitOfWork) -> list[str]:
    return [row.id for row in uow.conn.execute(_ALL_LOCATIONS)]


def all_locations(uow: UnitOfWork) -> list[tuple[str, str]]:
    """(id, code) of every location, by code."""
    return [(row.id, row.code) for row in uow.conn.execute(_ALL_LOCATIONS)]


def reservation_lines_with_codes(uow: UnitOfWork, reservation_ids: Sequence[str]) -> list[Any]:
    """Reservation lines with their SKU and location code, in one query (a reservation's
    answer shows codes; looking them up per kind would be two more round trips)."""
    if not reservation_ids:
        return []
    return list(uow.conn.execute(_LINES_WITH_CODES, {"ids": sorted(set(reservation_ids))}))


def channel_location_ids(uow: UnitOfWork, channel: str) -> list[str]:
    """The locations whose stock ``channel`` may sell (its fulfilment network, per catalog)."""
    return [loc_id for loc_id, _ in serving_locations(uow, channel)]


def serving_locations(uow: UnitOfWork, channel: str) -> list[tuple[str, str]]:
    """(id, code) of the locations serving ``channel``."""
    codes = get_channel_or_raise(uow, channel).locations
    return locations_of(uow, codes, ["channel"] * len(codes))


# -- categories and channels (buffer stock policies) ---------------------------------------------
def category_ids(uow: UnitOfWork, codes: Sequence[str], fields: Sequence[str]) -> list[str]:
    """The category id of each code (or id); an unknown one is a 422 naming its field."""
    return [hit[0] for hit in _resolve(uow, categories, "code", codes, fields, "category")]


def channel_ids(uow: UnitOfWork, codes: Sequence[str], fields: Sequence[str]) -> list[str]:
    """The channel id of each code (or id); an unknown one is a 422 naming its field."""
    return [hit[0] for hit in _resolve(uow, channels, "code", codes, fields, "channel")]


def _codes_by_id(uow: UnitOfWork, table: Table, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = uow.conn.execute(
        select(table.c.id, table.c.code).where(table.c.id.in_(sorted(set(ids))))
    )
    return {row.id: row.code for row in rows}


def category_codes_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, str]:
    return _codes_by_id(uow, categories, ids)


def channel_codes_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, str]:
    return _codes_by_id(uow, channels, ids)


def variant_category_ids(uow: UnitOfWork, variant_ids: Sequence[str]) -> dict[str, str | None]:
    """Variant id -> its product's category id (None when the product has no category)."""
    if not variant_ids:
        return {}
    rows = uow.conn.execute(
        select(variants.c.id, products.c.category_id)
        .join(products, products.c.id == variants.c.product_id)
        .where(variants.c.id.in_(sorted(set(variant_ids))))
    )
    return {row.id: row.category_id for row in rows}


def category_parent_ids(uow: UnitOfWork) -> dict[str, str | None]:
    """Category id -> parent id for the whole tree (the catalog's own query)."""
    return category_parents(uow)


def channel_serving(uow: UnitOfWork) -> dict[str, frozenset[str]]:
    """Channel id -> the ids of the locations serving it (its fulfilment network), one query."""
    serving: dict[str, set[str]] = {}
    t = channel_location_table
    for row in uow.conn.execute(select(t.c.channel_id, t.c.location_id)):
        serving.setdefault(row.channel_id, set()).add(row.location_id)
    return {channel_id: frozenset(ids) for channel_id, ids in serving.items()}
