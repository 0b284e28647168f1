"""Money: a ``Decimal`` amount with an ISO 4217 currency.

Minor units come from Babel's CLDR data (JPY 0, EUR 2, KWD 3), so adding a currency needs no
code. Amounts are never floats: constructing ``Money`` from a float is an error, because a float
has already lost the cents. All rounding goes through :meth:`Money.rounded` (half-up, the
retail convention), and splitting an amount over lines goes through :meth:`Money.allocate`,
which hands out remainders so the parts always sum to the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from onestore.kernel.errors import ValidationFailed

MAX_AMOUNT = Decimal("999999999999.9999")
"""Largest absolute amount accepted anywhere; keeps values inside NUMERIC(18, 4)."""


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def validate_currency(code: object, field: str = "currency") -> str:
    """Return the upper-case ISO 4217 code or raise naming ``field``."""
    if not isinstance(code, str):
        raise ValidationFailed.on(field, "must be a three-letter ISO 4217 currency code")
    upper = code.strip().upper()
    if len(upper) != 3 or upper not in _currencies():
        raise ValidationFailed.on(field, f"unknown currency {code!r}; use an ISO 4217 code")
    return upper


@cache
def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (JPY 0, USD 2, KWD 3)."""
    return int(get_currency_precision(currency))


def parse_amount(value: object, field: str = "amount") -> Decimal:
    """Parse a money amount given as a decimal string (or Decimal/int), refusing floats.

    JSON numbers reach us as ``Decimal`` only when the request parser was told to keep them
    exact; callers that accept JSON decide whether to allow that. Here a Python ``float`` is
    always refused because its value is already inexact.
    """
    if isinstance(value, bool | float):
        raise ValidationFailed.on(field, 'must be a decimal string such as "12.50", not a float')
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationFailed.on(field, f"{value!r} is not a decimal number") from None
    else:
        raise ValidationFailed.on(field, 'must be a decimal string such as "12.50"')
    if not amount.is_finite():
        raise ValidationFailed.on(field, "must be a finite number")
    if abs(amount) > MAX_AMOUNT:
        raise ValidationFailed.on(field, f"must be at most {MAX_AMOUNT} in absolute value")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be Decimal, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError("Money amount must be finite")
        if self.currency not in _currencies():
            raise ValueError(f"unknown currency {self.currency!r}")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def of(cls, amount: object, currency: object, *, field: str = "amount") -> Money:
        """Build from user input, raising :class:`ValidationFailed` that names the field.

        The amount may not have more decimals than the currency allows (12.345 EUR is refused),
        so nothing is silently rounded on the way in.
        """
        code = validate_currency(
            currency, field=f"{field}.currency" if field != "amount" else "currency"
        )
        value = parse_amount(amount, field)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > minor_units(code):
            raise ValidationFailed.on(
                field, f"{code} allows at most {minor_units(code)} decimal places"
            )
        return cls(value.quantize(Decimal(1).scaleb(-minor_units(code))), code)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0).quantize(Decimal(1).scaleb(-minor_units(currency))), currency)

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        return cls(Decimal(units).scaleb(-minor_units(currency)), currency)

    # -- arithmetic ---------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise TypeError("Money can be multiplied by int or Decimal only")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    # -- rounding and splitting -----------------------------------------------------------
    @property
    def minor_units(self) -> int:
        return minor_units(self.currency)

    def rounded(self) -> Money:
        """Round half-up to the currency's minor unit."""
        quantum = Decimal(1).scaleb(-self.minor_units)
        return Money(self.amount.quantize(quantum, rounding=ROUND_HALF_UP), self.currency)

    def to_minor(self) -> int:
        """The amount in minor units; the amount must already be rounded."""
        scaled = self.amount.scaleb(self.minor_units)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{self} has more precision than {self.currency} allows")
        return int(scaled)

    def allocate(self, weights: list[Decimal] | list[int]) -> list[Money]:
        """Split this (rounded) amount in proportion to ``weights``; the parts sum exactly.

        Largest-remainder method: each part is floored to the minor unit, then the leftover
        minor units go to the parts with the biggest remainders (ties to the earliest part), so
        the result is deterministic and never drifts by a cent.
        """
        if not weights:
            raise ValueError("allocate needs at least one weight")
        total_weight = sum(Decimal(w) for w in weights)
        if total_weight <= 0 or any(Decimal(w) < 0 for w in weights):
            raise ValueError("weights must be non-negative with a positive sum")
        total = self.rounded().to_minor()
        sign = -1 if total < 0 else 1
        units = abs(total)
        exact = [Decimal(units) * Decimal(w) / total_weight for w in weights]
        floors = [int(x) for x in exact]
        leftover = units - sum(floors)
        order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:leftover]:
            floors[i] += 1
        return [Money.from_minor(sign * f, self.currency) for f in floors]

    def __str__(self) -> str:
        return f"{self.amount:.{self.minor_units}f} {self.currency}"

    def as_json(self) -> dict[str, str]:
        """Wire form: the amount as a string with the currency's decimals, never a number."""
        return {
            "amount": f"{self.rounded().amount:.{self.minor_units}f}",
            "currency": self.currency,
        }
