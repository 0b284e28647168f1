"""The JSON wire form of catalog views, in one place for the API, the importer's report and
the idempotency store (which must hold exactly what the client was sent).

Money becomes ``{"amount": "29.95", "currency": "USD"}`` via :meth:`Money.as_json` — never a
JSON number — and dates become ISO 8601 strings.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from onestore.kernel.money import Money

_AS_IS = (str, int, float, bool, type(None))


def to_json(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (dataclasses, lists, dicts, Money, dates)."""
    if type(value) in _AS_IS:  # most of any answer; exact types, so enums still convert
        return value
    if isinstance(value, Money):
        return value.as_json()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
