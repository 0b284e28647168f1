"""Identifiers.

Ids are ULIDs as 26-character strings: sortable by creation time (good index locality on both
PostgreSQL and SQLite) and safe for a client or an offline store node to make itself. A client's
id is stored and honoured; numbers shown to people (order numbers, receipts) are separate.
"""

from __future__ import annotations

import re
import threading

from ulid import ULIDGenerator

# 26 Crockford base32 digits; the first is at most 7 because a ULID is 128 bits.
_ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def new_id() -> str:
    """A new ULID, strictly increasing within each thread (a unit of work's rows and events
    sort in the order they were made).

    One generator per thread, not the library's process-wide one: that one holds a single lock
    around an ``os.urandom`` call, and a system call under a lock is where threads queue on a
    busy server — the event loop waited on the reservation desk's thread, which makes dozens of
    ids per batch. Across threads, ids made in the same millisecond have no order to keep."""
    generator: ULIDGenerator | None = getattr(_local, "generator", None)
    if generator is None:
        generator = _local.generator = ULIDGenerator()
    return str(generator.generate())


_local = threading.local()


def is_id(value: str) -> bool:
    return bool(_ULID_RE.fullmatch(value))
