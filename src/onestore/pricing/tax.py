"""Sales tax / VAT on priced lines: which rate applies, and how much tax each line carries.

Pure: standard library, the kernel and the pricing model only; the caller passes the day (no
clock) and every candidate :class:`TaxRate` (no database).

Two rounding conventions are in use and they can differ by a minor unit on the same basket,
which is why the channel chooses (``PricingContext.tax_rounding``) and the tests pin both:

* ``LINE``: each line's tax is rounded on its own. That is what a retail receipt prints per
  line, so the printed line taxes add up to the printed total.
* ``DOCUMENT``: per rate, the unrounded taxes are summed and rounded once, as many EU invoices
  show "VAT 19 %: x". The rounded total is then shared back over the lines (largest remainder,
  by net) so the line taxes still add up to it exactly.

Three lines of 0.99 EUR at 19 % on top: per line 3 × 0.19 = 0.57, per document
2.97 × 19 % = 0.5643 → 0.56. The share-back is proportional to the rounded total, so a line
may land up to one minor unit from its own rounding, even a line whose exact tax is round:
0.09, 0.09 and 1.00 EUR at 19 % get 0.02, 0.02 and 0.18 (total 0.2242 → 0.22).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from onestore.kernel.errors import ValidationFailed
from onestore.kernel.money import Money
from onestore.pricing.model import TaxRate, TaxRounding

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class LineTax:
    """The tax of one line, in the order of the nets given to :func:`compute_taxes`."""

    rate: Decimal | None  # percent; None when the line has no tax group or no rate was found
    tax: Money  # inside the net (prices include tax) or on top of it (they do not)


def _levels(jurisdiction: str) -> list[str]:
    """``"US-CA"`` → ``["US-CA", "US"]``: the most specific jurisdiction first."""
    parts = jurisdiction.strip().upper().split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _in_force(rate: TaxRate, day: date) -> bool:
    return (rate.valid_from is None or rate.valid_from <= day) and (
        rate.valid_to is None or day <= rate.valid_to
    )


def rate_for(
    rates: Sequence[TaxRate], tax_group: str | None, jurisdiction: str | None, day: date
) -> Decimal | None:
    """The percent rate of ``tax_group`` in ``jurisdiction`` on ``day``, or ``None``.

    The most specific jurisdiction with a rate in force wins: a rate for ``"US-CA"`` beats one
    for ``"US"``, which still covers the states that have none of their own. Validity dates are
    inclusive at both ends; a missing end is open. Two rates in force on the same day for the
    same group and jurisdiction are a data error (which one the customer pays would depend on
    load order), so that raises :class:`ValidationFailed` naming ``tax_rates``.
    """
    if not tax_group or not jurisdiction:
        return None
    for level in _levels(jurisdiction):
        found = [
            r
            for r in rates
            if r.tax_group == tax_group
            and r.jurisdiction.strip().upper() == level
            and _in_force(r, day)
        ]
        if len(found) > 1:
            raise ValidationFailed.on(
                "tax_rates",
                f"{len(found)} rates for tax group {tax_group!r} in {level} overlap on "
                f"{day.isoformat()}; validity periods must not overlap",
            )
        if found:
            return found[0].rate
    return None


def overlapping(rates: Sequence[TaxRate]) -> tuple[TaxRate, TaxRate] | None:
    """Two rates of one tax group and jurisdiction in force on a common day — (the one that
    starts later, the other) — or ``None``. An open start or end reaches as far as it can."""
    by_key: dict[tuple[str, str], list[TaxRate]] = {}
    for rate in rates:
        by_key.setdefault((rate.tax_group, rate.jurisdiction.strip().upper()), []).append(rate)
    for group in by_key.values():
        group.sort(key=lambda r: r.valid_from or date.min)
        for earlier, later in pairwise(group):
            if earlier.valid_to is None or (later.valid_from or date.min) <= earlier.valid_to:
                return later, earlier
    return None


def overlap_reason(later: TaxRate, earlier: TaxRate) -> str:
    def span(r: TaxRate) -> str:
        start = r.valid_from.isoformat() if r.valid_from else "open start"
        return f"{start} to {r.valid_to.isoformat() if r.valid_to else 'open end'}"

    return (
        f"tax group {later.tax_group!r} in {later.jurisdiction} would have two rates on one "
        f"day ({span(later)} and {span(earlier)}); validity periods must not overlap"
    )


def _exact_tax(net: Decimal, rate: Decimal, prices_include_tax: bool) -> Decimal:
    """Unrounded tax: inside a tax-inclusive amount, or on top of a tax-exclusive one."""
    return net * rate / (_HUNDRED + rate) if prices_include_tax else net * rate / _HUNDRED


def compute_taxes(
    nets: Sequence[Money],
    tax_groups: Sequence[str | None],
    rates: Sequence[TaxRate],
    *,
    jurisdiction: str | None,
    day: date,
    prices_include_tax: bool,
    rounding: TaxRounding,
) -> list[LineTax]:
    """One :class:`LineTax` per net (line ``i`` has ``nets[i]`` and ``tax_groups[i]``).

    A net is what the line costs after discounts, in the channel's tax mode: with
    ``prices_include_tax`` the tax is the part ``rate / (100 + rate)`` of it, otherwise it is
    ``rate / 100`` on top. Lines without a tax group, or without a rate in force, carry a zero
    tax and rate ``None``. Negative nets (returns) give negative taxes, mirrored exactly: half-up
    rounds ties away from zero, so a return refunds the very tax the sale charged.
    """
    if len(nets) != len(tax_groups):
        raise ValueError(f"{len(nets)} nets but {len(tax_groups)} tax groups")
    if not nets:
        return []
    currency = nets[0].currency
    if any(net.currency != currency for net in nets):
        raise ValueError(
            f"all nets must be in one currency, got {sorted({n.currency for n in nets})}"
        )

    known: dict[str | None, Decimal | None] = {}
    line_rates: list[Decimal | None] = []
    for group in tax_groups:
        if group not in known:
            known[group] = rate_for(rates, group, jurisdiction, day)
        line_rates.append(known[group])

    zero = Money.zero(currency)
    result = [  # LINE rounding, and the fallback of DOCUMENT
        zero
        if rate is None
        else Money(_exact_tax(net.amount, rate, prices_include_tax), currency).rounded()
        for net, rate in zip(nets, line_rates, strict=True)
    ]
    if rounding is TaxRounding.DOCUMENT:
        by_rate: dict[Decimal, list[int]] = {}
        for i, rate in enumerate(line_rates):
            if rate is not None:
                by_rate.setdefault(rate, []).append(i)  # Decimal("19") == Decimal("19.0")
        for rate, lines in by_rate.items():
            amounts = [nets[i].amount for i in lines]
            if any(a > 0 for a in amounts) and any(a < 0 for a in amounts):
                # A sale and a return at the same rate (an exchange). Allocate gives every
                # part the sign of the total, weighted by |net|: +100 and -100 would both get
                # a zero tax, and a larger sale would push a positive tax onto the return.
                # No honest share-back exists, so these lines keep their own rounding; their
                # sum may differ from the rounded per-rate total (by at most half a unit a line).
                continue
            if not any(amounts):
                continue  # every net is zero: every tax already is
            # The sum of the unrounded line taxes is the rate's factor times the sum of the
            # nets; one division on the exact (decimal) sum of nets cannot land a hair below a
            # half unit the way adding up many 28-digit quotients can.
            total = Money(_exact_tax(sum(amounts, Decimal(0)), rate, prices_include_tax), currency)
            shares = total.rounded().allocate([abs(a) for a in amounts])
            for i, share in zip(lines, shares, strict=True):
                result[i] = share
    return [LineTax(rate, tax) for rate, tax in zip(line_rates, result, strict=True)]
