"""Typed field readers for the pricing documents, each error naming its field.

A document (a JSON file, an API body, a CSV row) is read in one pass that records every problem
in a :class:`Problems` rather than stopping at the first, then raises one
:class:`~onestore.kernel.errors.ValidationFailed` listing them all. A :class:`Fields` wraps one
JSON object: its getters return the typed value, or ``None`` after recording why the value was
refused, so the caller carries on and reports the next problem too.

Paths are dotted with list indexes in brackets (``discounts[2].tiers[1].min_quantity``); a CSV
row is read through the same getters with a locator that names ``line 4, column amount``.
``null`` and an absent key mean the same thing: "not given".

Pure: stdlib and ``onestore.kernel`` only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from onestore.kernel.errors import FieldError, ValidationFailed
from onestore.kernel.money import minor_units, parse_amount, validate_currency

MAX_NAME = 200
MAX_CODE = 64
MAX_COUNT = 1_000_000
"""Largest whole count (set sizes, free units, applications): far beyond any real basket."""

_CODE_RE = re.compile(r"[A-Za-z0-9_.-]+")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")

E = TypeVar("E", bound=StrEnum)


def join(where: str, key: str | int) -> str:
    """``join("discounts[2]", "tiers")`` is ``discounts[2].tiers``; an int key is an index."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def number_text(value: Decimal) -> str:
    """A Decimal as plain text for JSON: ``10``, ``7.50`` (never ``1E+1``)."""
    return format(value, "f")


