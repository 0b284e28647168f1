"""An exhaustive oracle for the best-price search, for tests only.

It subclasses the search and removes the two places where the real search may choose units by
ranking: every set offer tries every choice of units whatever its size, and a quantity tier
tries every subset of lines. On small baskets it therefore finds the true best price, and the
property tests check the real search reaches the same total.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from onestore.pricing import engine
from onestore.pricing.model import PricedBasket
from onestore.pricing.search import Level

ZERO = Decimal(0)


class ExhaustiveLevel(Level):
    ENUMERATION_LIMIT = 10**12
    BEAM = 10**12


def exhaustive_price(*args: Any, **kwargs: Any) -> PricedBasket:
    """``engine.price`` with the exhaustive search and no state budget."""
    return engine.price(*args, search_states=10**7, search=ExhaustiveLevel, **kwargs)
