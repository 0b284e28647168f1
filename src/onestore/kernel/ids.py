"""Identifiers.

Ids are ULIDs as 26-character strings: sortable by creation time (good index locality on both
PostgreSQL and SQLite) and safe for a client or an offline store node to make itself. A client's
id is stored and honoured; numbers shown to people (order numbers, receipts) are separate.
"""

from __future__ import annotations

import re

from ulid import ULID

# 26 Crockford base32 digits; the first is at most 7 because a ULID is 128 bits.
_ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def new_id() -> str:
    return str(ULID())


def is_id(value: str) -> bool:
    return bool(_ULID_RE.fullmatch(value))