class Problems:
    """The errors found so far in one document, in the order they were found."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def __len__(self) -> int:
        return len(self.errors)

    def add(self, field: str, reason: str) -> None:
        self.errors.append(FieldError(field, reason))

    def absorb(self, exc: ValidationFailed) -> None:
        self.errors.extend(exc.errors or [FieldError("document", exc.detail)])

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        raise ValidationFailed(f"{first.field}: {first.reason}{more}", errors=list(self.errors))


def as_fields(raw: object, where: str, problems: Problems) -> Fields | None:
    """``raw`` as a :class:`Fields` at ``where``, or ``None`` after recording it is no object."""
    if not isinstance(raw, Mapping):
        problems.add(where or "document", "must be a JSON object")
        return None
    return Fields(raw, problems, where)


class Fields:
    """One JSON object being read; every getter records a refusal under the field's path."""

    def __init__(
        self,
        raw: Mapping[str, Any],
        problems: Problems,
        where: str = "",
        locate: Callable[[str], str] | None = None,
    ) -> None:
        self.raw = raw
        self.problems = problems
        self.where = where
        self._locate = locate

    # -- paths and presence ---------------------------------------------------------------------
    def path(self, key: str) -> str:
        return self._locate(key) if self._locate else join(self.where, key)

    def error(self, key: str, reason: str) -> None:
        self.problems.add(self.path(key), reason)

    def given(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def _present(self, key: str, required: bool) -> bool:
        if self.given(key):
            return True
        if required:
            self.error(key, "is required")
        return False

    def check_keys(
        self, allowed: Collection[str], elsewhere: Mapping[str, str] | None = None
    ) -> None:
        """Refuse keys not in ``allowed``; ``elsewhere`` gives a better reason for some keys."""
        for key in self.raw:
            name = str(key)
            if name in allowed:
                continue
            reason = (elsewhere or {}).get(name)
            self.error(name, reason or "unknown key; expected one of " + ", ".join(allowed))

    def check_format(self, expected: str) -> None:
        value = self.raw.get("format")
        if value is None:
            self.error("format", f"is required: {expected!r}")
        elif value != expected:
            self.error("format", f"must be {expected!r}, not {value!r}")

    # -- scalars --------------------------------------------------------------------------------
    def text(self, key: str, *, required: bool = True, max_length: int = MAX_NAME) -> str | None:
        if not self._present(key, required):
            return None
        value = self.raw[key]
        if not isinstance(value, str):
            self.error(key, "must be a string")
            return None
        text = value.strip()
        if not text:
            self.error(key, "must not be empty")
            return None
        if len(text) > max_length:
            self.error(key, f"must be at most {max_length} characters")
            return None
        if any(unicodedata.category(c) == "Cc" for c in text):
            self.error(key, "must not contain control characters")
            return None
        return text

    def code(self, key: str, *, required: bool = True, max_length: int = MAX_CODE) -> str | None:
        """A code: 1–64 (or ``max_length``) letters, digits, ``.``, ``_`` or ``-``."""
        if not self._present(key, required):
            return None
        return self._code_at(self.path(key), self.raw[key], max_length)

    def _code_at(self, path: str, value: object, max_length: int = MAX_CODE) -> str | None:
        problem = code_problem(value, max_length)
        if problem:
            self.problems.add(path, problem)
            return None
        assert isinstance(value, str)
        return value

    def codes(self, key: str) -> frozenset[str]:
        """A list of codes (``[]`` or absent: none); each bad entry is named by its index."""
        return frozenset(
            code
            for path, value in self.elements(key, required=False)
            if (code := self._code_at(path, value)) is not None
        )

    def flag(self, key: str, default: bool = False) -> bool:
        if not self.given(key):
            return default
        value = self.raw[key]
        if not isinstance(value, bool):
            self.error(key, "must be true or false")
            return default
        return value

    def integer(
        self,
        key: str,
        *,
        low: int,
        high: int = MAX_COUNT,
        default: int | None = None,
        required: bool = False,
        too_low: str | None = None,
    ) -> int | None:
        """A whole number in ``low..high`` (an int, or a whole decimal string or Decimal)."""
        if not self._present(key, required):
            return default
        value = self.raw[key]
        whole: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            whole = value
        elif isinstance(value, Decimal | str):
            try:
                exact = Decimal(value.strip() if isinstance(value, str) else value)
                if exact.is_finite() and exact.adjusted() > 18:  # never int() a googol
                    self.error(key, f"must be at most {high}")
                    return None
                if exact.is_finite() and exact == exact.to_integral_value():
                    whole = int(exact)
            except InvalidOperation:
                pass
        if whole is None:
            self.error(key, "must be a whole number")
        elif whole < low:
            self.error(key, too_low or f"must be at least {low}")
        elif whole > high:
            self.error(key, f"must be at most {high}")
        else:
            return whole
        return None

    def number(self, key: str, *, required: bool = True) -> Decimal | None:
        """A decimal given as a string (or an int, or a Decimal from a strict JSON parser)."""
        if not self._present(key, required):
            return None
        try:
            return parse_amount(self.raw[key], self.path(key))
        except ValidationFailed as exc:
            self.problems.absorb(exc)
            return None

    def currency(self, key: str = "currency", *, required: bool = True) -> str | None:
        if not self._present(key, required):
            return None
        try:
            return validate_currency(self.raw[key], self.path(key))
        except ValidationFailed as exc:
            self.problems.absorb(exc)
            return None

    def amount(self, key: str, currency: str | None, *, positive: bool) -> Decimal | None:
        """A money amount: more than 0 (``positive``) or at least 0, with at most the currency's
        decimal places (checked, and the value brought to them, when ``currency`` is known)."""
        value = self.number(key)
        if value is None:
            return None
        if positive and value <= 0:
            self.error(key, "must be more than 0")
            return None
        if value < 0:
            self.error(key, "must not be negative")
            return None
        if value.is_zero():
            value = value.copy_abs()  # "-0" is 0
        if currency is None:
            return value
        places = minor_units(currency)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.error(key, f"{currency} allows at most {places} decimal places")
            return None
        return value.quantize(Decimal(1).scaleb(-places))

    def choice(
        self, key: str, enum: type[E], allowed: Collection[E] | None = None, *, what: str = "here"
    ) -> E | None:
        """One of ``allowed`` (default: every member of ``enum``), given by its value; ``what``
        says where a member outside ``allowed`` is refused ("for a simple discount")."""
        if not self._present(key, True):
            return None
        value = self.raw[key]
        options = list(allowed if allowed is not None else enum)
        names = ", ".join(option.value for option in options)
        member = next((m for m in enum if m.value == value), None)
        if member is None:
            self.error(key, f"unknown {key} {value!r}; use one of {names}")
            return None
        if member not in options:
            self.error(key, f"{value} is not allowed {what}; use one of {names}")
            return None
        return member

    def day(self, key: str) -> date | None:
        """A date as ``YYYY-MM-DD`` (absent or null: none)."""
        if not self.given(key):
            return None
        value = self.raw[key]
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and _DATE_RE.fullmatch(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.error(key, f"{value!r} is not a date; use YYYY-MM-DD")
        return None

    def clock(self, key: str) -> time | None:
        """A time of day as ``HH:MM`` (24-hour; absent or null: none)."""
        if not self.given(key):
            return None
        value = self.raw[key]
        if isinstance(value, str) and _TIME_RE.fullmatch(value.strip()):
            return time.fromisoformat(value.strip())
        self.error(key, f"{value!r} is not a time of day; use HH:MM (24-hour)")
        return None

    # -- nested ---------------------------------------------------------------------------------
    def child(self, key: str) -> Fields | None:
        """The nested object at ``key`` (absent or null: ``None``, no error)."""
        if not self.given(key):
            return None
        return as_fields(self.raw[key], self.path(key), self.problems)

    def elements(
        self, key: str, *, required: bool = True, non_empty: bool = False
    ) -> Iterator[tuple[str, Any]]:
        """Each element of the list at ``key`` with its path (``tiers[1]``)."""
        if not self._present(key, required):
            return
        value = self.raw[key]
        if not isinstance(value, list | tuple):
            self.error(key, "must be a list")
            return
        if non_empty and not value:
            self.error(key, "must not be empty")
        base = self.path(key)
        for i, element in enumerate(value):
            yield join(base, i), element


def code_problem(value: object, max_length: int = MAX_CODE) -> str | None:
    """Why ``value`` cannot be a code, or ``None``: 1–64 (or ``max_length``) of letters,
    digits, ``.``, ``_``, ``-``."""
    if not isinstance(value, str):
        return "must be a string"
    if not value:
        return "must not be empty"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if not _CODE_RE.fullmatch(value):
        return "use letters, digits, '.', '_' or '-' only"
    return None
