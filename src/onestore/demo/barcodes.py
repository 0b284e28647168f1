"""EAN-13 barcodes for demo variants.

Numbers are handed out in sequence from GS1's documentation example company prefix 0614141:
made up, yet shaped exactly like a real manufacturer's block, so scanners, check-digit
validation and GTIN-14 normalisation treat them as they would real goods. Past 100,000
variants the sequence simply runs on into the next prefix (0614142…), which keeps every
scale unique without a registry of used numbers.
"""

from __future__ import annotations

from onestore.catalog.model import with_check_digit

FIRST_BODY = 61414100000
"""The first twelve digits (``0614141`` + ``00000``) before the check digit."""


def ean13(sequence: int) -> str:
    """The ``sequence``-th demo barcode (0-based), check digit included."""
    if sequence < 0:
        raise ValueError("sequence must be non-negative")
    body = f"{FIRST_BODY + sequence:012d}"
    if len(body) != 12:
        raise ValueError("demo barcode range exhausted")
    return with_check_digit(body)
