"""Identifiers.

Ids are ULIDs as 26-character strings: sortable by creation time (good index locality on both
PostgreSQL and SQLite) and safe for a client or an offline store node to make itself. A client's
id is stored and honoured; numbers shown to people (order numbers, receipts) are separate.
"""

from __future__ import annotations

import os
import re
import time

from ulid import ULID

# 26 Crockford base32 digits; the first is at most 7 because a ULID is 128 bits.
_ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def new_id() -> str:
    """A new ULID: the millisecond now and 80 random bits.

    Made here rather than with ``ULID()``: the library's generator holds one process-wide lock
    around an ``os.urandom`` call (to keep ids strictly increasing within a millisecond), and
    a system call under a lock is where threads queue on a busy server — the event loop waited
    on the reservation desk's thread, which makes dozens of ids per batch. Nothing here needs
    that strictness: ids order by their millisecond, and ties only need to be unique."""
    millis = time.time_ns() // 1_000_000
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + os.urandom(10)))


def is_id(value: str) -> bool:
    return bool(_ULID_RE.fullmatch(value))
