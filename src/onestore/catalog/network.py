"""Use cases for where and through what we sell: locations and channels.

A location is a place that holds stock (DC, store, drop-ship vendor); a channel is a way of
selling (a store's tills, the web shop, a marketplace) with its currency and the locations
whose stock it may sell. Inventory and fulfilment read both; only this module writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update

from onestore.catalog import model, writes
from onestore.catalog.reference import get_channel_or_raise, get_location_or_raise
from onestore.catalog.tables import channel_locations, channels, locations
from onestore.catalog.views import ChannelView, LocationView
from onestore.catalog.writes import UNSET, Unset, insert_or_conflict, raise_if
from onestore.db.uow import UnitOfWork
from onestore.kernel.errors import FieldError, ValidationFailed
from onestore.kernel.events import DomainEvent
from onestore.kernel.ids import new_id
from onestore.kernel.money import validate_currency

LOCATION_FIELDS = (
    "name",
    "latitude",
    "longitude",
    "street",
    "city",
    "postcode",
    "region",
    "timezone",
    "is_active",
)
"""What a location update may change; code, kind and country are its identity."""


# -- locations ------------------------------------------------------------------------------------
def create_location(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    kind: str,
    latitude: float,
    longitude: float,
    country: str,
    timezone: str,
    street: str | None = None,
    city: str | None = None,
    postcode: str | None = None,
    region: str | None = None,
    is_active: bool = True,
    location_id: str | None = None,
) -> LocationView:
    """Create a DC, store or vendor location; emits ``catalog.location_created``."""
    writes.refuse_used_code(uow, locations, code, "location")
    if kind not in model.LOCATION_KINDS:
        raise ValidationFailed.on("kind", f"must be one of {', '.join(model.LOCATION_KINDS)}")
    location_id = location_id or new_id()
    row = {
        "id": location_id,
        "code": code,
        "name": name,
        "kind": kind,
        "latitude": float(latitude),
        "longitude": float(longitude),
        "street": street,
        "city": city,
        "postcode": postcode,
        "region": region,
        "country": country,
        "timezone": timezone,
        "is_active": is_active,
        "created_at": uow.now(),
    }
    insert_or_conflict(uow, locations.insert(), row, f"location code {code!r} is already used")
    uow.emit(
        DomainEvent(
            "catalog.location_created",
            "location",
            location_id,
            {"code": code, "name": name, "kind": kind, "country": country},
        )
    )
    return get_location_or_raise(uow, location_id)


def update_location(uow: UnitOfWork, ref: str, changes: Mapping[str, Any]) -> LocationView:
    """Change the fields in ``changes`` (keys from :data:`LOCATION_FIELDS`)."""
    current = get_location_or_raise(uow, ref)
    unknown = sorted(set(changes) - set(LOCATION_FIELDS))
    if unknown:
        raise ValidationFailed.on(unknown[0], "cannot be changed")
    values = {k: v for k, v in changes.items() if getattr(current, k) != v}
    if not values:
        return current
    uow.conn.execute(update(locations).where(locations.c.id == current.id).values(**values))
    uow.emit(
        DomainEvent(
            "catalog.location_updated",
            "location",
            current.id,
            {"code": current.code, "changed": sorted(values)},
        )
    )
    return get_location_or_raise(uow, current.id)


# -- channels -------------------------------------------------------------------------------------
def _location_ids(
    uow: UnitOfWork, codes: Sequence[str], field: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """code -> row (id, kind) for the given codes, and an error for each unknown one."""
    rows = {
        r.code: r
        for r in uow.conn.execute(
            select(locations.c.id, locations.c.code, locations.c.kind).where(
                locations.c.code.in_(sorted(set(codes)))
            )
        )
    }
    errors = [
        FieldError(f"{field}.{i}", f"unknown location {code!r}")
        for i, code in enumerate(codes)
        if code not in rows
    ]
    return rows, errors


def create_channel(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    kind: str,
    currency: str,
    location: str | None = None,
    prices_include_tax: bool = True,
    is_active: bool = True,
    locations: Sequence[str] = (),
    channel_id: str | None = None,
) -> ChannelView:
    """Create a channel and the set of locations serving it; emits ``channel_created``."""
    writes.refuse_used_code(uow, channels, code, "channel")
    errors: list[FieldError] = []
    if kind not in model.CHANNEL_KINDS:
        errors.append(FieldError("kind", f"must be one of {', '.join(model.CHANNEL_KINDS)}"))
    try:
        currency = validate_currency(currency)
    except ValidationFailed as err:
        errors += err.errors
    own, own_errors = _location_ids(uow, [location] if location else [], "location")
    errors += [FieldError("location", e.reason) for e in own_errors]
    own_row = own.get(location) if location else None
    if not own_errors:
        errors += model.channel_location_errors(
            kind, own_row.kind if own_row else None, location is not None
        )
    serving, serving_errors = _location_ids(uow, list(locations), "locations")
    raise_if(errors + serving_errors)
    channel_id = channel_id or new_id()
    insert_or_conflict(
        uow,
        channels.insert(),
        {
            "id": channel_id,
            "code": code,
            "name": name,
            "kind": kind,
            "currency": currency,
            "location_id": own_row.id if own_row else None,
            "prices_include_tax": prices_include_tax,
            "is_active": is_active,
            "created_at": uow.now(),
        },
        f"channel code {code!r} is already used",
    )
    _set_serving(uow, channel_id, [serving[c].id for c in dict.fromkeys(locations)])
    uow.emit(
        DomainEvent(
            "catalog.channel_created",
            "channel",
            channel_id,
            {"code": code, "kind": kind, "currency": currency, "locations": list(locations)},
        )
    )
    return get_channel_or_raise(uow, channel_id)


def _set_serving(uow: UnitOfWork, channel_id: str, location_ids: Sequence[str]) -> None:
    uow.conn.execute(delete(channel_locations).where(channel_locations.c.channel_id == channel_id))
    if location_ids:
        uow.conn.execute(
            channel_locations.insert(),
            [{"channel_id": channel_id, "location_id": lid} for lid in location_ids],
        )


def update_channel(
    uow: UnitOfWork,
    ref: str,
    *,
    name: str | Unset = UNSET,
    prices_include_tax: bool | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    locations: Sequence[str] | Unset = UNSET,
) -> ChannelView:
    """Change a channel; ``locations`` replaces the whole set of serving locations."""
    current = get_channel_or_raise(uow, ref)
    values: dict[str, Any] = {}
    for key, value in (
        ("name", name),
        ("prices_include_tax", prices_include_tax),
        ("is_active", is_active),
    ):
        if not isinstance(value, Unset) and value != getattr(current, key):
            values[key] = value
    changed = sorted(values)
    if not isinstance(locations, Unset) and sorted(set(locations)) != current.locations:
        serving, errors = _location_ids(uow, list(locations), "locations")
        raise_if(errors)
        _set_serving(uow, current.id, [serving[c].id for c in dict.fromkeys(locations)])
        changed.append("locations")
    if values:
        uow.conn.execute(update(channels).where(channels.c.id == current.id).values(**values))
    if not changed:
        return current
    uow.emit(
        DomainEvent(
            "catalog.channel_updated",
            "channel",
            current.id,
            {"code": current.code, "changed": sorted(changed)},
        )
    )
    return get_channel_or_raise(uow, current.id)
