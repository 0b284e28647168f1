"""Turn the SKUs and location codes people type into catalog ids, in bulk.

Inventory reads catalog rows here and nowhere else, and never writes them. One query per kind
of reference whatever the number of lines, so a 50-line basket costs two look-ups, not 100.
A reference may be the row's id or its code (SKU / location code), as everywhere in the API.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, or_, select

from onestore.catalog.reference import get_channel_or_raise
from onestore.catalog.tables import locations, variants
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import FieldError, ValidationFailed


def _lookup(
    uow: UnitOfWork, table: Table, code_column: str, refs: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """ref -> (id, code) for every ref that is an id or a code of ``table``."""
    t = table
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    rows = uow.conn.execute(
        select(t.c.id, t.c[code_column].label("code")).where(
            or_(t.c.id.in_(wanted), t.c[code_column].in_(wanted))
        )
    )
    found: dict[str, tuple[str, str]] = {}
    for row in rows:
        found.setdefault(row.code, (row.id, row.code))
    for row_id, code in list(found.values()):
        found[row_id] = (row_id, code)  # an id match wins over a code that looks like an id
    return found


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


def location_ids(uow: UnitOfWork, codes: Sequence[str], fields: Sequence[str]) -> list[str]:
    """The location id of each code (or id); an unknown one is a 422 naming its field."""
    return [hit[0] for hit in _resolve(uow, locations, "code", codes, fields, "location")]


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


def skus_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, str]:
    """Variant id -> SKU, for showing ids stored in inventory rows."""
    if not ids:
        return {}
    rows = uow.conn.execute(
        select(variants.c.id, variants.c.sku).where(variants.c.id.in_(sorted(set(ids))))
    )
    return {row.id: row.sku for row in rows}


def location_codes_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = uow.conn.execute(
        select(locations.c.id, locations.c.code).where(locations.c.id.in_(sorted(set(ids))))
    )
    return {row.id: row.code for row in rows}


def all_location_ids(uow: UnitOfWork) -> list[str]:
    return list(uow.conn.execute(select(locations.c.id).order_by(locations.c.code)).scalars())


def channel_location_ids(uow: UnitOfWork, channel: str) -> list[str]:
    """The locations whose stock ``channel`` may sell (its fulfilment network, per catalog)."""
    codes = get_channel_or_raise(uow, channel).locations
    return location_ids(uow, codes, ["channel"] * len(codes))
